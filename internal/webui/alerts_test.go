package webui

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/incident"
)

// Markup an attacker would put in alert labels and annotations, and how
// it must show once escaped.
const (
	xssScript           = `<script>alert(1)</script>`
	xssScriptEscaped    = `&lt;script&gt;alert(1)&lt;/script&gt;`
	xssAttribute        = `"><img src=x onerror=alert(1)>`
	xssAttributeEscaped = `&#34;&gt;&lt;img src=x onerror=alert(1)&gt;`
)

// TestPagesRenderForViewer visits every page as a viewer: each answers,
// under the strict Content-Security-Policy, with no inline script, style
// or event handler that the policy would block.
func TestPagesRenderForViewer(t *testing.T) {
	tu := newTestUI(t)
	id := tu.ingest("disk", map[string]string{"alertname": "DiskFull", "namespace": "prod", "pod": "db-0", "severity": "critical"}, "Disk 95% full")
	inc, err := tu.UI.Incidents.Declare(context.Background(), incident.Declaration{AlertID: id, Reporter: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	viewer := tu.signIn(klaxon.RoleViewer)
	inline := regexp.MustCompile(`(?i)<script(\s+[^>]*)?>|\sstyle=|\son[a-z]+=`)
	for _, tt := range []struct {
		path   string
		status int
	}{
		{"/", http.StatusOK},
		{"/alerts", http.StatusOK},
		{"/alerts?" + url.Values{"state": {"open"}, "severity": {"P0"}, "match": {`{namespace="prod"}`}, "q": {"disk"}, "since": {"24h"}}.Encode(), http.StatusOK},
		{"/alerts?state=sideways", http.StatusBadRequest},
		{fmt.Sprintf("/alerts/%d", id), http.StatusOK},
		{"/alerts/999999", http.StatusNotFound},
		{fmt.Sprintf("/incidents/%d", inc.ID), http.StatusOK},
		{"/incidents", http.StatusOK},
		{"/oncall", http.StatusOK},
		{"/oncall/primary", http.StatusOK},
		{"/runbooks", http.StatusOK},
		{"/runbooks/disk-full", http.StatusOK},
		{"/insights", http.StatusOK},
		{"/account", http.StatusOK},
		{"/admin/users", http.StatusForbidden},
		{"/no/such/page", http.StatusNotFound},
	} {
		t.Run(tt.path, func(t *testing.T) {
			resp, body := viewer.get(tt.path)
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d:\n%s", resp.StatusCode, tt.status, body)
			}
			if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "script-src 'self'") {
				t.Errorf("Content-Security-Policy = %q", csp)
			}
			// The only script is app.js; no inline style or handler.
			for _, m := range inline.FindAllString(body, -1) {
				if m != `<script src="/static/app.js" defer>` {
					t.Errorf("page has %q", m)
				}
			}
		})
	}
}

func TestMarkupIsEscaped(t *testing.T) {
	tu := newTestUI(t)
	id := tu.ingest("xss", map[string]string{
		"alertname": "DiskFull", "namespace": xssScript, "pod": xssAttribute, "severity": "critical",
	}, "Disk "+xssScript+" "+xssAttribute)
	viewer := tu.signIn(klaxon.RoleResponder)
	for _, path := range []string{"/", "/alerts", fmt.Sprintf("/alerts/%d", id)} {
		_, body := viewer.get(path)
		for _, raw := range []string{xssScript, xssAttribute, "<img"} {
			if strings.Contains(body, raw) {
				t.Errorf("%s contains %q unescaped", path, raw)
			}
		}
		for _, escaped := range []string{xssScriptEscaped, xssAttributeEscaped} {
			if !strings.Contains(body, escaped) {
				t.Errorf("%s does not show %q as text:\n%s", path, escaped, body)
			}
		}
	}
	// The runbook's step, filled with the pod label, is escaped too.
	_, body := viewer.get(fmt.Sprintf("/alerts/%d", id))
	if !strings.Contains(body, "df -h "+xssAttributeEscaped) {
		t.Errorf("the alert page lacks the filled runbook step:\n%s", body)
	}
}

func TestAlertButtons(t *testing.T) {
	tu := newTestUI(t)
	id := tu.ingest("cpu", map[string]string{"alertname": "HighCPU", "instance": "node-1", "severity": "warning"}, "CPU at 99%")
	ack := fmt.Sprintf("/alerts/%d/ack", id)
	viewer := tu.signIn(klaxon.RoleViewer)
	responder := tu.signIn(klaxon.RoleResponder)

	_, body := viewer.get("/")
	if !strings.Contains(body, fmt.Sprintf(`<tr id="alert-%d" data-state="firing">`, id)) {
		t.Fatalf("the Now page lacks the alert's row:\n%s", body)
	}
	if strings.Contains(body, `class="ack"`) {
		t.Errorf("a viewer sees an ack button:\n%s", body)
	}
	if resp, _ := viewer.post(ack, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a viewer's ack: status %d, want 403", resp.StatusCode)
	}
	if resp, _ := responder.send(http.MethodPost, ack, url.Values{"next": {"/"}}, false); resp.StatusCode != http.StatusForbidden {
		t.Errorf("an ack without the CSRF token: status %d, want 403", resp.StatusCode)
	}
	if a := tu.alert(id); a.State != klaxon.StateFiring {
		t.Fatalf("after refused acks the alert is %s, want firing", a.State)
	}

	_, body = responder.get("/")
	if !strings.Contains(body, fmt.Sprintf(`action="/alerts/%d/ack"`, id)) || !strings.Contains(body, `<button class="ack"`) {
		t.Fatalf("a responder has no ack button:\n%s", body)
	}
	resp, body := responder.post(ack, url.Values{"next": {"/"}})
	if resp.Request.URL.Path != "/" || !strings.Contains(body, fmt.Sprintf("Acknowledged alert %d.", id)) {
		t.Errorf("after the ack: at %s, want / saying so:\n%s", resp.Request.URL, body)
	}
	if a := tu.alert(id); a.State != klaxon.StateAcknowledged || a.AckedBy != responder.Name {
		t.Errorf("stored: %s by %q, want acknowledged by %s", a.State, a.AckedBy, responder.Name)
	}
	if !strings.Contains(body, fmt.Sprintf(`<tr id="alert-%d" data-state="acknowledged">`, id)) || !strings.Contains(body, `<button class="unack"`) {
		t.Errorf("the Now page does not show the alert acknowledged with an unack button:\n%s", body)
	}

	resolve := fmt.Sprintf("/alerts/%d/resolve", id)
	resp, body = responder.post(resolve, nil)
	if resp.Request.URL.Path != fmt.Sprintf("/alerts/%d", id) || !strings.Contains(body, fmt.Sprintf("Resolved alert %d.", id)) {
		t.Errorf("after resolving: at %s, want the alert's page saying so:\n%s", resp.Request.URL, body)
	}
	// Resolving twice (two people at once) is a message, not an error page.
	resp, body = responder.post(resolve, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "is already resolved") {
		t.Errorf("resolving again: status %d, want the alert's page with the conflict:\n%s", resp.StatusCode, body)
	}
}

func TestDeclareFromAlert(t *testing.T) {
	tu := newTestUI(t)
	id := tu.ingest("api", map[string]string{"alertname": "APIErrors", "service": "api", "severity": "critical"}, "5xx at 40%")
	responder := tu.signIn(klaxon.RoleResponder)
	_, body := responder.get(fmt.Sprintf("/alerts/%d", id))
	if !strings.Contains(body, "Declare incident from this alert") {
		t.Fatalf("no declare form on the alert's page:\n%s", body)
	}
	responder.post(fmt.Sprintf("/alerts/%d/declare", id), nil)
	open, err := tu.UI.Incidents.Incidents(context.Background(), klaxon.IncidentFilter{Open: true})
	if err != nil || len(open) != 1 {
		t.Fatalf("open incidents: %v, %v; want 1", open, err)
	}
	if inc := open[0]; inc.Service != "api" || inc.Commander != responder.Name || len(inc.Alerts) != 1 || inc.Alerts[0] != id {
		t.Errorf("declared %+v, want service api, commander %s, alert %d", inc, responder.Name, id)
	}
	_, body = responder.get("/")
	if !strings.Contains(body, fmt.Sprintf(`href="/incidents/%d"`, open[0].ID)) {
		t.Errorf("the Now page does not link the open incident:\n%s", body)
	}
}

func TestAlertListPages(t *testing.T) {
	tu := newTestUI(t)
	var signals []klaxon.Signal
	for i := range 130 {
		ns := []string{"prod", "staging"}[i%2]
		signals = append(signals, klaxon.Signal{
			Key: fmt.Sprint("k", i), Action: klaxon.ActionTrigger, Severity: "critical", Summary: fmt.Sprintf("disk %d", i),
			Labels: map[string]string{"alertname": "DiskFull", "namespace": ns, "pod": fmt.Sprint("db-", i)},
		})
	}
	if _, err := tu.UI.Alerts.Ingest(context.Background(), "test", signals); err != nil {
		t.Fatal(err)
	}
	viewer := tu.signIn(klaxon.RoleViewer)

	// 65 prod alerts: a page of 50, then one of 15, newest first, whether
	// the store filters (=) or the search does (=~).
	for _, match := range []string{`{namespace="prod"}`, `{namespace=~"pr.d", pod!=""}`} {
		seen := tu.listAll(viewer, "/alerts?"+url.Values{"match": {match}, "state": {"firing"}}.Encode(), func(a *klaxon.Alert) bool {
			return a.Labels["namespace"] == "prod"
		})
		if len(seen) != 65 {
			t.Errorf("%s: listed %d prod alerts over the pages, want 65", match, len(seen))
		}
	}

	// Free text and severity narrow it further.
	_, body := viewer.get("/alerts?" + url.Values{"q": {"disk 12"}, "severity": {"P0"}}.Encode())
	if got := len(alertRow.FindAllString(body, -1)); got != 11 { // disk 12, disk 120–129
		t.Errorf("search for \"disk 12\": %d rows, want 11", got)
	}
	_, body = viewer.get("/alerts?severity=P3")
	if got := len(alertRow.FindAllString(body, -1)); got != 0 {
		t.Errorf("severity P3: %d rows, want 0", got)
	}
	resp, body := viewer.get("/alerts?" + url.Values{"match": {`{namespace=~"("}`}}.Encode())
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Labels: ") {
		t.Errorf("a bad regular expression: status %d, want 400 naming the field:\n%s", resp.StatusCode, body)
	}
}

var (
	alertRow  = regexp.MustCompile(`<tr id="alert-(\d+)" data-state="firing">`)
	olderLink = regexp.MustCompile(`<a href="([^"]+)" rel="next">Older`)
)

// listAll follows a list's Older links from path and returns the IDs of
// every alert listed, checking each is one want keeps and that they come
// newest first.
func (tu *testUI) listAll(b *browser, path string, want func(*klaxon.Alert) bool) []int64 {
	t := tu.t
	t.Helper()
	var seen []int64
	for pages := 0; path != ""; pages++ {
		if pages == 10 {
			t.Fatalf("still more pages after 10, at %s", path)
		}
		resp, body := b.get(path)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d:\n%s", path, resp.StatusCode, body)
		}
		for _, m := range alertRow.FindAllStringSubmatch(body, -1) {
			var id int64
			fmt.Sscan(m[1], &id)
			if a := tu.alert(id); !want(a) {
				t.Errorf("%s lists alert %d with labels %v", path, id, a.Labels)
			}
			if len(seen) > 0 && id >= seen[len(seen)-1] {
				t.Errorf("%s: alert %d after %d, want newest first", path, id, seen[len(seen)-1])
			}
			seen = append(seen, id)
		}
		path = ""
		if m := olderLink.FindStringSubmatch(body); m != nil {
			path = html.UnescapeString(m[1])
			if !strings.Contains(path, "match=") || !strings.Contains(path, "before=") {
				t.Errorf("the Older link %q does not carry the filter and the cursor", path)
			}
		}
	}
	return seen
}
