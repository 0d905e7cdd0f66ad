package eventsv2_test

import (
	"bytes"
	"encoding/json"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/ingest/eventsv2"
	"github.com/klaxon-oss/klaxon/internal/ingest/ingesttest"
)

// fixtures returns the real payloads in testdata/ (see the package's
// testdata and /work/shared/fixtures/README.md, where they were captured).
func fixtures(t testing.TB) map[string][]byte { return ingesttest.Fixtures(t) }

// rawDetails returns payload.custom_details exactly as it appears in body.
func rawDetails(t *testing.T, body []byte) json.RawMessage {
	t.Helper()
	var raw struct {
		Payload struct {
			CustomDetails json.RawMessage `json:"custom_details"`
		} `json:"payload"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatal(err)
	}
	return raw.Payload.CustomDetails
}

var generatedKey = regexp.MustCompile(`^[0-9a-f]{32}$`)

func TestDecodeFixtures(t *testing.T) {
	all := fixtures(t)
	const amClientURL = "http://127.0.0.1:43677/#/alerts?receiver=pagerduty"
	tests := []struct {
		file        string
		action      klaxon.Action
		key         string // "" means generated
		severity    string
		summary     string
		labels      map[string]string
		annotations map[string]string
		links       []klaxon.Link
		sourceURL   string
		startsAt    time.Time
		hasDetails  bool
	}{
		{
			file: "am-pagerduty-v2-trigger.json", action: klaxon.ActionTrigger,
			key:      "60249a47b443e521d84f3db5375fd5bfa8307b1b41e2f4f5c6d2e7f5c58c4779",
			severity: "critical", summary: "[FIRING:2] KubePodCrashLooping payments (am-fire critical)",
			labels: map[string]string{"alertname": "KubePodCrashLooping", "class": "KubePodCrashLooping",
				"source": "Alertmanager", "group": "payments", "severity": "critical"},
			annotations: map[string]string{"summary": "[FIRING:2] KubePodCrashLooping payments (am-fire critical)", "client": "Alertmanager"},
			sourceURL:   amClientURL, hasDetails: true,
		},
		{
			file: "am-pagerduty-v2-trigger-amtool.json", action: klaxon.ActionTrigger,
			key:      "fb00e05fade85426bda12e4063e2a044a037662fbb1d1c50bacdb69a79cca517",
			severity: "critical", summary: "[FIRING:1] InjectedDiskFull db (postgres-0 critical)",
			labels: map[string]string{"alertname": "InjectedDiskFull", "class": "InjectedDiskFull",
				"source": "Alertmanager", "component": "postgres-0", "group": "db", "severity": "critical"},
			annotations: map[string]string{"summary": "[FIRING:1] InjectedDiskFull db (postgres-0 critical)", "client": "Alertmanager"},
			sourceURL:   amClientURL, hasDetails: true,
		},
		{
			file: "am-pagerduty-v2-resolve.json", action: klaxon.ActionResolve,
			key:      "60249a47b443e521d84f3db5375fd5bfa8307b1b41e2f4f5c6d2e7f5c58c4779",
			severity: "critical", summary: "[RESOLVED] KubePodCrashLooping payments (am-fire critical)",
			labels: map[string]string{"alertname": "KubePodCrashLooping", "class": "KubePodCrashLooping",
				"source": "Alertmanager", "group": "payments", "severity": "critical"},
			annotations: map[string]string{"summary": "[RESOLVED] KubePodCrashLooping payments (am-fire critical)", "client": "Alertmanager"},
			sourceURL:   amClientURL, hasDetails: true,
		},
		{
			file: "am-pagerduty-v2-resolve-amtool.json", action: klaxon.ActionResolve,
			key:      "fb00e05fade85426bda12e4063e2a044a037662fbb1d1c50bacdb69a79cca517",
			severity: "critical", summary: "[RESOLVED] InjectedDiskFull db (postgres-0 critical)",
			labels: map[string]string{"alertname": "InjectedDiskFull", "class": "InjectedDiskFull",
				"source": "Alertmanager", "component": "postgres-0", "group": "db", "severity": "critical"},
			annotations: map[string]string{"summary": "[RESOLVED] InjectedDiskFull db (postgres-0 critical)", "client": "Alertmanager"},
			sourceURL:   amClientURL, hasDetails: true,
		},
		{
			file: "go-pagerduty-v2-trigger.json", action: klaxon.ActionTrigger,
			key:      "", // none sent: generated
			severity: "critical", summary: "DISK at 99% on db-1",
			labels: map[string]string{"alertname": "disk", "class": "disk", "source": "db-1.example.internal",
				"component": "postgres", "group": "db", "severity": "critical"},
			annotations: map[string]string{"summary": "DISK at 99% on db-1", "client": "go-pagerduty acceptance harness"},
			links:       []klaxon.Link{{Href: "https://runbooks.example.test/disk-full", Text: "runbook"}},
			sourceURL:   "http://127.0.0.1/harness",
			startsAt:    time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
			hasDetails:  true,
		},
		{
			file: "go-pagerduty-v2-acknowledge.json", action: klaxon.ActionAcknowledge,
			key: "generated-dedup-key-1",
		},
		{
			file: "go-pagerduty-v2-resolve.json", action: klaxon.ActionResolve,
			key: "generated-dedup-key-1",
		},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		seen[tt.file] = true
		t.Run(tt.file, func(t *testing.T) {
			b, ok := all[tt.file]
			if !ok {
				t.Fatalf("testdata/%s missing", tt.file)
			}
			e, s, err := eventsv2.Decode(b)
			if err != nil {
				t.Fatalf("Decode: got error %v, want nil", err)
			}
			if e.RoutingKey != "R0123456789ABCDEF0123456789ABCDE" {
				t.Errorf("RoutingKey: got %q, want R0123456789ABCDEF0123456789ABCDE", e.RoutingKey)
			}
			if s.Action != tt.action {
				t.Errorf("Action: got %q, want %q", s.Action, tt.action)
			}
			switch {
			case tt.key == "" && !generatedKey.MatchString(s.Key):
				t.Errorf("Key: got %q, want a generated 32-hex key", s.Key)
			case tt.key != "" && s.Key != tt.key:
				t.Errorf("Key: got %q, want dedup_key %q", s.Key, tt.key)
			}
			if e.DedupKey != s.Key {
				t.Errorf("Event.DedupKey: got %q, want the signal's key %q (returned to the sender)", e.DedupKey, s.Key)
			}
			if s.Severity != tt.severity {
				t.Errorf("Severity: got %q, want %q", s.Severity, tt.severity)
			}
			if s.Summary != tt.summary {
				t.Errorf("Summary: got %q, want %q", s.Summary, tt.summary)
			}
			if !maps.Equal(s.Labels, tt.labels) {
				t.Errorf("Labels: got %v, want %v", s.Labels, tt.labels)
			}
			if !maps.Equal(s.Annotations, tt.annotations) {
				t.Errorf("Annotations: got %v, want %v", s.Annotations, tt.annotations)
			}
			if !slices.Equal(s.Links, tt.links) {
				t.Errorf("Links: got %v, want %v", s.Links, tt.links)
			}
			if s.SourceURL != tt.sourceURL {
				t.Errorf("SourceURL: got %q, want %q", s.SourceURL, tt.sourceURL)
			}
			if !s.StartsAt.Equal(tt.startsAt) {
				t.Errorf("StartsAt: got %v, want %v", s.StartsAt, tt.startsAt)
			}
			if !s.StartsAt.IsZero() && s.StartsAt.Location() != time.UTC {
				t.Errorf("StartsAt location: got %v, want UTC", s.StartsAt.Location())
			}
			if tt.hasDetails {
				// Verbatim: byte for byte what the sender wrote, spacing included.
				if want := rawDetails(t, b); !bytes.Equal(s.Details, want) {
					t.Errorf("Details:\ngot  %s\nwant %s", s.Details, want)
				}
			} else if s.Details != nil {
				t.Errorf("Details: got %s, want nil", s.Details)
			}
		})
	}
	for name := range all {
		if !seen[name] {
			t.Errorf("testdata/%s has no expectations in TestDecodeFixtures", name)
		}
	}
}

func TestDecodeGeneratesDistinctKeys(t *testing.T) {
	b := fixtures(t)["go-pagerduty-v2-trigger.json"]
	_, s1, err1 := eventsv2.Decode(b)
	_, s2, err2 := eventsv2.Decode(b)
	if err1 != nil || err2 != nil {
		t.Fatalf("Decode: got errors %v, %v", err1, err2)
	}
	if s1.Key == s2.Key {
		t.Errorf("generated keys: got %q twice, want a fresh key per trigger (PagerDuty: a trigger without dedup_key always opens a new alert)", s1.Key)
	}
}

// trigger returns a valid trigger body with payload fields replaced or
// added by extra (raw JSON members, without braces).
func trigger(payload string, extra ...string) []byte {
	members := append([]string{`"routing_key":"R0123456789ABCDEF0123456789ABCDE"`, `"event_action":"trigger"`,
		`"payload":{` + payload + `}`}, extra...)
	return []byte("{" + strings.Join(members, ",") + "}")
}

const okPayload = `"summary":"s","source":"h","severity":"info"`

func TestDecodeMapping(t *testing.T) {
	tests := []struct {
		name  string
		body  []byte
		check func(t *testing.T, s klaxon.Signal)
	}{
		{
			name: "images become links: href when set, else src, alt as text",
			body: trigger(okPayload,
				`"links":[{"href":"https://l.example/1","text":"one"}]`,
				`"images":[{"src":"https://img.example/a.png","href":"https://dash.example/a","alt":"A"},{"src":"https://img.example/b.png"}]`),
			check: func(t *testing.T, s klaxon.Signal) {
				want := []klaxon.Link{
					{Href: "https://l.example/1", Text: "one"},
					{Href: "https://dash.example/a", Text: "A"},
					{Href: "https://img.example/b.png"},
				}
				if !slices.Equal(s.Links, want) {
					t.Errorf("Links: got %v, want %v", s.Links, want)
				}
			},
		},
		{
			name: "timestamp with an offset is converted to UTC",
			body: trigger(okPayload + `,"timestamp":"2026-01-02T05:04:05.25+02:00"`),
			check: func(t *testing.T, s klaxon.Signal) {
				want := time.Date(2026, 1, 2, 3, 4, 5, 25e7, time.UTC)
				if !s.StartsAt.Equal(want) || s.StartsAt.Location() != time.UTC {
					t.Errorf("StartsAt: got %v, want %v in UTC", s.StartsAt, want)
				}
			},
		},
		{
			name: "no timestamp leaves StartsAt zero",
			body: trigger(okPayload),
			check: func(t *testing.T, s klaxon.Signal) {
				if !s.StartsAt.IsZero() {
					t.Errorf("StartsAt: got %v, want zero", s.StartsAt)
				}
			},
		},
		{
			name: "no class means no alertname label; empty fields are not labels",
			body: trigger(`"summary":"s","source":"h","severity":"warning","component":"","group":""`),
			check: func(t *testing.T, s klaxon.Signal) {
				want := map[string]string{"source": "h", "severity": "warning"}
				if !maps.Equal(s.Labels, want) {
					t.Errorf("Labels: got %v, want %v", s.Labels, want)
				}
				if want := map[string]string{"summary": "s"}; !maps.Equal(s.Annotations, want) {
					t.Errorf("Annotations: got %v, want %v (no client)", s.Annotations, want)
				}
			},
		},
		{
			name: "custom_details null is no details",
			body: trigger(okPayload + `,"custom_details":null`),
			check: func(t *testing.T, s klaxon.Signal) {
				if s.Details != nil {
					t.Errorf("Details: got %s, want nil", s.Details)
				}
			},
		},
		{
			name: "custom_details string kept verbatim",
			body: trigger(okPayload + `,"custom_details":"free text \u00e9"`),
			check: func(t *testing.T, s klaxon.Signal) {
				if want := `"free text \u00e9"`; string(s.Details) != want {
					t.Errorf("Details: got %s, want %s", s.Details, want)
				}
			},
		},
		{
			name: "dedup_key of exactly 255 characters is accepted",
			body: trigger(okPayload, `"dedup_key":"`+strings.Repeat("k", 255)+`"`),
			check: func(t *testing.T, s klaxon.Signal) {
				if s.Key != strings.Repeat("k", 255) {
					t.Errorf("Key: got %q, want the 255-character dedup_key", s.Key)
				}
			},
		},
		{
			name: "unknown fields are accepted (third-party senders add fields)",
			body: trigger(okPayload+`,"new_payload_field":1`, `"payload_version":"2"`),
			check: func(t *testing.T, s klaxon.Signal) {
				if s.Action != klaxon.ActionTrigger {
					t.Errorf("Action: got %q, want trigger", s.Action)
				}
			},
		},
		{
			name: "acknowledge ignores a payload's missing fields",
			body: []byte(`{"routing_key":"R","event_action":"acknowledge","dedup_key":"k","payload":{}}`),
			check: func(t *testing.T, s klaxon.Signal) {
				if s.Action != klaxon.ActionAcknowledge || s.Key != "k" {
					t.Errorf("got action %q key %q, want acknowledge k", s.Action, s.Key)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, s, err := eventsv2.Decode(tt.body)
			if err != nil {
				t.Fatalf("Decode: got error %v, want nil", err)
			}
			tt.check(t, s)
		})
	}
}

// TestDecodeTimestampFormats: PagerDuty asks for an ISO 8601 timestamp.
func TestDecodeTimestampFormats(t *testing.T) {
	tests := []struct {
		name, ts string
		want     time.Time
	}{
		{"RFC 3339 UTC", "2015-07-17T08:42:58Z", time.Date(2015, 7, 17, 8, 42, 58, 0, time.UTC)},
		{"RFC 3339 milliseconds (go-pagerduty)", "2015-07-17T08:42:58.315Z", time.Date(2015, 7, 17, 8, 42, 58, 315e6, time.UTC)},
		{"RFC 3339 offset", "2015-07-17T10:42:58.315+02:00", time.Date(2015, 7, 17, 8, 42, 58, 315e6, time.UTC)},
		// BUG: the example payload of PagerDuty's own "Send an Alert Event"
		// documentation uses an ISO 8601 offset without a colon; Decode
		// refuses it because it parses with time.RFC3339Nano only.
		{"ISO 8601 offset without colon (PagerDuty docs example)", "2015-07-17T08:42:58.315+0000", time.Date(2015, 7, 17, 8, 42, 58, 315e6, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, s, err := eventsv2.Decode(trigger(okPayload + `,"timestamp":"` + tt.ts + `"`))
			if err != nil {
				t.Fatalf("Decode(timestamp %q): got error %v, want nil", tt.ts, err)
			}
			if !s.StartsAt.Equal(tt.want) {
				t.Errorf("StartsAt: got %v, want %v", s.StartsAt, tt.want)
			}
		})
	}
}

func TestDecodeSummaryTruncated(t *testing.T) {
	tests := []struct {
		name    string
		summary string
		wantLen int
	}{
		{"exactly 1024 bytes kept", strings.Repeat("a", 1024), 1024},
		{"ASCII cut at 1024", strings.Repeat("a", 2000), 1024},
		{"2-byte rune straddling the limit", strings.Repeat("a", 1023) + "é", 1023},
		{"3-byte runes", strings.Repeat("€", 400), 1023},                     // 341 × 3
		{"4-byte runes ending on the limit", strings.Repeat("😀", 300), 1024}, // 256 × 4
		{"4-byte rune straddling the limit", "ab" + strings.Repeat("😀", 300), 1022},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sum, _ := json.Marshal(tt.summary)
			_, s, err := eventsv2.Decode(trigger(`"summary":` + string(sum) + `,"source":"h","severity":"info"`))
			if err != nil {
				t.Fatalf("Decode: got error %v, want nil (long summaries are truncated, not refused)", err)
			}
			if len(s.Summary) != tt.wantLen {
				t.Errorf("len(Summary): got %d, want %d", len(s.Summary), tt.wantLen)
			}
			if !utf8.ValidString(s.Summary) {
				t.Errorf("Summary: got invalid UTF-8 (a rune was split): %q", s.Summary[len(s.Summary)-4:])
			}
			if !strings.HasPrefix(tt.summary, s.Summary) {
				t.Errorf("Summary: got %q…, want a prefix of the input", s.Summary[:16])
			}
			if s.Annotations["summary"] != s.Summary {
				t.Errorf("Annotations[summary]: got %d bytes, want the truncated summary", len(s.Annotations["summary"]))
			}
		})
	}
}

func TestDecodeInvalid(t *testing.T) {
	tests := []struct {
		name string
		body []byte
		want []string // the exact Problems list
	}{
		{"missing routing_key", []byte(`{"event_action":"resolve","dedup_key":"k"}`),
			[]string{"'routing_key' is missing or blank"}},
		{"blank routing_key", []byte(`{"routing_key":"  ","event_action":"resolve","dedup_key":"k"}`),
			[]string{"'routing_key' is missing or blank"}},
		{"missing event_action", []byte(`{"routing_key":"R","dedup_key":"k"}`),
			[]string{"'event_action' is missing or blank"}},
		{"bad event_action", []byte(`{"routing_key":"R","event_action":"explode","dedup_key":"k"}`),
			[]string{`'event_action' must be one of trigger, acknowledge, resolve (got "explode")`}},
		{"event_action is case-sensitive", []byte(`{"routing_key":"R","event_action":"Trigger","payload":{` + okPayload + `}}`),
			[]string{`'event_action' must be one of trigger, acknowledge, resolve (got "Trigger")`}},
		{"trigger without payload", []byte(`{"routing_key":"R","event_action":"trigger"}`),
			[]string{"'payload' is missing (required for trigger)"}},
		{"trigger with null payload", []byte(`{"routing_key":"R","event_action":"trigger","payload":null}`),
			[]string{"'payload' is missing (required for trigger)"}},
		{"missing summary", trigger(`"source":"h","severity":"info"`),
			[]string{"'payload.summary' is missing or blank"}},
		{"blank summary", trigger(`"summary":" \t","source":"h","severity":"info"`),
			[]string{"'payload.summary' is missing or blank"}},
		{"missing source", trigger(`"summary":"s","severity":"info"`),
			[]string{"'payload.source' is missing or blank"}},
		{"bad severity", trigger(`"summary":"s","source":"h","severity":"fatal"`),
			[]string{`'payload.severity' must be one of critical, error, warning, info (got "fatal")`}},
		{"missing severity", trigger(`"summary":"s","source":"h"`),
			[]string{`'payload.severity' must be one of critical, error, warning, info (got "")`}},
		{"acknowledge without dedup_key", []byte(`{"routing_key":"R","event_action":"acknowledge"}`),
			[]string{"'dedup_key' is missing or blank (required for acknowledge)"}},
		{"resolve without dedup_key", []byte(`{"routing_key":"R","event_action":"resolve"}`),
			[]string{"'dedup_key' is missing or blank (required for resolve)"}},
		{"dedup_key longer than 255", trigger(okPayload, `"dedup_key":"`+strings.Repeat("k", 256)+`"`),
			[]string{"'dedup_key' is longer than 255 characters"}},
		{"bad timestamp", trigger(okPayload + `,"timestamp":"yesterday"`),
			[]string{`'payload.timestamp' is not an ISO 8601 time: "yesterday"`}},
		{"several problems at once", []byte(`{"event_action":"trigger","dedup_key":"` + strings.Repeat("k", 300) + `","payload":{"severity":"bad","timestamp":"x"}}`),
			[]string{
				"'routing_key' is missing or blank",
				"'payload.summary' is missing or blank",
				"'payload.source' is missing or blank",
				`'payload.severity' must be one of critical, error, warning, info (got "bad")`,
				`'payload.timestamp' is not an ISO 8601 time: "x"`,
				"'dedup_key' is longer than 255 characters",
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, s, err := eventsv2.Decode(tt.body)
			if err == nil {
				t.Fatalf("Decode: got nil error (signal %+v), want EINVALID", s)
			}
			if e != nil {
				t.Errorf("Decode: got event %+v with an error, want nil", e)
			}
			if got := klaxon.ErrorCode(err); got != klaxon.EINVALID {
				t.Errorf("ErrorCode: got %q, want %q (err %v)", got, klaxon.EINVALID, err)
			}
			ke, ok := err.(*klaxon.Error)
			if !ok {
				t.Fatalf("error: got %T, want *klaxon.Error", err)
			}
			if !slices.Equal(ke.Problems, tt.want) {
				t.Errorf("Problems:\ngot  %q\nwant %q", ke.Problems, tt.want)
			}
			if want := strings.Join(tt.want, "; "); ke.Message != want {
				t.Errorf("Message: got %q, want %q", ke.Message, want)
			}
		})
	}
}

// TestDecodeInvalidJSON: a body that is not an event at all is still
// EINVALID with a message (the HTTP layer answers it as the only problem).
func TestDecodeInvalidJSON(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"empty body", "", "body is empty"},
		{"not JSON", "trigger", "not valid JSON"},
		{"trailing data", `{"routing_key":"R","event_action":"resolve","dedup_key":"k"}]`, "data after the JSON value"},
		{"payload wrong type", `{"routing_key":"R","event_action":"trigger","payload":"s"}`, "payload: got JSON string, want an object"},
		{"links wrong type", `{"routing_key":"R","event_action":"resolve","dedup_key":"k","links":{}}`, "links: got JSON object, want an array"},
		{"NUL in custom_details", string(trigger(okPayload + `,"custom_details":{"a":"\u0000"}`)), "NUL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := eventsv2.Decode([]byte(tt.body))
			if got := klaxon.ErrorCode(err); got != klaxon.EINVALID {
				t.Fatalf("ErrorCode: got %q, want %q (err %v)", got, klaxon.EINVALID, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error: got %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

// TestDecodeDetailsStorable: custom_details is kept verbatim and stored in a
// PostgreSQL jsonb column (SQLite: TEXT). ingest.DecodeJSON refuses \u0000
// because "both stores must accept exactly the same input"; PostgreSQL's
// jsonb refuses these too (checked with psql: "invalid input syntax for
// type json" and "invalid byte sequence for encoding UTF8"), so Decode must
// refuse or repair them rather than let only one store fail.
func TestDecodeDetailsStorable(t *testing.T) {
	tests := []struct {
		name, details string
	}{
		{"lone surrogate escape", `{"a":"\ud800"}`},
		{"invalid UTF-8 byte", `{"a":"` + "\xff" + `"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, s, err := eventsv2.Decode(trigger(okPayload + `,"custom_details":` + tt.details))
			if err != nil {
				if klaxon.ErrorCode(err) != klaxon.EINVALID {
					t.Fatalf("ErrorCode: got %q, want %q", klaxon.ErrorCode(err), klaxon.EINVALID)
				}
				return // refused: fine
			}
			if !storableJSON(s.Details) {
				t.Errorf("Details: got %q accepted verbatim, which PostgreSQL jsonb refuses; want EINVALID or repaired details", s.Details)
			}
		})
	}
}

// storableJSON reports whether PostgreSQL's jsonb would take b: valid
// UTF-8, and no \u0000 or unpaired surrogate escapes.
func storableJSON(b []byte) bool {
	if !utf8.Valid(b) || !json.Valid(b) {
		return false
	}
	s := string(b)
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			continue
		}
		i++ // the escaped character
		if i >= len(s) || s[i] != 'u' || i+4 >= len(s) {
			continue
		}
		var r rune
		for _, c := range s[i+1 : i+5] {
			r = r<<4 | hexVal(c)
		}
		switch {
		case r == 0:
			return false
		case r >= 0xD800 && r < 0xDC00: // high surrogate: a low one must follow
			if i+10 >= len(s) || s[i+5] != '\\' || s[i+6] != 'u' {
				return false
			}
			var lo rune
			for _, c := range s[i+7 : i+11] {
				lo = lo<<4 | hexVal(c)
			}
			if lo < 0xDC00 || lo > 0xDFFF {
				return false
			}
			i += 10
		case r >= 0xDC00 && r <= 0xDFFF:
			return false
		default:
			i += 4
		}
	}
	return true
}

func hexVal(c rune) rune {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10
	}
	return 0
}

// FuzzDecode checks that Decode never panics and either returns a signal
// the rest of Klaxon can rely on or an EINVALID error with a message.
func FuzzDecode(f *testing.F) {
	for _, b := range fixtures(f) {
		f.Add(b)
		f.Add(b[:len(b)/2])
		f.Add(bytes.Replace(b, []byte(`"event_action":"trigger"`), []byte(`"event_action":"acknowledge"`), 1))
		f.Add(bytes.Replace(b, []byte(`"severity":"critical"`), []byte(`"severity":"fatal"`), 1))
		f.Add(bytes.Replace(b, []byte(`"dedup_key"`), []byte(`"dedup_key_"`), 1))
	}
	f.Add([]byte(""))
	f.Add([]byte("{}"))
	f.Add(trigger(`"summary":"` + strings.Repeat("é", 600) + `","source":"h","severity":"info","timestamp":"2026-01-02T03:04:05+01:00"`))
	f.Add(trigger(okPayload+`,"custom_details":{"a":[1,{"b":null}]}`, `"images":[{"src":"x"}]`, `"links":[{"href":"y"}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, s, err := eventsv2.Decode(b)
		if err != nil {
			if code := klaxon.ErrorCode(err); code != klaxon.EINVALID {
				t.Fatalf("ErrorCode: got %q, want %q (err %v)", code, klaxon.EINVALID, err)
			}
			if err.Error() == "" {
				t.Fatal("error message: got empty, want the problem named")
			}
			if e != nil {
				t.Fatalf("got an event with error %v", err)
			}
			return
		}
		if e == nil {
			t.Fatal("got nil event and nil error")
		}
		if s.Key == "" || s.Key != e.DedupKey {
			t.Errorf("Key: got %q (dedup_key %q), want the non-empty dedup_key", s.Key, e.DedupKey)
		}
		if len(s.Key) > 255 {
			t.Errorf("Key: got %d bytes, want at most 255", len(s.Key))
		}
		switch s.Action {
		case klaxon.ActionTrigger:
			if s.Labels == nil || s.Annotations == nil {
				t.Errorf("trigger: got Labels %v Annotations %v, want non-nil maps", s.Labels, s.Annotations)
			}
			if strings.TrimSpace(s.Summary) == "" {
				t.Errorf("trigger: got blank Summary")
			}
		case klaxon.ActionAcknowledge, klaxon.ActionResolve:
		default:
			t.Errorf("Action: got %q, want trigger, acknowledge or resolve", s.Action)
		}
		if len(s.Summary) > 1024 {
			t.Errorf("Summary: got %d bytes, want at most 1024", len(s.Summary))
		}
		strs := []string{s.Key, s.Summary, s.Severity, s.SourceURL}
		for k, v := range s.Labels {
			strs = append(strs, k, v)
		}
		for k, v := range s.Annotations {
			strs = append(strs, k, v)
		}
		for _, l := range s.Links {
			strs = append(strs, l.Href, l.Text)
		}
		for _, v := range strs {
			if strings.ContainsRune(v, 0) || !utf8.ValidString(v) {
				t.Errorf("got %q, which PostgreSQL cannot store (NUL or invalid UTF-8)", v)
			}
		}
		if s.Details != nil && !json.Valid(s.Details) {
			t.Errorf("Details: got invalid JSON %q", s.Details)
		}
	})
}
