package matrix

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/klaxon-oss/klaxon/internal/notify/notifytest"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current rendering")

// TestRenderGolden renders every sample message to the content Send would
// PUT, compared with testdata/<name>.golden.
func TestRenderGolden(t *testing.T) {
	ch := newChannel(t, "http://127.0.0.1:1", "#alerts:example.org", "@alice:example.org", "@bob:example.org")
	for name, m := range notifytest.Cases() {
		t.Run(name, func(t *testing.T) {
			got := render(m, ch.mentions(m))
			b := indentJSON(t, got)
			path := filepath.Join("testdata", name+".golden")
			if *update {
				if err := os.WriteFile(path, b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(b, want) {
				t.Errorf("rendering differs from %s (run go test -update if intended)\ngot:\n%s", path, b)
			}
			checkSafeHTML(t, got.FormattedBody)
			if m.Critical() != (len(got.Mentions.UserIDs) > 0) {
				t.Errorf("critical %v, mentions %v", m.Critical(), got.Mentions.UserIDs)
			}
		})
	}
}

// TestRenderHostile checks the sample built of every format's special
// characters: nothing of it becomes markup or a link.
func TestRenderHostile(t *testing.T) {
	m := notifytest.Cases()["hostile"]
	for name, c := range map[string]content{
		"message":  render(m, nil),
		"edit":     *replacement(render(m, nil), "$e").NewContent,
		"reminder": reminder(m, "$e", nil),
		"reply":    notice(`<script>alert(1)</script> <a href="javascript:x">`, "$e", "$e"),
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
	allowedTags = map[string]bool{"p": true, "b": true, "br": true, "font": true, "a": true, "code": true, "ul": true, "li": true}
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
