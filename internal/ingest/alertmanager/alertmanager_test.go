package alertmanager_test

import (
	"encoding/json"
	"maps"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/ingest/alertmanager"
	"github.com/klaxon-oss/klaxon/internal/ingest/ingesttest"
)

// fixtures returns the real payloads in testdata/ (see the package's
// testdata and /work/shared/fixtures/README.md, where they were captured).
func fixtures(t testing.TB) map[string][]byte { return ingesttest.Fixtures(t) }

// rawAlert is an independent, loosely typed reading of one alert, to check
// the decoder against.
type rawAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     string            `json:"startsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// TestDecodeEveryFixture checks every captured body against an independent
// reading of the same JSON.
func TestDecodeEveryFixture(t *testing.T) {
	for name, body := range fixtures(t) {
		t.Run(name, func(t *testing.T) {
			m, signals, err := alertmanager.Decode(body)
			if err != nil {
				t.Fatalf("Decode: got error %v, want nil", err)
			}
			var raw struct {
				Alerts []rawAlert `json:"alerts"`
			}
			if err := json.Unmarshal(body, &raw); err != nil {
				t.Fatal(err)
			}
			if got, want := len(signals), len(raw.Alerts); got != want {
				t.Fatalf("got %d signals, want %d", got, want)
			}
			if got, want := len(m.Alerts), len(raw.Alerts); got != want {
				t.Fatalf("got %d message alerts, want %d", got, want)
			}
			for i, s := range signals {
				r := raw.Alerts[i]
				if s.Key != r.Fingerprint {
					t.Errorf("[%d] Key: got %q, want fingerprint %q", i, s.Key, r.Fingerprint)
				}
				wantAction := klaxon.ActionTrigger
				if r.Status == "resolved" {
					wantAction = klaxon.ActionResolve
				}
				if s.Action != wantAction {
					t.Errorf("[%d] Action: got %q, want %q (status %q)", i, s.Action, wantAction, r.Status)
				}
				if !maps.Equal(s.Labels, r.Labels) {
					t.Errorf("[%d] Labels: got %v, want %v", i, s.Labels, r.Labels)
				}
				if !maps.Equal(s.Annotations, r.Annotations) {
					t.Errorf("[%d] Annotations: got %v, want %v", i, s.Annotations, r.Annotations)
				}
				if want := r.Annotations["summary"]; s.Summary != want {
					t.Errorf("[%d] Summary: got %q, want the summary annotation %q", i, s.Summary, want)
				}
				if s.SourceURL != r.GeneratorURL {
					t.Errorf("[%d] SourceURL: got %q, want generatorURL %q", i, s.SourceURL, r.GeneratorURL)
				}
				wantStart, err := time.Parse(time.RFC3339Nano, r.StartsAt)
				if err != nil {
					t.Fatal(err)
				}
				if !s.StartsAt.Equal(wantStart) {
					t.Errorf("[%d] StartsAt: got %v, want %v", i, s.StartsAt, wantStart)
				}
				if s.StartsAt.Location() != time.UTC {
					t.Errorf("[%d] StartsAt location: got %v, want UTC", i, s.StartsAt.Location())
				}
				if s.Severity != "" {
					t.Errorf("[%d] Severity: got %q, want empty (left to the severity label)", i, s.Severity)
				}
			}
		})
	}
}

// TestDecodeFixtures pins what each captured notification means.
func TestDecodeFixtures(t *testing.T) {
	all := fixtures(t)
	const crashURL = "http://127.0.0.1:52111/graph?g0.expr=%28label_replace%28vector%281%29%2C+%22pod%22%2C+%22payments-api-7d9f8b6c5-x2x7k%22%2C+%22%22%2C+%22%22%29+or+label_replace%28vector%281%29%2C+%22pod%22%2C+%22payments-api-7d9f8b6c5-q8w4z%22%2C+%22%22%2C+%22%22%29%29+%3E+0&g0.tab=1"
	type wantSignal struct {
		key, summary, pod, severity, sourceURL string
		action                                 klaxon.Action
		startsAt                               string
	}
	tests := []struct {
		file      string
		status    string
		groupKey  string
		truncated int
		signals   []wantSignal
	}{
		{
			file: "am-webhook-v4-firing.json", status: "firing",
			groupKey: `{}/{}:{alertname="KubePodCrashLooping", namespace="payments"}`,
			signals: []wantSignal{
				{key: "c17da6d1a7af8f8b", action: klaxon.ActionTrigger, summary: "Pod is crash looping.", pod: "payments-api-7d9f8b6c5-q8w4z", severity: "critical", sourceURL: crashURL, startsAt: "2026-11-21T04:43:00.942Z"},
				{key: "687b761e8c8e0e1f", action: klaxon.ActionTrigger, summary: "Pod is crash looping.", pod: "payments-api-7d9f8b6c5-x2x7k", severity: "critical", sourceURL: crashURL, startsAt: "2026-11-21T04:43:00.942Z"},
			},
		},
		{
			file: "am-webhook-v4-resolved.json", status: "resolved",
			groupKey: `{}/{}:{alertname="KubePodCrashLooping", namespace="payments"}`,
			signals: []wantSignal{
				{key: "c17da6d1a7af8f8b", action: klaxon.ActionResolve, summary: "Pod is crash looping.", pod: "payments-api-7d9f8b6c5-q8w4z", severity: "critical", sourceURL: strings.Replace(crashURL, "%3E", "%3C", 1), startsAt: "2026-11-21T04:43:00.942Z"},
				{key: "687b761e8c8e0e1f", action: klaxon.ActionResolve, summary: "Pod is crash looping.", pod: "payments-api-7d9f8b6c5-x2x7k", severity: "critical", sourceURL: strings.Replace(crashURL, "%3E", "%3C", 1), startsAt: "2026-11-21T04:43:00.942Z"},
			},
		},
		{
			file: "am-webhook-v4-firing-warning.json", status: "firing",
			groupKey: `{}/{}:{alertname="ContainerMemoryHigh", namespace="checkout"}`,
			signals: []wantSignal{
				{key: "a46b1f2178ddf7da", action: klaxon.ActionTrigger, summary: "Container memory usage above 90% of limit.", pod: "checkout-web-6f7c9d4b8-m2n3p", severity: "warning",
					sourceURL: "http://127.0.0.1:52111/graph?g0.expr=vector%281%29+%3E+0&g0.tab=1", startsAt: "2026-11-21T04:43:00.942Z"},
			},
		},
		{
			file: "am-webhook-v4-firing-watchdog.json", status: "firing",
			groupKey: `{}/{}:{alertname="Watchdog"}`,
			signals: []wantSignal{
				{key: "247ccf72e9f23f3f", action: klaxon.ActionTrigger, summary: "An alert that should always be firing to certify that Alertmanager is working properly.", severity: "none",
					sourceURL: "http://127.0.0.1:52111/graph?g0.expr=vector%281%29&g0.tab=1", startsAt: "2026-11-21T04:43:00.942Z"},
			},
		},
		{
			file: "am-webhook-v4-firing-amtool.json", status: "firing",
			groupKey: `{}/{}:{alertname="InjectedDiskFull", namespace="db"}`,
			signals: []wantSignal{
				{key: "2f9b38ff744935c4", action: klaxon.ActionTrigger, summary: "Disk almost full on postgres-0", pod: "postgres-0", severity: "critical",
					sourceURL: "http://127.0.0.1/injected-by-amtool", startsAt: "2026-11-21T04:43:08.378797101Z"},
			},
		},
		{
			file: "am-webhook-v4-resolved-amtool.json", status: "resolved",
			groupKey: `{}/{}:{alertname="InjectedDiskFull", namespace="db"}`,
			signals: []wantSignal{
				{key: "2f9b38ff744935c4", action: klaxon.ActionResolve, summary: "Disk almost full on postgres-0", pod: "postgres-0", severity: "critical",
					sourceURL: "", startsAt: "2026-11-21T04:33:20Z"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			body, ok := all[tt.file]
			if !ok {
				t.Fatalf("testdata/%s missing", tt.file)
			}
			m, signals, err := alertmanager.Decode(body)
			if err != nil {
				t.Fatalf("Decode: got error %v, want nil", err)
			}
			if m.Version != "4" || m.Status != tt.status || m.Receiver != "webhook" {
				t.Errorf("message: got version %q status %q receiver %q, want 4 %q webhook", m.Version, m.Status, m.Receiver, tt.status)
			}
			if m.GroupKey != tt.groupKey {
				t.Errorf("GroupKey: got %q, want %q", m.GroupKey, tt.groupKey)
			}
			if m.TruncatedAlerts != tt.truncated {
				t.Errorf("TruncatedAlerts: got %d, want %d", m.TruncatedAlerts, tt.truncated)
			}
			if m.ExternalURL != "http://127.0.0.1:43677" {
				t.Errorf("ExternalURL: got %q, want http://127.0.0.1:43677", m.ExternalURL)
			}
			if len(signals) != len(tt.signals) {
				t.Fatalf("got %d signals, want %d", len(signals), len(tt.signals))
			}
			for i, w := range tt.signals {
				s := signals[i]
				if s.Key != w.key {
					t.Errorf("[%d] Key: got %q, want %q", i, s.Key, w.key)
				}
				if s.Action != w.action {
					t.Errorf("[%d] Action: got %q, want %q", i, s.Action, w.action)
				}
				if s.Summary != w.summary {
					t.Errorf("[%d] Summary: got %q, want %q", i, s.Summary, w.summary)
				}
				if s.Labels["pod"] != w.pod {
					t.Errorf("[%d] Labels[pod]: got %q, want %q", i, s.Labels["pod"], w.pod)
				}
				if s.Labels["severity"] != w.severity {
					t.Errorf("[%d] Labels[severity]: got %q, want %q", i, s.Labels["severity"], w.severity)
				}
				if s.SourceURL != w.sourceURL {
					t.Errorf("[%d] SourceURL: got %q, want %q", i, s.SourceURL, w.sourceURL)
				}
				if got := s.StartsAt.Format(time.RFC3339Nano); got != w.startsAt {
					t.Errorf("[%d] StartsAt: got %s, want %s", i, got, w.startsAt)
				}
			}
		})
	}
}

// body builds a one-alert webhook body whose alert is alertJSON.
func body(alertJSON string) []byte {
	return []byte(`{"version":"4","groupKey":"{}:{}","truncatedAlerts":0,"status":"firing","receiver":"r","alerts":[` + alertJSON + `]}`)
}

const okAlert = `{"status":"firing","labels":{"alertname":"A"},"annotations":{},"startsAt":"2026-11-21T04:43:00Z","fingerprint":"f1"}`

func TestDecodeMapping(t *testing.T) {
	tests := []struct {
		name        string
		body        []byte
		wantSummary string
		wantStart   time.Time
		wantAnn     map[string]string
	}{
		{
			name:        "summary annotation wins",
			body:        body(`{"status":"firing","labels":{"alertname":"A"},"annotations":{"summary":"S","message":"M","description":"D"},"startsAt":"2026-11-21T04:43:00Z","fingerprint":"f"}`),
			wantSummary: "S", wantStart: time.Date(2026, 11, 21, 4, 43, 0, 0, time.UTC),
			wantAnn: map[string]string{"summary": "S", "message": "M", "description": "D"},
		},
		{
			name:        "message when no summary (kube-prometheus)",
			body:        body(`{"status":"firing","labels":{"alertname":"A"},"annotations":{"message":"M","description":"D"},"startsAt":"2026-11-21T04:43:00Z","fingerprint":"f"}`),
			wantSummary: "M", wantStart: time.Date(2026, 11, 21, 4, 43, 0, 0, time.UTC),
			wantAnn: map[string]string{"message": "M", "description": "D"},
		},
		{
			name:        "description when no summary nor message",
			body:        body(`{"status":"firing","labels":{"alertname":"A"},"annotations":{"description":"D"},"startsAt":"2026-11-21T04:43:00Z","fingerprint":"f"}`),
			wantSummary: "D", wantStart: time.Date(2026, 11, 21, 4, 43, 0, 0, time.UTC),
			wantAnn: map[string]string{"description": "D"},
		},
		{
			name:        "alertname when no annotations at all",
			body:        body(`{"status":"firing","labels":{"alertname":"DiskFull"},"startsAt":"2026-11-21T04:43:00Z","fingerprint":"f"}`),
			wantSummary: "DiskFull", wantStart: time.Date(2026, 11, 21, 4, 43, 0, 0, time.UTC),
			wantAnn: map[string]string{},
		},
		{
			name:        "null annotations become an empty map",
			body:        body(`{"status":"firing","labels":{"alertname":"A"},"annotations":null,"startsAt":"2026-11-21T04:43:00Z","fingerprint":"f"}`),
			wantSummary: "A", wantStart: time.Date(2026, 11, 21, 4, 43, 0, 0, time.UTC),
			wantAnn: map[string]string{},
		},
		{
			name:        "startsAt with an offset is converted to UTC",
			body:        body(`{"status":"firing","labels":{"alertname":"A"},"startsAt":"2026-11-21T06:43:00.5+02:00","fingerprint":"f"}`),
			wantSummary: "A", wantStart: time.Date(2026, 11, 21, 4, 43, 0, 5e8, time.UTC),
			wantAnn: map[string]string{},
		},
		{
			name: "unknown fields are accepted (forward-compatible)",
			body: []byte(`{"version":"4","status":"firing","receiver":"r","newTopLevel":{"x":[1,2]},"alerts":[` +
				`{"status":"firing","labels":{"alertname":"A"},"startsAt":"2026-11-21T04:43:00Z","fingerprint":"f","silencedBy":["s1"],"extra":true}]}`),
			wantSummary: "A", wantStart: time.Date(2026, 11, 21, 4, 43, 0, 0, time.UTC),
			wantAnn: map[string]string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, signals, err := alertmanager.Decode(tt.body)
			if err != nil {
				t.Fatalf("Decode: got error %v, want nil", err)
			}
			if len(signals) != 1 {
				t.Fatalf("got %d signals, want 1", len(signals))
			}
			s := signals[0]
			if s.Summary != tt.wantSummary {
				t.Errorf("Summary: got %q, want %q", s.Summary, tt.wantSummary)
			}
			if !s.StartsAt.Equal(tt.wantStart) || s.StartsAt.Location() != time.UTC {
				t.Errorf("StartsAt: got %v, want %v in UTC", s.StartsAt, tt.wantStart)
			}
			if s.Annotations == nil {
				t.Errorf("Annotations: got nil, want non-nil")
			}
			if !maps.Equal(s.Annotations, tt.wantAnn) {
				t.Errorf("Annotations: got %v, want %v", s.Annotations, tt.wantAnn)
			}
		})
	}
}

func TestDecodeInvalid(t *testing.T) {
	tests := []struct {
		name string
		body []byte
		want []string // substrings of the message
	}{
		{"empty body", []byte(""), []string{"body is empty"}},
		{"whitespace body", []byte(" \n\t"), []string{"body is empty"}},
		{"not JSON", []byte("firing!"), []string{"not valid JSON"}},
		{"JSON array instead of object", []byte(`[]`), []string{"want an object"}},
		{"trailing garbage", append(body(okAlert), " garbage"...), []string{"data after the JSON value"}},
		{"second JSON value", append(body(okAlert), "{}"...), []string{"data after the JSON value"}},
		{"wrong version", []byte(`{"version":"3","alerts":[` + okAlert + `]}`), []string{`version: got "3", want "4"`}},
		{"version missing", []byte(`{"alerts":[` + okAlert + `]}`), []string{`version: got "", want "4"`}},
		{"version as a number", []byte(`{"version":4,"alerts":[` + okAlert + `]}`), []string{"version", "got JSON number, want a string"}},
		{"alerts missing", []byte(`{"version":"4"}`), []string{"alerts: missing"}},
		{"alerts null", []byte(`{"version":"4","alerts":null}`), []string{"alerts: missing"}},
		{"alerts not an array", []byte(`{"version":"4","alerts":{}}`), []string{"alerts", "want an array"}},
		{"alert without fingerprint", body(`{"status":"firing","labels":{"alertname":"A"},"startsAt":"2026-11-21T04:43:00Z"}`), []string{"alerts[0].fingerprint: missing"}},
		{"bad status", body(`{"status":"pending","labels":{"alertname":"A"},"startsAt":"2026-11-21T04:43:00Z","fingerprint":"f"}`), []string{`alerts[0].status: got "pending", want "firing" or "resolved"`}},
		{"status missing", body(`{"labels":{"alertname":"A"},"startsAt":"2026-11-21T04:43:00Z","fingerprint":"f"}`), []string{`alerts[0].status: got ""`}},
		{"labels empty", body(`{"status":"firing","labels":{},"startsAt":"2026-11-21T04:43:00Z","fingerprint":"f"}`), []string{"alerts[0].labels: missing or empty"}},
		{"labels missing", body(`{"status":"firing","startsAt":"2026-11-21T04:43:00Z","fingerprint":"f"}`), []string{"alerts[0].labels: missing or empty"}},
		{"labels wrong type", body(`{"status":"firing","labels":5,"startsAt":"2026-11-21T04:43:00Z","fingerprint":"f"}`), []string{"labels", "got JSON number, want an object"}},
		{"label value wrong type", body(`{"status":"firing","labels":{"a":true},"startsAt":"2026-11-21T04:43:00Z","fingerprint":"f"}`), []string{"labels", "got JSON bool, want a string"}},
		{"startsAt missing", body(`{"status":"firing","labels":{"alertname":"A"},"fingerprint":"f"}`), []string{"alerts[0].startsAt: missing"}},
		{"startsAt zero", body(`{"status":"firing","labels":{"alertname":"A"},"startsAt":"0001-01-01T00:00:00Z","fingerprint":"f"}`), []string{"alerts[0].startsAt: missing"}},
		// BUG: encoding/json's time error does not name the field, although
		// ingest.DecodeJSON's comment says it does ("bad time formats and the
		// like: encoding/json's message names the field").
		{"startsAt unparseable", body(`{"status":"firing","labels":{"alertname":"A"},"startsAt":"yesterday","fingerprint":"f"}`), []string{"startsAt", "yesterday"}},
		{"startsAt not a string", body(`{"status":"firing","labels":{"alertname":"A"},"startsAt":1700000000,"fingerprint":"f"}`), []string{"startsAt"}},
		{"NUL in a label value", body(`{"status":"firing","labels":{"alertname":"A\u0000B"},"startsAt":"2026-11-21T04:43:00Z","fingerprint":"f"}`), []string{"NUL", `\u0000`}},
		{"NUL in an annotation", body(`{"status":"firing","labels":{"alertname":"A"},"annotations":{"summary":"\u0000"},"startsAt":"2026-11-21T04:43:00Z","fingerprint":"f"}`), []string{"NUL"}},
		{"problems of later alerts name their index", []byte(`{"version":"4","alerts":[` + okAlert + `,{"status":"firing","labels":{"a":"b"},"startsAt":"2026-11-21T04:43:00Z"}]}`), []string{"alerts[1].fingerprint: missing"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, signals, err := alertmanager.Decode(tt.body)
			if err == nil {
				t.Fatalf("Decode: got nil error (%d signals), want EINVALID", len(signals))
			}
			if m != nil || signals != nil {
				t.Errorf("Decode: got message %v and %d signals with an error, want nil", m, len(signals))
			}
			if got := klaxon.ErrorCode(err); got != klaxon.EINVALID {
				t.Errorf("ErrorCode: got %q, want %q (err %v)", got, klaxon.EINVALID, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error: got %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

// TestDecodeAllProblems checks that one answer names every problem.
func TestDecodeAllProblems(t *testing.T) {
	b := []byte(`{"version":"5","alerts":[{"status":"x","labels":{}},` + okAlert + `,{"status":"resolved","labels":{"a":"b"},"startsAt":"2026-11-21T04:43:00Z"}]}`)
	_, _, err := alertmanager.Decode(b)
	want := []string{
		`version: got "5", want "4" (Alertmanager webhook payload version 4)`,
		"alerts[0].fingerprint: missing",
		`alerts[0].status: got "x", want "firing" or "resolved"`,
		"alerts[0].labels: missing or empty",
		"alerts[0].startsAt: missing",
		"alerts[2].fingerprint: missing",
	}
	e, ok := err.(*klaxon.Error)
	if !ok {
		t.Fatalf("error: got %T %v, want *klaxon.Error", err, err)
	}
	if e.Code != klaxon.EINVALID {
		t.Errorf("Code: got %q, want %q", e.Code, klaxon.EINVALID)
	}
	if strings.Join(e.Problems, "\n") != strings.Join(want, "\n") {
		t.Errorf("Problems:\ngot  %q\nwant %q", e.Problems, want)
	}
	if e.Message != strings.Join(want, "; ") {
		t.Errorf("Message: got %q, want the problems joined with \"; \"", e.Message)
	}
}

// FuzzDecode checks that Decode never panics and either returns signals
// that the rest of Klaxon can rely on or an EINVALID error with a message.
func FuzzDecode(f *testing.F) {
	for _, b := range fixtures(f) {
		f.Add(b)
		f.Add(b[:len(b)/2])                                                            // truncated
		f.Add([]byte(strings.Replace(string(b), `"version":"4"`, `"version":"3"`, 1))) // wrong version
		f.Add([]byte(strings.Replace(string(b), `"labels":{`, `"labels":{"nul":"\u0000",`, 1)))
		f.Add([]byte(strings.Replace(string(b), `"startsAt":"2026`, `"startsAt":"x2026`, 1)))
		f.Add([]byte(strings.ReplaceAll(string(b), `"fingerprint":`, `"fingerprint_":`)))
	}
	f.Add([]byte(""))
	f.Add([]byte("{}"))
	f.Add([]byte(`{"version":"4","alerts":[]}`))
	f.Add(body(okAlert))
	f.Add(body(`{"status":"resolved","labels":{"a":"\ud800"},"annotations":{"\u00e9":"` + "\xff" + `"},"startsAt":"2026-11-21T04:43:00+14:00","fingerprint":"f"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, signals, err := alertmanager.Decode(b)
		if err != nil {
			if code := klaxon.ErrorCode(err); code != klaxon.EINVALID {
				t.Fatalf("ErrorCode: got %q, want %q (err %v)", code, klaxon.EINVALID, err)
			}
			if err.Error() == "" {
				t.Fatal("error message: got empty, want the problem named")
			}
			if m != nil || signals != nil {
				t.Fatalf("got a message or signals with error %v", err)
			}
			return
		}
		if m == nil {
			t.Fatal("got nil message and nil error")
		}
		if len(signals) != len(m.Alerts) {
			t.Fatalf("got %d signals for %d alerts", len(signals), len(m.Alerts))
		}
		for i, s := range signals {
			checkSignal(t, i, s)
			if s.Key != m.Alerts[i].Fingerprint {
				t.Errorf("[%d] Key: got %q, want fingerprint %q", i, s.Key, m.Alerts[i].Fingerprint)
			}
			if s.StartsAt.IsZero() {
				t.Errorf("[%d] StartsAt: got zero, want the alert's startsAt", i)
			}
		}
	})
}

// checkSignal asserts what every decoded signal guarantees, including that
// both stores (PostgreSQL refuses NUL and invalid UTF-8) can keep it.
func checkSignal(t *testing.T, i int, s klaxon.Signal) {
	t.Helper()
	if s.Key == "" {
		t.Errorf("[%d] Key: got empty", i)
	}
	switch s.Action {
	case klaxon.ActionTrigger, klaxon.ActionResolve:
	default:
		t.Errorf("[%d] Action: got %q, want trigger or resolve", i, s.Action)
	}
	if s.Labels == nil || len(s.Labels) == 0 {
		t.Errorf("[%d] Labels: got %v, want a non-empty map", i, s.Labels)
	}
	if s.Annotations == nil {
		t.Errorf("[%d] Annotations: got nil, want a map", i)
	}
	strs := []string{s.Key, s.Summary, s.SourceURL, s.Severity}
	for k, v := range s.Labels {
		strs = append(strs, k, v)
	}
	for k, v := range s.Annotations {
		strs = append(strs, k, v)
	}
	for _, v := range strs {
		if strings.ContainsRune(v, 0) || !utf8.ValidString(v) {
			t.Errorf("[%d] got %q, which PostgreSQL cannot store (NUL or invalid UTF-8)", i, v)
		}
	}
}
