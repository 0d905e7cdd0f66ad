package webui

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/runbook"
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

func newPages(t *testing.T, files map[string]string) http.Handler {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c := runbook.NewCatalog(dir, nil)
	if err := c.Reload(); err != nil {
		t.Fatal(err)
	}
	alerts := map[int64]*klaxon.Alert{
		12: {ID: 12, State: klaxon.StateFiring, Labels: map[string]string{"alertname": "DiskFull", "pod": `db-0"><script>alert(2)</script>`}},
	}
	p := &Pages{Runbooks: c, Alert: func(_ context.Context, id int64) (*klaxon.Alert, error) {
		if a, ok := alerts[id]; ok {
			return a, nil
		}
		return nil, klaxon.Errorf(klaxon.ENOTFOUND, "alert %d not found", id)
	}}
	return p.Handler()
}

func fetch(t *testing.T, h http.Handler, path string) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	resp := rec.Result()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestRunbookPageIsInert(t *testing.T) {
	h := newPages(t, map[string]string{"disk-full.md": hostile})
	resp, body := fetch(t, h, "/runbooks/disk-full?alert=12")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d:\n%s", resp.StatusCode, body)
	}
	for _, bad := range []string{"<script", "<img", "javascript:alert", "<b>now</b>"} {
		if strings.Contains(body, bad) {
			t.Errorf("page contains %q:\n%s", bad, body)
		}
	}
	// The alert's steps are filled, escaped.
	if !strings.Contains(body, "df -h db-0&#34;&gt;&lt;script&gt;alert(2)&lt;/script&gt;") {
		t.Errorf("filled step missing or unescaped:\n%s", body)
	}
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") {
		t.Errorf("Content-Security-Policy = %q, want no script allowed", csp)
	}
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q", resp.Header.Get("X-Content-Type-Options"))
	}
}

func TestRunbookPages(t *testing.T) {
	h := newPages(t, map[string]string{
		"disk-full.md": hostile,
		"broken.md":    "---\nalerts: [\n---\n# Broken\n",
	})
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
		resp, body := fetch(t, h, tt.path)
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
