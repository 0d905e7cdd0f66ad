package webui

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/klaxon-oss/klaxon"
)

// hostile is a runbook whose text tries to smuggle markup in.
const hostile = `---
title: 'Disk <script>alert(1)</script> full'
alerts: [DiskFull]
owner: '<img src=x onerror=alert(1)>'
---
# Disk full <b>now</b>

<script>alert("raw html")</script>
<a href="javascript:alert(1)">click</a>

## Diagnose
` + "```diagnose" + `
df -h {{ .Labels.pod }}
` + "```" + `
## Causes
## Escalate
`

// writeRunbooks replaces the test UI's runbooks with files and reloads
// them.
func (tu *testUI) writeRunbooks(files map[string]string) {
	tu.t.Helper()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(tu.RunbookDir, name), []byte(text), 0o644); err != nil {
			tu.t.Fatal(err)
		}
	}
	if err := tu.UI.Runbooks.Reload(); err != nil {
		tu.t.Fatal(err)
	}
}

func TestRunbookPageIsInert(t *testing.T) {
	tu := newTestUI(t)
	tu.writeRunbooks(map[string]string{"disk-full.md": hostile})
	id := tu.ingest("disk", map[string]string{"alertname": "DiskFull", "pod": `db-0"><script>alert(2)</script>`}, "disk full")
	viewer := tu.signIn(klaxon.RoleViewer)

	resp, body := viewer.get(fmt.Sprintf("/runbooks/disk-full?alert=%d", id))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d:\n%s", resp.StatusCode, body)
	}
	// The layout's own script tag is the only one.
	if n := strings.Count(body, "<script"); n != 1 {
		t.Errorf("page has %d script tags, want only the layout's:\n%s", n, body)
	}
	for _, bad := range []string{"<img", `href="javascript`, "<b>now</b>"} {
		if strings.Contains(body, bad) {
			t.Errorf("page contains %q:\n%s", bad, body)
		}
	}
	// The alert's steps are filled, escaped.
	if !strings.Contains(body, "df -h db-0&#34;&gt;&lt;script&gt;alert(2)&lt;/script&gt;") {
		t.Errorf("filled step missing or unescaped:\n%s", body)
	}
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("Content-Security-Policy = %q, want only Klaxon's own script", csp)
	}
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q", resp.Header.Get("X-Content-Type-Options"))
	}
}

func TestRunbookPages(t *testing.T) {
	tu := newTestUI(t)
	tu.writeRunbooks(map[string]string{"broken.md": "---\nalerts: [\n---\n# Broken\n"})
	viewer := tu.signIn(klaxon.RoleViewer)
	tests := []struct {
		path   string
		status int
		want   []string
	}{
		{"/runbooks", http.StatusOK, []string{`href="/runbooks/disk-full"`, "Files with problems", "broken.md:"}},
		{"/runbooks/", http.StatusOK, []string{`href="/runbooks/disk-full"`}},
		{"/runbooks/disk-full", http.StatusOK, []string{"df -h {{ .Labels.pod }}"}},
		{"/runbooks/disk-full?alert=99", http.StatusOK, []string{"df -h {{ .Labels.pod }}"}}, // unknown alert: the plain runbook
		{"/runbooks/nosuch", http.StatusNotFound, []string{"No runbook “nosuch”"}},
	}
	for _, tt := range tests {
		resp, body := viewer.get(tt.path)
		if resp.StatusCode != tt.status {
			t.Errorf("%s: status %d, want %d", tt.path, resp.StatusCode, tt.status)
		}
		for _, w := range tt.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s: page lacks %q:\n%s", tt.path, w, body)
			}
		}
	}
}

func TestRunbookPagesNeedSignIn(t *testing.T) {
	tu := newTestUI(t)
	anonymous := tu.browser()
	for _, path := range []string{"/runbooks", "/runbooks/disk-full", "/runbooks/coverage"} {
		resp, _ := anonymous.send(http.MethodGet, path, nil, false)
		want := "/login?next=" + url.QueryEscape(path)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != want {
			t.Errorf("GET %s signed out: status %d to %q, want 303 to %q", path, resp.StatusCode, resp.Header.Get("Location"), want)
		}
	}
}

func TestRunbookCoverage(t *testing.T) {
	tu := newTestUI(t)
	tu.writeRunbooks(map[string]string{"redis.md": "---\nalerts: [RedisDown]\nmatchers: ['env=\"prod\"']\n---\n# Redis down\n"})
	for i, labels := range []map[string]string{
		{"alertname": "DiskFull", "pod": "a"},
		{"alertname": "DiskFull", "pod": "b"},
		{"alertname": "CertExpiring", "host": "a"},
		{"alertname": "CertExpiring", "host": "b"},
		{"alertname": "CertExpiring", "host": "c"},
		{"alertname": "RedisDown", "env": "prod"},
		{"alertname": "RedisDown", "env": "dev"},
	} {
		tu.ingest(fmt.Sprint("k", i), labels, "something")
	}
	viewer := tu.signIn(klaxon.RoleViewer)
	resp, body := viewer.get("/runbooks/coverage")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d:\n%s", resp.StatusCode, body)
	}
	sections := map[string]string{}
	for _, part := range regexp.MustCompile(`<h2>`).Split(body, -1)[1:] {
		title, rest, _ := strings.Cut(part, "</h2>")
		sections[title] = rest
	}
	tests := []struct {
		section string
		want    []string
	}{
		{"Without a runbook", []string{"<code>CertExpiring</code>", `data-label="Alerts">3</td>`}},
		{"With a runbook for some of their alerts", []string{"<code>RedisDown</code>", "1 of 2", `href="/runbooks/redis"`}},
		{"With a runbook", []string{"<code>DiskFull</code>", `data-label="Alerts">2</td>`, `href="/runbooks/disk-full"`}},
	}
	for _, tt := range tests {
		got, ok := sections[tt.section]
		if !ok {
			t.Errorf("no section %q:\n%s", tt.section, body)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("section %q lacks %q:\n%s", tt.section, w, got)
			}
		}
	}
	if strings.Contains(sections["Without a runbook"], "DiskFull") {
		t.Errorf("DiskFull listed without a runbook:\n%s", sections["Without a runbook"])
	}
}
