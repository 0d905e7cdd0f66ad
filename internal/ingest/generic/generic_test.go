package generic_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/ingest/generic"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var derivedKey = regexp.MustCompile(`^[0-9a-f]{16}$`)

func TestDecodeSingleObject(t *testing.T) {
	signals, err := generic.Decode(readFixture(t, "generic-single.json"))
	if err != nil {
		t.Fatalf("Decode: got error %v, want nil", err)
	}
	if len(signals) != 1 {
		t.Fatalf("got %d signals, want 1", len(signals))
	}
	s := signals[0]
	checks := []struct{ field, got, want string }{
		{"Key", s.Key, "backup-db1"},
		{"Action", string(s.Action), string(klaxon.ActionTrigger)},
		{"Severity", s.Severity, "critical"},
		{"Summary", s.Summary, "Nightly backup failed on db1"},
		{"SourceURL", s.SourceURL, "https://ci.example.test/job/42"},
		{"StartsAt", s.StartsAt.Format(time.RFC3339Nano), "2026-11-21T04:00:00Z"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.field, c.got, c.want)
		}
	}
	if s.StartsAt.Location() != time.UTC {
		t.Errorf("StartsAt location: got %v, want UTC", s.StartsAt.Location())
	}
	if want := map[string]string{"alertname": "BackupFailed", "host": "db1"}; !maps.Equal(s.Labels, want) {
		t.Errorf("Labels: got %v, want %v", s.Labels, want)
	}
	wantAnn := map[string]string{"description": "pg_dump exited 1", "runbook_url": "https://runbooks.example.test/backup",
		"summary": "Nightly backup failed on db1"}
	if !maps.Equal(s.Annotations, wantAnn) {
		t.Errorf("Annotations: got %v, want %v", s.Annotations, wantAnn)
	}
}

func TestDecodeArray(t *testing.T) {
	signals, err := generic.Decode(readFixture(t, "generic-array.json"))
	if err != nil {
		t.Fatalf("Decode: got error %v, want nil", err)
	}
	if len(signals) != 3 {
		t.Fatalf("got %d signals, want 3", len(signals))
	}
	tests := []struct {
		name     string
		action   klaxon.Action
		key      string // "derived" for a 16-hex key from labels
		summary  string
		severity string
	}{
		{"[0] firing, key derived", klaxon.ActionTrigger, "derived", "Disk 91% full on web-1", ""},
		{"[1] resolved without summary", klaxon.ActionResolve, "derived", "", ""},
		{"[2] explicit key, no labels", klaxon.ActionTrigger, "cert-expiry-example.org", "TLS certificate expires in 3 days", "error"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := signals[i]
			if s.Action != tt.action {
				t.Errorf("Action: got %q, want %q", s.Action, tt.action)
			}
			if tt.key == "derived" && !derivedKey.MatchString(s.Key) || tt.key != "derived" && s.Key != tt.key {
				t.Errorf("Key: got %q, want %s", s.Key, tt.key)
			}
			if s.Summary != tt.summary {
				t.Errorf("Summary: got %q, want %q", s.Summary, tt.summary)
			}
			if s.Severity != tt.severity {
				t.Errorf("Severity: got %q, want %q (empty: the severity label decides)", s.Severity, tt.severity)
			}
			if s.Labels == nil || s.Annotations == nil {
				t.Errorf("got Labels %v Annotations %v, want non-nil maps", s.Labels, s.Annotations)
			}
			if !s.StartsAt.IsZero() {
				t.Errorf("StartsAt: got %v, want zero (not given)", s.StartsAt)
			}
		})
	}
	if signals[0].Key == signals[1].Key {
		t.Errorf("keys of web-1 and web-2: got %q for both, want different keys", signals[0].Key)
	}
}

// decodeOne decodes body and returns its only signal.
func decodeOne(t *testing.T, body string) klaxon.Signal {
	t.Helper()
	signals, err := generic.Decode([]byte(body))
	if err != nil {
		t.Fatalf("Decode(%s): got error %v, want nil", body, err)
	}
	if len(signals) != 1 {
		t.Fatalf("Decode(%s): got %d signals, want 1", body, len(signals))
	}
	return signals[0]
}

func TestDerivedKey(t *testing.T) {
	tests := []struct {
		name     string
		a, b     string
		sameKeys bool
	}{
		{"same labels in a different JSON order", `{"alertname":"X","host":"db1","env":"prod"}`, `{"env":"prod","host":"db1","alertname":"X"}`, true},
		{"same labels, other fields differ", `{"alertname":"X"}`, `{"alertname":"X"}`, true},
		{"different label value", `{"alertname":"X","host":"db1"}`, `{"alertname":"X","host":"db2"}`, false},
		{"an extra label", `{"alertname":"X"}`, `{"alertname":"X","host":"db1"}`, false},
		{"label boundary moved", `{"a":"bc"}`, `{"ab":"c"}`, false},
		{"key and value swapped", `{"a":"b"}`, `{"b":"a"}`, false},
		{"empty value vs no label", `{"a":"b","c":""}`, `{"a":"b"}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ka := decodeOne(t, `{"summary":"one","labels":`+tt.a+`}`).Key
			kb := decodeOne(t, `{"summary":"two","status":"firing","labels":`+tt.b+`}`).Key
			for _, k := range []string{ka, kb} {
				if !derivedKey.MatchString(k) {
					t.Errorf("Key: got %q, want 16 hex digits", k)
				}
			}
			if (ka == kb) != tt.sameKeys {
				t.Errorf("keys of %s and %s: got %q and %q, want same=%v", tt.a, tt.b, ka, kb, tt.sameKeys)
			}
		})
	}
	t.Run("resolve finds the alert its trigger opened", func(t *testing.T) {
		fire := decodeOne(t, `{"summary":"s","labels":{"alertname":"X","host":"db1"}}`)
		res := decodeOne(t, `{"status":"resolved","labels":{"host":"db1","alertname":"X"}}`)
		if fire.Key != res.Key {
			t.Errorf("keys: got trigger %q resolve %q, want equal", fire.Key, res.Key)
		}
	})
	t.Run("explicit key wins over labels", func(t *testing.T) {
		if got := decodeOne(t, `{"key":"k1","summary":"s","labels":{"a":"b"}}`).Key; got != "k1" {
			t.Errorf("Key: got %q, want k1", got)
		}
	})
}

func TestDecodeMapping(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		check func(t *testing.T, s klaxon.Signal)
	}{
		{"status resolved is a resolve", `{"key":"k","status":"resolved"}`, func(t *testing.T, s klaxon.Signal) {
			if s.Action != klaxon.ActionResolve {
				t.Errorf("Action: got %q, want resolve", s.Action)
			}
		}},
		{"status firing is a trigger", `{"key":"k","status":"firing","summary":"s"}`, func(t *testing.T, s klaxon.Signal) {
			if s.Action != klaxon.ActionTrigger {
				t.Errorf("Action: got %q, want trigger", s.Action)
			}
		}},
		{"no status is a trigger", `{"key":"k","summary":"s"}`, func(t *testing.T, s klaxon.Signal) {
			if s.Action != klaxon.ActionTrigger {
				t.Errorf("Action: got %q, want trigger", s.Action)
			}
		}},
		{"no labels gives an empty map", `{"key":"k","summary":"s"}`, func(t *testing.T, s klaxon.Signal) {
			if s.Labels == nil || len(s.Labels) != 0 {
				t.Errorf("Labels: got %#v, want an empty non-nil map", s.Labels)
			}
		}},
		{"summary becomes the summary annotation, over a sent one", `{"key":"k","summary":"new","annotations":{"summary":"old","x":"y"}}`, func(t *testing.T, s klaxon.Signal) {
			if want := map[string]string{"summary": "new", "x": "y"}; !maps.Equal(s.Annotations, want) {
				t.Errorf("Annotations: got %v, want %v", s.Annotations, want)
			}
		}},
		{"resolve without summary keeps sent annotations", `{"key":"k","status":"resolved","annotations":{"x":"y"}}`, func(t *testing.T, s klaxon.Signal) {
			if want := map[string]string{"x": "y"}; !maps.Equal(s.Annotations, want) {
				t.Errorf("Annotations: got %v, want %v", s.Annotations, want)
			}
		}},
		{"starts_at with an offset is converted to UTC", `{"key":"k","summary":"s","starts_at":"2026-11-21T04:00:00-05:00"}`, func(t *testing.T, s klaxon.Signal) {
			want := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
			if !s.StartsAt.Equal(want) || s.StartsAt.Location() != time.UTC {
				t.Errorf("StartsAt: got %v, want %v in UTC", s.StartsAt, want)
			}
		}},
		{"no starts_at leaves StartsAt zero", `{"key":"k","summary":"s"}`, func(t *testing.T, s klaxon.Signal) {
			if !s.StartsAt.IsZero() {
				t.Errorf("StartsAt: got %v, want zero", s.StartsAt)
			}
		}},
		{"array with leading whitespace", " \n\t[{\"key\":\"k\",\"summary\":\"s\"}]", func(t *testing.T, s klaxon.Signal) {
			if s.Key != "k" {
				t.Errorf("Key: got %q, want k", s.Key)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.check(t, decodeOne(t, tt.body))
		})
	}
}

// alerts returns a JSON array of n valid alerts, with alert i replaced by
// override[i] where given.
func alerts(n int, override map[int]string) []byte {
	var b bytes.Buffer
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		if o, ok := override[i]; ok {
			b.WriteString(o)
			continue
		}
		fmt.Fprintf(&b, `{"summary":"alert %d","labels":{"n":"%d"}}`, i, i)
	}
	b.WriteByte(']')
	return b.Bytes()
}

func TestDecodeLimit(t *testing.T) {
	t.Run("1000 alerts accepted", func(t *testing.T) {
		signals, err := generic.Decode(alerts(generic.MaxAlerts, nil))
		if err != nil {
			t.Fatalf("Decode: got error %v, want nil", err)
		}
		if len(signals) != generic.MaxAlerts {
			t.Errorf("got %d signals, want %d", len(signals), generic.MaxAlerts)
		}
	})
	t.Run("1001 alerts refused", func(t *testing.T) {
		_, err := generic.Decode(alerts(generic.MaxAlerts+1, nil))
		if got := klaxon.ErrorCode(err); got != klaxon.EINVALID {
			t.Fatalf("ErrorCode: got %q, want %q (err %v)", got, klaxon.EINVALID, err)
		}
		if want := "1001 alerts in one request; the limit is 1000"; !strings.Contains(err.Error(), want) {
			t.Errorf("error: got %q, want it to contain %q", err, want)
		}
	})
}

func TestDecodeInvalid(t *testing.T) {
	tests := []struct {
		name string
		body []byte
		want []string // substrings of the message
	}{
		{"empty body", nil, []string{"body is empty"}},
		{"not JSON", []byte("alert!"), []string{"not valid JSON"}},
		{"trailing data", []byte(`{"key":"k","summary":"s"} {}`), []string{"data after the JSON value"}},
		{"a number", []byte(`5`), []string{"the body: got JSON number, want an object"}},
		{"an array of numbers", []byte(`[5]`), []string{"got JSON number, want an object"}},
		{"empty array", []byte(`[]`), []string{"no alerts in body"}},
		{"unknown field refused, and named", []byte(`{"key":"k","sumary":"s"}`), []string{`unknown field "sumary"`}},
		{"unknown field inside an array", alerts(5, map[int]string{3: `{"key":"k","summary":"s","lables":{}}`}), []string{`unknown field "lables"`}},
		{"bad status", []byte(`{"key":"k","summary":"s","status":"ok"}`), []string{`status: got "ok", want "firing" or "resolved"`}},
		{"no key and no labels", []byte(`{"summary":"s"}`), []string{"key: missing, and no labels to derive it from"}},
		{"no key and empty labels", []byte(`{"summary":"s","labels":{}}`), []string{"key: missing, and no labels to derive it from"}},
		{"summary missing when firing", []byte(`{"key":"k"}`), []string{"summary: missing (required when firing)"}},
		{"summary blank when firing", []byte(`{"key":"k","status":"firing","summary":"  "}`), []string{"summary: missing (required when firing)"}},
		{"labels wrong type", []byte(`{"key":"k","summary":"s","labels":["a"]}`), []string{"labels", "got JSON array, want an object"}},
		{"label value wrong type", []byte(`{"key":"k","summary":"s","labels":{"a":1}}`), []string{"labels", "got JSON number, want a string"}},
		{"starts_at unparseable", []byte(`{"key":"k","summary":"s","starts_at":"tomorrow"}`), []string{"tomorrow"}},
		{"NUL character", []byte(`{"key":"k\u0000","summary":"s"}`), []string{"NUL"}},
		{"array problems are prefixed with the index", alerts(5, map[int]string{3: `{"labels":{"a":"b"}}`}), []string{"[3].summary: missing (required when firing)"}},
		{"several problems in an array", alerts(5, map[int]string{1: `{"status":"x","summary":"s","key":"k"}`, 4: `{}`}),
			[]string{`[1].status: got "x"`, "[4].key: missing, and no labels to derive it from", "[4].summary: missing (required when firing)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			signals, err := generic.Decode(tt.body)
			if err == nil {
				t.Fatalf("Decode: got nil error (%d signals), want EINVALID", len(signals))
			}
			if signals != nil {
				t.Errorf("Decode: got %d signals with an error, want nil", len(signals))
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

// TestDecodeProblemsList checks the exact list one answer carries.
func TestDecodeProblemsList(t *testing.T) {
	_, err := generic.Decode(alerts(4, map[int]string{0: `{"status":"resolved"}`, 2: `{"status":"FIRING","key":"k"}`}))
	ke, ok := err.(*klaxon.Error)
	if !ok {
		t.Fatalf("error: got %T %v, want *klaxon.Error", err, err)
	}
	want := []string{
		"[0].key: missing, and no labels to derive it from",
		`[2].status: got "FIRING", want "firing" or "resolved"`,
		"[2].summary: missing (required when firing)",
	}
	if !slices.Equal(ke.Problems, want) {
		t.Errorf("Problems:\ngot  %q\nwant %q", ke.Problems, want)
	}
}

// FuzzDecode checks that Decode never panics and either returns signals
// the rest of Klaxon can rely on or an EINVALID error with a message.
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"generic-single.json", "generic-array.json"} {
		b := readFixture(f, name)
		f.Add(b)
		f.Add(b[:len(b)/2])
		f.Add(bytes.Replace(b, []byte(`"summary"`), []byte(`"summry"`), 1))
		f.Add(bytes.Replace(b, []byte(`"labels": {`), []byte(`"labels": {"k": 1, `), 1))
		f.Add(bytes.Replace(b, []byte(`"status": "resolved"`), []byte(`"status": "ok"`), 1))
	}
	f.Add([]byte(""))
	f.Add([]byte("[]"))
	f.Add([]byte("null"))
	f.Add([]byte("[null]"))
	f.Add([]byte(`{"labels":{"a":"\ud800"},"summary":"` + "\xff" + `"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		signals, err := generic.Decode(b)
		if err != nil {
			if code := klaxon.ErrorCode(err); code != klaxon.EINVALID {
				t.Fatalf("ErrorCode: got %q, want %q (err %v)", code, klaxon.EINVALID, err)
			}
			if err.Error() == "" {
				t.Fatal("error message: got empty, want the problem named")
			}
			if signals != nil {
				t.Fatalf("got signals with error %v", err)
			}
			return
		}
		if len(signals) == 0 || len(signals) > generic.MaxAlerts {
			t.Fatalf("got %d signals, want 1 to %d", len(signals), generic.MaxAlerts)
		}
		for i, s := range signals {
			if s.Key == "" {
				t.Errorf("[%d] Key: got empty", i)
			}
			switch s.Action {
			case klaxon.ActionTrigger:
				if strings.TrimSpace(s.Summary) == "" {
					t.Errorf("[%d] trigger: got blank Summary", i)
				}
			case klaxon.ActionResolve:
			default:
				t.Errorf("[%d] Action: got %q, want trigger or resolve", i, s.Action)
			}
			if s.Labels == nil || s.Annotations == nil {
				t.Errorf("[%d] got Labels %v Annotations %v, want non-nil maps", i, s.Labels, s.Annotations)
			}
			strs := []string{s.Key, s.Summary, s.Severity, s.SourceURL}
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
			if _, err := json.Marshal(s.Labels); err != nil {
				t.Errorf("[%d] Labels: %v", i, err)
			}
		}
	})
}
