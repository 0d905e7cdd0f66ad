package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/chattest"
	"github.com/klaxon-oss/klaxon/internal/notify"
	"github.com/klaxon-oss/klaxon/internal/notify/notifytest"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// posted sends m as a first post to a fresh fake and returns what
// chat.postMessage received, decoded: text, attachments and metadata.
func posted(t *testing.T, m *notify.Message) map[string]any {
	t.Helper()
	s := chattest.NewSlack(t)
	ch := newChannel(t, s)
	if _, err := ch.Send(context.Background(), notify.Delivery{ID: 101, Version: 1, Attempt: 1, Message: m}); err != nil {
		t.Fatal(err)
	}
	msgs := s.Messages(testChannel)
	if len(msgs) != 1 {
		t.Fatalf("got %d messages, want 1", len(msgs))
	}
	out := map[string]any{"text": msgs[0].Text}
	for key, raw := range map[string]json.RawMessage{"blocks": msgs[0].Blocks, "attachments": msgs[0].Attachments, "metadata": msgs[0].Metadata} {
		if raw == nil {
			continue
		}
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		out[key] = v
	}
	return out
}

// pretty is the golden form: indented, with <, > and & left readable.
func pretty(t *testing.T, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestGolden(t *testing.T) {
	for name, m := range notifytest.Cases() {
		t.Run(name, func(t *testing.T) {
			got := pretty(t, posted(t, m))
			notifytest.Golden(t, filepath.Join("testdata", name+".golden"), got, *update)
		})
	}
}

// markup walks a Slack payload and returns the strings Slack parses as
// mrkdwn (the top-level text and every mrkdwn text object), the plain_text
// strings, and every URL-valued field.
func markup(v any) (marked, plainText, urls []string) {
	var walk func(v any, key string)
	walk = func(v any, key string) {
		switch v := v.(type) {
		case map[string]any:
			if s, ok := v["text"].(string); ok {
				switch v["type"] {
				case "mrkdwn":
					marked = append(marked, s)
				case "plain_text":
					plainText = append(plainText, s)
				}
			}
			for k, x := range v {
				walk(x, k)
			}
		case []any:
			for _, x := range v {
				walk(x, key)
			}
		case string:
			if key == "url" || strings.HasSuffix(key, "_url") || key == "title_link" {
				urls = append(urls, v)
			}
		}
	}
	walk(v, "")
	return marked, plainText, urls
}

// ourTokens are the only <…> sequences the renderer may emit in mrkdwn: a
// user or group mention from config or a Slack actor, or an http(s) link.
var ourTokens = regexp.MustCompile(`^<(@[UW][A-Z0-9]+|!subteam\^S[A-Z0-9]+|https?://[^|<>\s]+\|[^<>]*)>$`)

func TestHostileIsEscaped(t *testing.T) {
	payload := posted(t, notifytest.Cases()["hostile"])
	marked, plainText, urls := markup(payload)
	marked = append(marked, payload["text"].(string))
	if len(marked) < 5 || len(plainText) == 0 {
		t.Fatalf("walk found %d mrkdwn and %d plain_text strings: the payload shape changed", len(marked), len(plainText))
	}
	for _, s := range marked {
		for _, bad := range []string{"<!channel>", "<script", "<https://evil", "<@U123>", "<a href", "<img", "<b>"} {
			if strings.Contains(s, bad) {
				t.Errorf("mrkdwn contains raw %q: %q", bad, s)
			}
		}
		for _, tok := range regexp.MustCompile(`<[^>]*>?`).FindAllString(s, -1) {
			if !ourTokens.MatchString(tok) {
				t.Errorf("mrkdwn has a <…> sequence the renderer did not make: %q in %q", tok, s)
			}
			if u, _, _ := strings.Cut(tok, "|"); strings.Contains(u, "evil.example") || strings.Contains(u, "javascript:") || strings.Contains(u, "data:") {
				t.Errorf("attacker link in mrkdwn: %q", tok)
			}
		}
	}
	if text, want := payload["text"].(string), "<@U0ALICE> <!subteam^S0ONCALL> [P0] Evil*Alert_&lt;b&gt;&amp;amp;: prod/&lt;script&gt;alert(1)&lt;/script&gt;"+
		"\nRunbook: <https://klaxon.example.org/runbooks/evil?alert=66|&lt;/code&gt;&lt;script&gt;alert(1)&lt;/script&gt; &lt;!channel&gt; *bold* ∣ pipe &amp; &lt;https://evil.example∣click&gt;>"; text != want {
		t.Errorf("text: got %q, want %q", text, want)
	}
	for _, u := range urls {
		if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			t.Errorf("non-http(s) URL field: %q", u)
		}
	}
	// The whole payload, as sent: no mention or link survives anywhere, and
	// no javascript: or data: URL became a link. (plain_text, e.g. the
	// header, shows "<script>" literally: Slack parses no markup there.)
	raw := string(pretty(t, payload))
	for _, bad := range []string{"<!channel>", "<https://evil", "<@U123>", "<javascript:", "<data:", "|click>"} {
		if strings.Contains(raw, bad) {
			t.Errorf("payload contains raw %q", bad)
		}
	}
}

func TestBlockKitLimits(t *testing.T) {
	long := strings.Repeat("ä&<", 3000)
	a := &klaxon.Alert{
		ID: 5, State: klaxon.StateFiring, Level: 1, Severity: long, Summary: long,
		Labels:      map[string]string{"alertname": long, "pod": long, "namespace": long},
		Annotations: map[string]string{"description": long},
	}
	for i := range 20 {
		a.Labels[fmt.Sprintf("label_%02d", i)] = long
	}
	m := &notify.Message{
		GroupID: 1, Title: long, LevelName: "P1", Severity: long, State: klaxon.StateFiring,
		Labels: a.Labels, Alerts: []*klaxon.Alert{a}, Counts: klaxon.GroupCounts{Firing: 1},
		BaseURL: notifytest.BaseURL, URL: notifytest.BaseURL + "/alerts/5",
		Runbook: &notify.RunbookLink{Title: long, URL: notifytest.BaseURL + "/runbooks/x?alert=5", Steps: []string{long, long, long, long}, More: 9},
	}
	payload := posted(t, m)
	atts := payload["attachments"].([]any)
	blocks := append(payload["blocks"].([]any), atts[0].(map[string]any)["blocks"].([]any)...)
	for _, b := range blocks {
		b := b.(map[string]any)
		text := func(v any) string { return v.(map[string]any)["text"].(string) }
		switch b["type"] {
		case "header":
			if n := utf8.RuneCountInString(text(b["text"])); n > maxHeader {
				t.Errorf("header: %d characters, limit %d", n, maxHeader)
			}
		case "section":
			if b["text"] != nil {
				if n := utf8.RuneCountInString(text(b["text"])); n > maxSection {
					t.Errorf("section text: %d characters, limit %d", n, maxSection)
				}
			}
			if f, ok := b["fields"].([]any); ok {
				if len(f) > maxFields {
					t.Errorf("fields: %d, limit %d", len(f), maxFields)
				}
				for _, x := range f {
					if n := utf8.RuneCountInString(text(x)); n > maxField {
						t.Errorf("field: %d characters, limit %d", n, maxField)
					}
				}
			}
		}
	}
	marked, _, _ := markup(payload)
	for _, s := range marked {
		if n := strings.Count(s, "```"); n%2 != 0 {
			t.Errorf("%d fences: a code block left open: …%q", n, s[max(0, len(s)-40):])
		}
		if strings.HasSuffix(s, "…") {
			body := strings.TrimSuffix(s, "…")
			if i := strings.LastIndexByte(body, '&'); i >= 0 && !strings.Contains(body[i:], ";") {
				t.Errorf("truncation split an entity: …%q", body[max(0, len(body)-10):])
			}
		}
	}
}

func TestEscaping(t *testing.T) {
	for _, tc := range []struct{ name, got, want string }{
		{"escape", escape(`<!channel> & <@U1> <https://x|y>`), `&lt;!channel&gt; &amp; &lt;@U1&gt; &lt;https://x|y&gt;`},
		{"link", link("https://example.org/a?b=1&c=2", "Run<book>"), "<https://example.org/a?b=1&amp;c=2|Run&lt;book&gt;>"},
		{"link pipe", link("https://evil.example|click", "Source"), "<https://evil.example%7Cclick|Source>"},
		{"label pipe", link("https://x.example/", "a|b <c>"), "<https://x.example/|a∣b &lt;c&gt;>"},
		{"code block", first(codeBlock("a ``` b `````", 100)), "```a ``\u200b` b ``\u200b``\u200b`\u200b```"},
		{"code block ends", first(codeBlock("`x`", 100)), "```\u200b`x`\u200b```"},
		{"code block cut", first(codeBlock("``````", 4)), "```\u200b``\u200b…```"},
		{"link angle", link("https://x.example/><!channel>", "Source"), "<https://x.example/%3E%3C!channel%3E|Source>"},
		{"javascript", link("javascript:alert(1)", "Runbook"), ""},
		{"data", link("data:text/html,<script>", "Source"), ""},
		{"space", link("https://x.example/a b", "Source"), ""},
		{"newline", link("https://x.example/\n<!channel>", "Source"), ""},
		{"slack actor", actor("slack:U0BOB"), "<@U0BOB>"},
		{"slack actor forged", actor("slack:U0BOB> <!channel"), "slack:U0BOB&gt; &lt;!channel"},
		{"matrix actor", actor("@alice:example.org"), "@alice:example.org"},
		{"html actor", actor("<b>eve</b>"), "&lt;b&gt;eve&lt;/b&gt;"},
		{"truncate", truncate("abcdef", 4), "abc…"},
		{"truncate short", truncate("abc", 4), "abc"},
		{"trunc entity", truncMrkdwn("ab&amp;cd", 5), "ab…"},
		{"trunc link", truncMrkdwn("a <https://x.example|x> b", 10), "a …"},
		{"trunc whole", truncMrkdwn("a &amp; b", 20), "a &amp; b"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, tc.got, tc.want)
		}
	}
}

func first(s string, _ bool) string { return s }

func TestFollowUpTexts(t *testing.T) {
	cases := notifytest.Cases()
	acked := cases["critical_acked"]
	acked.Alerts[0].AckedBy = "slack:U0BOB"
	group := cases["group"]
	group.State, group.LastFrom = klaxon.StateAcknowledged, "acknowledged by <b>mallory</b>"
	for _, tc := range []struct {
		name string
		m    *notify.Message
		from klaxon.State
		want string
	}{
		{"ack by slack user", acked, klaxon.StateFiring, "Acknowledged by <@U0BOB>"},
		{"resolved by source", cases["critical_resolved"], klaxon.StateFiring, "Resolved by prod-alertmanager"},
		{"refired", cases["critical_firing"], klaxon.StateResolved, "Firing again. Reply `ack 12`"},
		{"group acked, escaped actor", group, klaxon.StateFiring, "Acknowledged by &lt;b&gt;mallory&lt;/b&gt;"},
	} {
		if got := changeText(tc.m, tc.from); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
	if got, want := remindText(cases["critical_firing"]), "Still firing… Reply `ack 12`"; got != want {
		t.Errorf("remind: got %q, want %q", got, want)
	}
}
