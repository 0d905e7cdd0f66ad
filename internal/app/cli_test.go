package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/klaxon-oss/klaxon/internal/cli"
	"github.com/klaxon-oss/klaxon/internal/httpapi"
)

// klaxonCLI runs the klaxon command line against s as a user would.
func klaxonCLI(t *testing.T, s *klaxonServer, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	args = append([]string{"--server", s.URL, "--token", cliToken}, args...)
	code = cli.Execute(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestCLI(t *testing.T) {
	s := startKlaxon(t, serverOptions{})
	post(t, s.URL+"/api/v1/ingest/alertmanager", fixture(t, "am-webhook-v4-firing.json"), bearer(amToken)...)
	post(t, s.URL+"/api/v1/ingest/alertmanager", fixture(t, "am-webhook-v4-firing-warning.json"), bearer(amToken)...)

	code, out, _ := klaxonCLI(t, s, "alerts")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 4 {
		t.Fatalf("alerts: exit %d, %d lines, want a header and 3 alerts:\n%s", code, len(lines), out)
	}
	for _, col := range []string{"ID", "SEV", "STATE", "ALERTNAME", "WHERE", "SUMMARY", "AGE", "COUNT"} {
		if !strings.Contains(lines[0], col) {
			t.Errorf("alerts header lacks %s: %q", col, lines[0])
		}
	}
	if !strings.Contains(out, "payments/payments-api-7d9f8b6c5-q8w4z") || !strings.Contains(out, "P0") || !strings.Contains(out, "P2") {
		t.Errorf("alerts table lacks where or severities:\n%s", out)
	}

	code, out, _ = klaxonCLI(t, s, "-o", "json", "alerts")
	var list httpapi.AlertList
	if err := json.Unmarshal([]byte(out), &list); code != 0 || err != nil || len(list.Alerts) != 3 {
		t.Fatalf("alerts -o json: exit %d, err %v, %d alerts", code, err, len(list.Alerts))
	}
	id := list.Alerts[len(list.Alerts)-1].ID
	ids := fmt.Sprint(id)

	if code, out, _ = klaxonCLI(t, s, "ack", ids); code != 0 || !strings.Contains(out, "Alert "+ids+" acknowledged") {
		t.Errorf("ack: exit %d, %q", code, out)
	}
	code, _, errOut := klaxonCLI(t, s, "ack", ids)
	if code == 0 || !strings.Contains(errOut, "already acknowledged by ops-cli") {
		t.Errorf("second ack: exit %d, stderr %q; want failure naming who acked", code, errOut)
	}
	if code, _, _ = klaxonCLI(t, s, "unack", ids); code != 0 {
		t.Errorf("unack: exit %d", code)
	}
	if code, _, _ = klaxonCLI(t, s, "resolve", ids); code != 0 {
		t.Errorf("resolve: exit %d", code)
	}
	code, out, _ = klaxonCLI(t, s, "alert", ids)
	for _, want := range []string{"Alert " + ids, "RESOLVED", "KubePodCrashLooping", "Resolved:", "by ops-cli at",
		"runbook_url: https://runbooks.prometheus-operator.dev", "History:", "fired", "acknowledged", "unacknowledged", "resolved"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("alert %s lacks %q:\n%s", ids, want, out)
		}
	}
	code, out, _ = klaxonCLI(t, s, "-o", "json", "alert", ids)
	var detail httpapi.AlertDetail
	if err := json.Unmarshal([]byte(out), &detail); code != 0 || err != nil || len(detail.Events) != 4 {
		t.Errorf("alert -o json: exit %d, err %v, %d events, want 4", code, err, len(detail.Events))
	}

	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"unknown alert", []string{"ack", "424242"}, "alert 424242 not found"},
		{"not a number", []string{"alert", "twelve"}, `"twelve" is not an alert ID`},
		{"bad output", []string{"-o", "yaml", "alerts"}, "--output"},
		{"bad token", []string{"--token", "wrong", "alerts"}, "unknown API token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := klaxonCLI(t, s, tt.args...)
			if code == 0 || !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("exit %d, stderr %q; want failure containing %q", code, errOut, tt.wantErr)
			}
		})
	}
}

func TestCLIServerDown(t *testing.T) {
	var out, errOut bytes.Buffer
	code := cli.Execute(context.Background(), []string{"--server", "http://127.0.0.1:1", "alerts"}, &out, &errOut)
	if code == 0 || !strings.Contains(errOut.String(), "klaxon server at http://127.0.0.1:1") {
		t.Errorf("exit %d, stderr %q; want a failure naming the server", code, errOut.String())
	}
}

func TestConfigCheck(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte("integrations:\n  - name: am\n    type: alertmanager\n    token: ${AM_TOKEN}\n"), 0o600)
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("listen: nowhere\nintegrations:\n  - name: am\n    type: alertmanger\n    token: short\n"), 0o600)
	t.Setenv("AM_TOKEN", "0123456789abcdef0123")

	var out, errOut bytes.Buffer
	if code := cli.Execute(context.Background(), []string{"config", "check", good}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "is valid") {
		t.Errorf("good config: exit %d, %q %q", code, out.String(), errOut.String())
	}
	out.Reset()
	errOut.Reset()
	code := cli.Execute(context.Background(), []string{"config", "check", bad}, &out, &errOut)
	for _, want := range []string{bad + ":1: listen:", bad + ":4: integrations[0].type:", bad + ":5: integrations[0].token: too short"} {
		if code == 0 || !strings.Contains(errOut.String(), want) {
			t.Errorf("bad config: exit %d, stderr lacks %q:\n%s", code, want, errOut.String())
		}
	}
}

// TestFirstLook runs `klaxon serve` with no config, as the README's quick
// start does: it writes a starter config and serves with its tokens.
func TestFirstLook(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var logs bytes.Buffer
	addr := freeAddr(t)
	go func() {
		done <- cli.Execute(ctx, []string{"serve", "--data-dir", dir, "--listen", addr, "--log-format", "json"}, &bytes.Buffer{}, lockedWriter{new(sync.Mutex), &logs})
	}()
	waitFor(t, "the server to answer", func() bool {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == http.StatusOK
	})
	cfgPath := filepath.Join(dir, "klaxon.yaml")
	var out bytes.Buffer
	if code := cli.Execute(context.Background(), []string{"config", "token", "cli", "--config", cfgPath}, &out, &bytes.Buffer{}); code != 0 {
		t.Fatalf("config token cli: exit %d", code)
	}
	if tok := strings.TrimSpace(out.String()); len(tok) != 32 {
		t.Errorf("config token cli: got %q, want a 32-character token", tok)
	}
	if fi, err := os.Stat(cfgPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("starter config mode: got %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	if _, err := os.Stat(filepath.Join(dir, "klaxon.db")); err != nil {
		t.Errorf("database not in the data dir: %v", err)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("serve exited %d:\n%s", code, logs.String())
	}
}

// TestConfigCheckChannels: channel and route problems are named with their
// key and line, each platform's own keys included, and no secret is shown.
func TestConfigCheckChannels(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte(`channels:
  - name: ops
    type: matrix
    homeserver: not-a-url
    access_token: s3cret-matrix-token-value
    rooom: "#alerts:example.org"
  - name: pager
    type: pagerduty
    routing_key: [s3cret-list]
  - name: teams
    type: msteams
routes:
  receiver: ops
  routes:
    - matchers: ['severity=~"(critical"']
      receiver: [pager, nobody]
      group_by: [not-a-label]
`), 0o600)
	var out, errOut bytes.Buffer
	code := cli.Execute(context.Background(), []string{"config", "check", bad}, &out, &errOut)
	for _, want := range []string{
		bad + ":6: channels[0].rooom: unknown key for a matrix channel",
		bad + ":9: channels[1].routing_key:",
		bad + ":11: channels[2].type: unknown channel type \"msteams\"",
		bad + ":15: routes.routes[0].matchers[0]:",
		"routes.routes[0].receiver[1]: no channel is named \"nobody\"",
		"routes.routes[0].group_by[0]: \"not-a-label\" is not a label name",
	} {
		if code == 0 || !strings.Contains(errOut.String(), want) {
			t.Errorf("exit %d, stderr lacks %q:\n%s", code, want, errOut.String())
		}
	}
	if strings.Contains(errOut.String(), "s3cret") {
		t.Errorf("a secret is in the error output:\n%s", errOut.String())
	}
}

// TestRunbookLintAndCoverage runs the offline runbook commands as a CI
// pipeline would: the repo's starter runbooks lint clean, a broken one
// fails with file:line, and coverage reports rules without a runbook and
// runbook_url annotations that point elsewhere, in text and JSON.
func TestRunbookLintAndCoverage(t *testing.T) {
	run := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := cli.Execute(context.Background(), args, &out, &errOut)
		return code, out.String(), errOut.String()
	}
	if code, out, errOut := run("runbook", "lint", "../../runbooks"); code != 0 || !strings.Contains(out, "runbook(s) OK") {
		t.Fatalf("lint of the starter runbooks: exit %d\n%s%s", code, out, errOut)
	}

	broken := t.TempDir()
	os.WriteFile(filepath.Join(broken, "bad.md"), []byte("---\nalerts: ['Redis[']\nowner: x\n---\n# Bad\n## Diagnose\nno steps\n"), 0o644)
	code, out, errOut := run("runbook", "lint", broken)
	if code == 0 || !strings.Contains(out, "bad.md:2:") || !strings.Contains(errOut, "problem(s)") {
		t.Errorf("lint of a broken runbook: exit %d\n%s%s", code, out, errOut)
	}

	rules := filepath.Join(t.TempDir(), "rules.yaml")
	os.WriteFile(rules, []byte(`apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: {name: k8s}
spec:
  groups:
    - name: pods
      rules:
        - alert: KubePodCrashLooping
          expr: rate(kube_pod_container_status_restarts_total[5m]) > 0
          annotations:
            runbook_url: https://klaxon.example.org/runbooks/pod-crash-looping
        - alert: TargetDown
          expr: up == 0
          annotations:
            runbook_url: https://runbooks.example.org/kubernetes/targetdown
        - alert: ContainerOOMKilled
          expr: kube_pod_container_status_last_terminated_reason{reason="OOMKilled"} > 0
---
apiVersion: v1
kind: ConfigMap
metadata: {name: unrelated}
`), 0o644)
	code, out, errOut = run("runbook", "coverage", "../../runbooks", rules)
	if code == 0 {
		t.Errorf("coverage with an uncovered rule: exit 0\n%s", out)
	}
	for _, want := range []string{"ContainerOOMKilled", "TargetDown", "runbooks.example.org/kubernetes/targetdown", "/runbooks/target-down"} {
		if !strings.Contains(out, want) {
			t.Errorf("coverage text lacks %q:\n%s%s", want, out, errOut)
		}
	}
	code, out, _ = run("-o", "json", "runbook", "coverage", "../../runbooks", rules)
	var report struct {
		Rules      int                               `json:"rules"`
		Covered    int                               `json:"covered"`
		Uncovered  []struct{ Alert string }          `json:"uncovered"`
		Mismatched []struct{ Alert, Runbook string } `json:"mismatched"`
		Unused     []struct{ Slug string }           `json:"unused"`
	}
	if err := json.Unmarshal([]byte(out), &report); err != nil || code == 0 {
		t.Fatalf("coverage -o json: exit %d, %v\n%s", code, err, out)
	}
	if report.Rules != 3 || report.Covered != 2 || len(report.Uncovered) != 1 || report.Uncovered[0].Alert != "ContainerOOMKilled" ||
		len(report.Mismatched) != 1 || report.Mismatched[0].Runbook != "target-down" || len(report.Unused) == 0 {
		t.Errorf("coverage report: %+v", report)
	}

	// Once every rule is covered and every URL agrees, the check passes.
	good := filepath.Join(t.TempDir(), "good.yaml")
	os.WriteFile(good, []byte("groups:\n  - name: g\n    rules:\n      - alert: Watchdog\n        expr: vector(1)\n"), 0o644)
	if code, out, errOut := run("runbook", "coverage", "../../runbooks", good); code != 0 {
		t.Errorf("coverage of a covered rule: exit %d\n%s%s", code, out, errOut)
	}
}
