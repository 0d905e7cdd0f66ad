package webui

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/klaxon-oss/klaxon"
)

// declare submits the declare form as b and returns the new incident's
// ID, read from the page the form led to.
func declare(t *testing.T, b *browser, service, summary, severity string) int64 {
	t.Helper()
	resp, body := b.post("/incidents", url.Values{"service": {service}, "summary": {summary}, "severity": {severity}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("declare: status %d:\n%s", resp.StatusCode, body)
	}
	id, err := strconv.ParseInt(strings.TrimPrefix(resp.Request.URL.Path, "/incidents/"), 10, 64)
	if err != nil {
		t.Fatalf("declare led to %s, want an incident's page", resp.Request.URL)
	}
	return id
}

// submit posts a form of an incident's page and checks that it came back
// to the page with flash.
func submit(t *testing.T, b *browser, id int64, form string, values url.Values, flash string) string {
	t.Helper()
	resp, body := b.post(fmt.Sprintf("/incidents/%d/%s", id, form), values)
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != incidentPath(id) {
		t.Fatalf("%s: status %d at %s:\n%s", form, resp.StatusCode, resp.Request.URL, body)
	}
	if !strings.Contains(body, flash) {
		t.Errorf("%s: page lacks %q:\n%s", form, flash, body)
	}
	return body
}

func (tu *testUI) incident(id int64) *klaxon.Incident {
	tu.t.Helper()
	inc, err := tu.UI.Incidents.Incident(context.Background(), id)
	if err != nil {
		tu.t.Fatal(err)
	}
	return inc
}

func TestIncidentLifecycle(t *testing.T) {
	tu := newTestUI(t)
	ctx := context.Background()
	responder := tu.signIn(klaxon.RoleResponder)
	viewer := tu.signIn(klaxon.RoleViewer)

	id := declare(t, responder, "api", "50% of requests failing", "SEV2")
	inc := tu.incident(id)
	if inc.Title != "INCIDENT: api - 50% of requests failing" || inc.Level != 1 || inc.Commander != responder.Name {
		t.Fatalf("declared %q at level %d, commander %q; want the form's, SEV2, %s", inc.Title, inc.Level, inc.Commander, responder.Name)
	}

	body := submit(t, responder, id, "updates", url.Values{"text": {"Found the bad deploy, rolling back"}, "status": {"identified"}}, "Update posted.")
	if !strings.Contains(body, "Found the bad deploy, rolling back") || !strings.Contains(body, `badge status-identified`) {
		t.Errorf("page after the update lacks its text or status:\n%s", body)
	}

	submit(t, responder, id, "checklist/2", url.Values{"done": {"true"}}, "Ticked item 2.")
	if got := tu.incident(id).Checklist[1].DoneBy; got != responder.Name {
		t.Errorf("checklist item 2 ticked by %q, want %q", got, responder.Name)
	}
	submit(t, responder, id, "checklist/2", url.Values{"done": {"false"}}, "Unticked item 2.")
	if tu.incident(id).Checklist[1].Done() {
		t.Error("checklist item 2 still ticked after untick")
	}

	submit(t, responder, id, "actions", url.Values{"text": {"Alert on connection pool saturation"}}, "Added action item")
	actions, err := tu.UI.Incidents.Actions(ctx, klaxon.ActionFilter{IncidentID: id})
	if err != nil || len(actions) != 1 {
		t.Fatalf("actions = %v, %v; want the one added", actions, err)
	}
	submit(t, responder, id, fmt.Sprintf("actions/%d/done", actions[0].ID), nil, fmt.Sprintf("Action item %d done.", actions[0].ID))

	submit(t, responder, id, "resolve", url.Values{"cause": {"A bad deploy"}, "fix": {"Rolled back"}, "impact": {"Half the API calls failed for 20 minutes"}}, "Resolved.")
	inc = tu.incident(id)
	if inc.Status != klaxon.IncidentResolved || inc.RootCause != "A bad deploy" {
		t.Fatalf("after resolve: status %s, cause %q", inc.Status, inc.RootCause)
	}

	// Everyone signed in reads every page of it.
	for _, path := range []string{"/incidents", incidentPath(id), incidentPath(id) + "/postmortem"} {
		resp, body := viewer.get(path)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("viewer GET %s: status %d:\n%s", path, resp.StatusCode, body)
		}
	}
	_, page := viewer.get(incidentPath(id) + "/postmortem")
	for _, want := range []string{"<h1", "Postmortem: INCIDENT: api - 50% of requests failing", "A bad deploy", "Alert on connection pool saturation", `class="hint"`} {
		if !strings.Contains(page, want) {
			t.Errorf("postmortem page lacks %q:\n%s", want, page)
		}
	}
	resp, md := viewer.get(incidentPath(id) + "/postmortem.md")
	if got := resp.Header.Get("Content-Type"); got != "text/markdown; charset=utf-8" {
		t.Errorf("postmortem.md Content-Type = %q", got)
	}
	if got := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(got, "attachment;") {
		t.Errorf("postmortem.md Content-Disposition = %q, want an attachment", got)
	}
	if !strings.HasPrefix(md, "# Postmortem: INCIDENT: api - 50% of requests failing\n") {
		t.Errorf("postmortem.md starts %.80q", md)
	}

	submit(t, responder, id, "postmortem/done", nil, "Postmortem marked done")
	if tu.incident(id).PostmortemDone.IsZero() {
		t.Error("postmortem not marked done")
	}
}

func TestIncidentFormProblems(t *testing.T) {
	tu := newTestUI(t)
	responder := tu.signIn(klaxon.RoleResponder)
	id := declare(t, responder, "db", "replication lag", "SEV3")

	tests := []struct {
		name   string
		form   string
		values url.Values
		want   []string // the problem, and what was typed, shown again
	}{
		{"update without text", "updates", url.Values{"text": {"  "}}, []string{"an update needs text"}},
		{"resolve without fix and impact", "resolve", url.Values{"cause": {"disk <full>"}},
			[]string{"to resolve, give the fix, impact", `name="cause" required>disk &lt;full&gt;</textarea>`}},
		{"unknown severity", "severity", url.Values{"severity": {"SEV9"}}, []string{"&#34;SEV9&#34; is not a severity"}},
		{"unknown alert", "alerts", url.Values{"alert": {"4242"}}, []string{"no alert 4242", `value="4242"`}},
		{"action of no incident of this one", "actions/77/done", nil, []string{fmt.Sprintf("incident %d has no action item 77", id)}},
		{"checklist item out of range", "checklist/99", url.Values{"done": {"true"}}, []string{"not 99"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := responder.post(fmt.Sprintf("/incidents/%d/%s", id, tt.form), tt.values)
			if resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusNotFound {
				t.Errorf("status %d, want 400 or 404", resp.StatusCode)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %q:\n%s", w, body)
				}
			}
		})
	}
	timeline, err := tu.UI.Incidents.Timeline(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if len(timeline) != 1 {
		t.Errorf("timeline has %d entries after refused forms, want only the declaration: %+v", len(timeline), timeline)
	}

	resp, body := responder.post("/incidents", url.Values{"service": {"api"}, "summary": {"slow"}, "failing": {"120%"}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "is not a failure rate") || !strings.Contains(body, `value="slow"`) {
		t.Errorf("declare with a bad failure rate: status %d, want 400 naming it with the form refilled:\n%s", resp.StatusCode, body)
	}
}

func TestIncidentSeveritySuggested(t *testing.T) {
	tu := newTestUI(t)
	responder := tu.signIn(klaxon.RoleResponder)
	resp, body := responder.post("/incidents", url.Values{"service": {"api"}, "summary": {"nobody can log in"}, "unreachable": {"on"}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "at SEV1") {
		t.Fatalf("declare with users unable to reach it: status %d, want SEV1 declared:\n%s", resp.StatusCode, body)
	}
}

func TestIncidentViewerCannotChange(t *testing.T) {
	tu := newTestUI(t)
	ctx := context.Background()
	responder := tu.signIn(klaxon.RoleResponder)
	viewer := tu.signIn(klaxon.RoleViewer)
	id := declare(t, responder, "api", "errors", "SEV2")
	before := tu.incident(id)

	_, page := viewer.get(incidentPath(id))
	if strings.Contains(page, `action="/incidents/`) {
		t.Errorf("a viewer's incident page has forms:\n%s", page)
	}
	posts := map[string]url.Values{
		"/incidents":                      {"service": {"db"}, "summary": {"down"}, "severity": {"SEV1"}},
		incidentPath(id) + "/updates":     {"text": {"hello"}},
		incidentPath(id) + "/checklist/2": {"done": {"true"}},
		incidentPath(id) + "/resolve":     {"cause": {"a"}, "fix": {"b"}, "impact": {"c"}},
		incidentPath(id) + "/roles":       {"role": {"commander"}, "person": {"me"}},
	}
	for path, form := range posts {
		resp, _ := viewer.post(path, form)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("viewer POST %s: status %d, want 403", path, resp.StatusCode)
		}
	}
	after := tu.incident(id)
	if after.Status != before.Status || after.Commander != before.Commander || after.Checklist[1].Done() {
		t.Errorf("a viewer changed the incident: %+v", after)
	}
	all, err := tu.UI.Incidents.Incidents(ctx, klaxon.IncidentFilter{})
	if err != nil || len(all) != 1 {
		t.Errorf("incidents = %d, %v; want only the responder's", len(all), err)
	}
	timeline, err := tu.UI.Incidents.Timeline(ctx, id)
	if err != nil || len(timeline) != 1 {
		t.Errorf("timeline has %d entries (%v), want only the declaration", len(timeline), err)
	}
}

func TestIncidentTextIsEscaped(t *testing.T) {
	tu := newTestUI(t)
	responder := tu.signIn(klaxon.RoleResponder)
	id := declare(t, responder, "api", "<script>alert(1)</script>", "SEV2")
	submit(t, responder, id, "notes", url.Values{"text": {`<img src=x onerror=alert(2)>`}}, "Note added.")
	submit(t, responder, id, "actions", url.Values{"text": {`<a href="javascript:alert(3)">x</a>`}}, "Added action item")

	for _, path := range []string{"/incidents", incidentPath(id), incidentPath(id) + "/postmortem"} {
		_, body := responder.get(path)
		// The layout's own script tag is the only one.
		if n := strings.Count(body, "<script"); n != 1 {
			t.Errorf("%s has %d script tags, want only the layout's:\n%s", path, n, body)
		}
		for _, bad := range []string{"<img", `href="javascript`} {
			if strings.Contains(body, bad) {
				t.Errorf("%s contains %q:\n%s", path, bad, body)
			}
		}
		if !strings.Contains(body, "alert(1)") {
			t.Errorf("%s lost the title's text:\n%s", path, body)
		}
	}
}

func TestIncidentNotFound(t *testing.T) {
	tu := newTestUI(t)
	viewer := tu.signIn(klaxon.RoleViewer)
	for _, path := range []string{"/incidents/999", "/incidents/seven", "/incidents/999/postmortem"} {
		resp, body := viewer.get(path)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404:\n%s", path, resp.StatusCode, body)
		}
	}
}
