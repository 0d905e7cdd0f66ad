package matrix

import (
	"bytes"
	"encoding/json"
	"flag"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/klaxon-oss/klaxon/internal/notify"
	"github.com/klaxon-oss/klaxon/internal/notify/notifytest"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current rendering")

// TestRenderGolden renders every sample message to the content Send would
// PUT, compared with testdata/<name>.golden.
func TestRenderGolden(t *testing.T) {
	ch := newChannel(t, "http://127.0.0.1:1", "#alerts:example.org", "@alice:example.org", "@bob:example.org")
	for name, m := range notifytest.Cases() {
		t.Run(name, func(t *testing.T) {
			got := render(m, ch.mentions(m), ch.people(m.Mention))
			b := indentJSON(t, got)
			notifytest.Golden(t, filepath.Join("testdata", name+".golden"), b, *update)
			checkSafeHTML(t, got.FormattedBody)
			checkBalanced(t, got.FormattedBody)
			if m.Critical() != (len(got.Mentions.UserIDs) > 0) {
				t.Errorf("critical %v, mentions %v", m.Critical(), got.Mentions.UserIDs)
			}
		})
	}
}

// TestNoteGolden renders every sample note to the content Note would PUT,
// compared with testdata/<name>.golden.
func TestNoteGolden(t *testing.T) {
	for name, n := range notifytest.Notes() {
		t.Run(name, func(t *testing.T) {
			got := fitNote(n, "$root")
			b := indentJSON(t, got)
			notifytest.Golden(t, filepath.Join("testdata", name+".golden"), b, *update)
			checkSafeHTML(t, got.FormattedBody)
			checkBalanced(t, got.FormattedBody)
			if got.MsgType != "m.notice" || got.Mentions == nil || len(got.Mentions.UserIDs) != 0 {
				t.Errorf("got msgtype %q mentions %+v, want a notice that mentions nobody", got.MsgType, got.Mentions)
			}
		})
	}
}

// TestNoteFits cuts a note of huge outputs to fit in one event, and says
// where the rest is.
func TestNoteFits(t *testing.T) {
	n := notifytest.Notes()["note"]
	for i := range n.Items {
		n.Items[i].Body = strings.Repeat("<&\"\x1b>", 20000)
	}
	got := fitNote(n, "$root")
	b, err := marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > maxNoteEvent {
		t.Errorf("note event is %d bytes, limit %d", len(b), maxNoteEvent)
	}
	if c := strings.Count(got.FormattedBody, "(cut, see <a href=\"https://klaxon.example.org/alerts/12\">Klaxon</a>)"); c != len(n.Items) {
		t.Errorf("got %d cut notices in formatted_body, want %d (one per item)", c, len(n.Items))
	}
	checkSafeHTML(t, got.FormattedBody)
	checkBalanced(t, got.FormattedBody)
}

// TestRunbookReplacesAnnotation shows the runbook_url annotation only when
// Klaxon has no runbook for the message.
func TestRunbookReplacesAnnotation(t *testing.T) {
	m := notifytest.Cases()["critical_firing"]
	with := render(m, nil, nil)
	if strings.Contains(with.Body, "https://runbooks.example.org/") || !strings.Contains(with.Body, "📖 Runbook: Pod crash looping — https://klaxon.example.org/runbooks/pod-crash-looping?alert=12") {
		t.Errorf("with a runbook, body:\n%s", with.Body)
	}
	if !strings.Contains(with.FormattedBody, "<p>+2 more steps in the runbook</p>") || strings.Count(with.FormattedBody, "<pre><code>") != 2 {
		t.Errorf("with a runbook, formatted_body:\n%s", with.FormattedBody)
	}
	m.Runbook = nil
	without := render(m, nil, nil)
	if !strings.Contains(without.Body, "Runbook: https://runbooks.example.org/KubePodCrashLooping") || strings.Contains(without.Body, "📖") {
		t.Errorf("without a runbook, body:\n%s", without.Body)
	}
	group := render(notifytest.Cases()["group"], nil, nil)
	if n := strings.Count(group.FormattedBody, "📖 Runbook"); n != 1 {
		t.Errorf("group shows the runbook %d times, want once", n)
	}
}

// checkBalanced fails unless every tag that opens in html closes, in order:
// text that closes a tag early (</code></pre></details>) would break out.
func checkBalanced(t *testing.T, html string) {
	t.Helper()
	var open []string
	for _, m := range tagPattern.FindAllStringSubmatch(html, -1) {
		switch {
		case m[2] == "br":
		case m[1] == "":
			open = append(open, m[2])
		case len(open) == 0 || open[len(open)-1] != m[2]:
			t.Errorf("</%s> closes %v: %s", m[2], open, html)
			return
		default:
			open = open[:len(open)-1]
		}
	}
	if len(open) > 0 {
		t.Errorf("tags left open %v: %s", open, html)
	}
}

// TestRenderHostile checks the sample built of every format's special
// characters: nothing of it becomes markup or a link.
func TestRenderHostile(t *testing.T) {
	m := notifytest.Cases()["hostile"]
	for name, c := range map[string]content{
		"message":  render(m, nil, nil),
		"edit":     *replacement(render(m, nil, nil), "$e").NewContent,
		"reminder": reminder(m, "$e", nil),
		"reply": notice(notify.Reply{Text: `<script>alert(1)</script> <a href="javascript:x">`,
			Code: "</code></pre><script>alert(1)</script>"}, "$e", "$e"),
		"note": renderNote(notifytest.Notes()["note_hostile"], "$e", maxNoteBody),
	} {
		t.Run(name, func(t *testing.T) {
			checkSafeHTML(t, c.FormattedBody)
			for _, bad := range []string{"<script", "<img", "<a href=\"javascript", "javascript:alert(1)\"", "data:text"} {
				if strings.Contains(c.FormattedBody, bad) {
					t.Errorf("formatted_body contains %q:\n%s", bad, c.FormattedBody)
				}
			}
		})
	}
}

var (
	tagPattern  = regexp.MustCompile(`<(/?)([a-zA-Z0-9-]+)([^>]*)>`)
	hrefPattern = regexp.MustCompile(`href="([^"]*)"`)
	allowedTags = map[string]bool{
		"p": true, "b": true, "br": true, "font": true, "a": true, "code": true, "ul": true, "li": true,
		"pre": true, "details": true, "summary": true,
	}
)

// checkSafeHTML fails unless html uses only the tags render writes, and
// every link is http(s).
func checkSafeHTML(t *testing.T, html string) {
	t.Helper()
	for _, m := range tagPattern.FindAllStringSubmatch(html, -1) {
		if !allowedTags[m[2]] {
			t.Errorf("formatted_body has tag <%s>: %s", m[2], html)
		}
		attrs := hrefPattern.ReplaceAllString(m[3], "")
		attrs = regexp.MustCompile(`(data-mx-)?color="#[0-9A-F]{6}"`).ReplaceAllString(attrs, "")
		if strings.TrimSpace(attrs) != "" {
			t.Errorf("formatted_body tag <%s> has attributes %q", m[2], m[3])
		}
	}
	for _, m := range hrefPattern.FindAllStringSubmatch(html, -1) {
		if !strings.HasPrefix(m[1], "https://") && !strings.HasPrefix(m[1], "http://") {
			t.Errorf("formatted_body links to %q", m[1])
		}
	}
}

func indentJSON(t *testing.T, v any) []byte {
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
