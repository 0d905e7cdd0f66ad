package app_test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/pgtest"
)

// buildDiagprog builds the diagnostics test program (modes: args, secret,
// hang…; see internal/diagnose/testdata/diagprog) into dir.
func buildDiagprog(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "diagprog")
	cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", bin, "../diagnose/testdata/diagprog")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build diagprog: %v\n%s", err, out)
	}
	return bin
}

const crashLoopRunbook = `---
title: Pod crash-looping
alerts: [KubePodCrashLooping]
owner: platform
---
# Pod crash-looping

The pod restarts over and over.

## Diagnose
` + "```diagnose" + `
PROG args {{ .Labels.namespace }} {{ .Labels.pod }}
PROG secret
rm -rf {{ .Labels.namespace }}
` + "```" + `

Then read the logs:
` + "```sh" + `
kubectl -n {{ .Labels.namespace }} logs {{ .Labels.pod }} --previous
` + "```" + `

## Common causes and fixes
- A bad deploy: roll back.

## Escalate
The service owner, after 15 minutes.
`

// TestRunbooksEndToEnd: a real Alertmanager fires an alert that has a
// runbook. The chat messages show the runbook with the alert's labels
// filled in; its diagnose steps run (one is refused by the allowlist, one
// prints secrets that are redacted); the output lands in the alert (API,
// CLI) and in its Matrix and Slack threads. In Matrix, "runbook N" answers
// with the filled steps and "diagnose N" runs them again. The runbook page
// is served as HTML, and an edited runbook file is picked up live.
func TestRunbooksEndToEnd(t *testing.T) {
	amBin := requireBinary(t, "prometheus-alertmanager")
	amtoolBin := requireBinary(t, "amtool")
	t.Run("sqlite", func(t *testing.T) { testRunbooksEndToEnd(t, amBin, amtoolBin, "") })
	t.Run("postgres", func(t *testing.T) { testRunbooksEndToEnd(t, amBin, amtoolBin, pgtest.URL(t)) })
}

func testRunbooksEndToEnd(t *testing.T, amBin, amtoolBin, database string) {
	tmp := t.TempDir()
	prog := buildDiagprog(t, tmp)
	dir := filepath.Join(tmp, "runbooks")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	rbFile := filepath.Join(dir, "crashloop.md")
	if err := os.WriteFile(rbFile, []byte(strings.ReplaceAll(crashLoopRunbook, "PROG", prog)), 0o644); err != nil {
		t.Fatal(err)
	}
	f := newChatFakes(t)
	k := startKlaxon(t, serverOptions{database: database, extraYAML: f.config("") + fmt.Sprintf(`
runbooks:
  dir: %s
diagnostics:
  enabled: true
  allow: ["%s args|secret"]
  timeout: 5s
`, dir, prog)})
	am := startAlertmanager(t, amBin, amtoolBin, k.URL, false)
	eventually(t, "the Matrix listener to be syncing", func() error {
		if n := f.matrix.Calls("sync"); n < 2 {
			return fmt.Errorf("%d sync calls", n)
		}
		return nil
	})

	am.add(t, amAlert{labels: map[string]string{"alertname": "KubePodCrashLooping", "namespace": "prod", "pod": "api-1", "severity": "critical"},
		summary: "Pod prod/api-1 is crash looping"}, time.Now().Add(-time.Minute), time.Time{})
	var id int64
	eventually(t, "the alert in Klaxon", func() error {
		list, err := k.Client.Alerts(t.Context(), "all", 10)
		if err != nil || len(list.Alerts) != 1 {
			return fmt.Errorf("alerts: %+v, %v", list, err)
		}
		id = list.Alerts[0].ID
		return nil
	})
	pageURL := fmt.Sprintf("https://klaxon.example.org/runbooks/crashloop?alert=%d", id)
	filledStep := prog + " args prod api-1"

	// The first message shows the runbook, its steps filled.
	eventually(t, "the runbook in the Matrix and Slack messages", func() error {
		m := f.botMessages()
		if len(m) != 1 || !strings.Contains(m[0].Body, "Pod crash-looping") || !strings.Contains(m[0].Body, filledStep) ||
			!strings.Contains(m[0].FormattedBody, pageURL) {
			return fmt.Errorf("matrix: %+v", m)
		}
		s := f.slackTop()
		if len(s) != 1 || !strings.Contains(string(s[0].Blocks)+string(s[0].Attachments), filledStep) {
			return fmt.Errorf("slack: %+v", s)
		}
		return nil
	})
	root := f.botMessages()[0].EventID

	// The diagnostics ran when it fired.
	var run *klaxon.Diagnostics
	eventually(t, "the diagnostics of the alert", func() error {
		d, err := k.Client.Alert(t.Context(), id)
		if err != nil || len(d.Diagnostics) != 1 {
			return fmt.Errorf("diagnostics: %+v, %v", d, err)
		}
		run = d.Diagnostics[0]
		return nil
	})
	if len(run.Results) != 3 || run.Runbook != "crashloop" || run.RequestedBy != "" {
		t.Fatalf("run: %+v", run)
	}
	if r := run.Results[0]; r.Status != klaxon.DiagnosticOK || r.Command != filledStep || !strings.Contains(r.Output, `"prod"`) || !strings.Contains(r.Output, `"api-1"`) {
		t.Errorf("args step: %+v", r)
	}
	if r := run.Results[1]; r.Status != klaxon.DiagnosticOK || !strings.Contains(r.Output, "[REDACTED]") || strings.Contains(r.Output, "PRIVATE KEY-----\nMII") {
		t.Errorf("secret step not redacted: %+v", r)
	}
	if r := run.Results[2]; r.Status != klaxon.DiagnosticRefused || !strings.Contains(r.Reason, "allowlist") || r.Output != "" {
		t.Errorf("rm step: %+v", r)
	}

	// The output is posted in the alert's threads.
	eventually(t, "the diagnostics note in the Matrix and Slack threads", func() error {
		if !matrixThreadHas(f, root, "Diagnostics for alert") {
			return fmt.Errorf("matrix thread: %+v", f.matrix.Messages(f.matrixRoom))
		}
		top := f.slackTop()[0]
		for _, m := range f.slack.Messages(slackChannel) {
			if m.ThreadTS == top.TS && m.TS != top.TS && strings.Contains(m.Text+string(m.Blocks), "Diagnostics for alert") {
				return nil
			}
		}
		return fmt.Errorf("slack thread: %+v", f.slack.Messages(slackChannel))
	})

	// In chat: the runbook with its steps filled, and diagnostics again.
	f.matrix.Say(matrixAlice, f.matrixRoom, fmt.Sprintf("runbook %d", id))
	eventually(t, "the answer to `runbook N`", func() error {
		if !matrixThreadHas(f, "", "kubectl -n prod logs api-1 --previous") {
			return fmt.Errorf("no reply with the filled steps: %+v", f.matrix.Messages(f.matrixRoom))
		}
		return nil
	})
	f.matrix.Say(matrixAlice, f.matrixRoom, fmt.Sprintf("diagnose %d", id))
	eventually(t, "the second diagnostics run", func() error {
		d, err := k.Client.Alert(t.Context(), id)
		if err != nil || len(d.Diagnostics) != 2 || d.Diagnostics[0].RequestedBy != matrixAlice {
			return fmt.Errorf("diagnostics: %+v, %v", d.Diagnostics, err)
		}
		return nil
	})

	// The CLI shows both.
	code, out, errOut := klaxonCLI(t, k, "runbook", "show", fmt.Sprint(id))
	if code != 0 || !strings.Contains(out, filledStep) || !strings.Contains(out, "kubectl -n prod logs api-1 --previous") {
		t.Errorf("runbook show: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = klaxonCLI(t, k, "alert", fmt.Sprint(id))
	if code != 0 || !strings.Contains(out, "Diagnostics (") || !strings.Contains(out, "asked by "+matrixAlice) || !strings.Contains(out, "refused") {
		t.Errorf("alert: exit %d\n%s%s", code, out, errOut)
	}

	// The page, filled for the alert, for a signed-in viewer.
	resp, err := browserSession(t, k, "victor", klaxon.RoleViewer).Get(k.URL + fmt.Sprintf("/runbooks/crashloop?alert=%d", id))
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	body := string(page)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "kubectl -n prod logs api-1 --previous") ||
		!strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Errorf("runbook page: %s\n%s", resp.Status, body)
	}

	// An edited file is served without a restart.
	edited := strings.Replace(strings.ReplaceAll(crashLoopRunbook, "PROG", prog), "title: Pod crash-looping", "title: Pod restarting in a loop", 1)
	if err := os.WriteFile(rbFile, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the edited runbook", func() error {
		rb, err := k.Client.Runbook(t.Context(), "KubePodCrashLooping")
		if err != nil || rb.Title != "Pod restarting in a loop" {
			return fmt.Errorf("runbook: %+v, %v", rb, err)
		}
		return nil
	})
}

// matrixThreadHas reports whether a bot message in the thread of root
// (any thread if root is "") contains text.
func matrixThreadHas(f *chatFakes, root, text string) bool {
	for _, m := range f.matrix.Messages(f.matrixRoom) {
		if m.Sender == matrixBot && m.RelType == "m.thread" && (root == "" || m.RelatesTo == root) &&
			strings.Contains(m.Body+m.FormattedBody, text) {
			return true
		}
	}
	return false
}
