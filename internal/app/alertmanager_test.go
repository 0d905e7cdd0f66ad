package app_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/httpapi"
	"github.com/klaxon-oss/klaxon/internal/pgtest"
)

// Timeouts of the bounded waits below. Alertmanager notifies within
// group_wait/group_interval (100ms/1s here), so these are generous.
const (
	amStartTimeout = 30 * time.Second
	amWaitTimeout  = 30 * time.Second
	amPollStep     = 100 * time.Millisecond
)

// Integration names from the harness config.
const (
	webhookIntegration = "prod-alertmanager" // type alertmanager: webhook_configs
	pdIntegration      = "grafana"           // type events-v2: pagerduty_configs
)

// TestAlertmanagerEndToEnd runs the real Alertmanager (Debian package
// prometheus-alertmanager) against an in-process Klaxon, with one
// webhook_configs and one pagerduty_configs receiver pointed at it, and
// drives it with amtool as an operator would: fire two alerts, ack one from
// the API, resolve both.
func TestAlertmanagerEndToEnd(t *testing.T) {
	amBin := requireBinary(t, "prometheus-alertmanager")
	amtoolBin := requireBinary(t, "amtool")

	databases := []struct {
		name string
		url  func(t *testing.T) string // "" means the harness default (SQLite)
	}{
		{"sqlite", func(t *testing.T) string { return "" }},
		{"postgres", func(t *testing.T) string { return pgtest.URL(t) }},
	}
	for _, db := range databases {
		t.Run(db.name, func(t *testing.T) {
			k := startKlaxon(t, serverOptions{database: db.url(t)})
			am := startAlertmanager(t, amBin, amtoolBin, k.URL, true)
			testAlertmanagerFlow(t, k, am)
		})
	}
}

// amAlert is one alert pushed with amtool.
type amAlert struct {
	labels  map[string]string
	summary string
}

func testAlertmanagerFlow(t *testing.T, k *klaxonServer, am *alertmanager) {
	ctx := t.Context()
	// An explicit start time, sent again with the resolution, so both
	// amtool calls describe the same firing whatever the timing.
	start := time.Now().Add(-time.Minute).UTC().Truncate(time.Second)
	pods := []amAlert{
		{labels: diskFullLabels("postgres-0"), summary: "Disk almost full on postgres-0"},
		{labels: diskFullLabels("postgres-1"), summary: "Disk almost full on postgres-1"},
	}
	for _, a := range pods {
		am.add(t, a, start, time.Time{})
	}

	// Fire: one Klaxon alert per Alertmanager alert from the webhook, one
	// per group from PagerDuty (dedup_key is a hash of the group key). The
	// two amtool calls may land in two notifications, so wait for the
	// PagerDuty summary to count both.
	var webhook map[string]httpapi.Alert // by pod
	var pd httpapi.Alert
	eventually(t, "both alerts firing in Klaxon", func() error {
		var err error
		webhook, pd, err = splitAlerts(ctx, k.Client)
		if err != nil {
			return err
		}
		if len(webhook) != 2 {
			return fmt.Errorf("got %d webhook alerts, want 2", len(webhook))
		}
		if !strings.Contains(pd.Summary, "[FIRING:2]") {
			return fmt.Errorf("PagerDuty alert summary: got %q, want it to contain [FIRING:2]", pd.Summary)
		}
		return nil
	})
	for _, want := range pods {
		pod := want.labels["pod"]
		got, ok := webhook[pod]
		if !ok {
			t.Fatalf("no webhook alert for pod %s; got pods %v", pod, slices.Sorted(maps.Keys(webhook)))
		}
		if !maps.Equal(got.Labels, want.labels) {
			t.Errorf("alert %d labels: got %v, want %v", got.ID, got.Labels, want.labels)
		}
		if got.Summary != want.summary {
			t.Errorf("alert %d summary: got %q, want %q", got.ID, got.Summary, want.summary)
		}
		if got.Annotations["runbook_url"] != runbookURL {
			t.Errorf("alert %d runbook_url annotation: got %q, want %q", got.ID, got.Annotations["runbook_url"], runbookURL)
		}
		if got.Severity != "critical" || got.Priority != "P0" {
			t.Errorf("alert %d severity: got %q (%s), want critical (P0)", got.ID, got.Severity, got.Priority)
		}
		if got.State != klaxon.StateFiring {
			t.Errorf("alert %d state: got %s, want firing", got.ID, got.State)
		}
		if got.Count < 1 {
			t.Errorf("alert %d count: got %d, want >= 1", got.ID, got.Count)
		}
		if !got.StartsAt.Equal(start) {
			t.Errorf("alert %d starts_at: got %v, want %v (amtool --start)", got.ID, got.StartsAt, start)
		}
	}
	if pd.Severity != "critical" || pd.Priority != "P0" {
		t.Errorf("PagerDuty alert %d severity: got %q (%s), want critical (P0)", pd.ID, pd.Severity, pd.Priority)
	}
	if pd.State != klaxon.StateFiring {
		t.Errorf("PagerDuty alert %d state: got %s, want firing", pd.ID, pd.State)
	}
	wantPDLabels := map[string]string{"alertname": "DiskFull", "class": "DiskFull", "group": "db", "severity": "critical", "source": "Alertmanager"}
	if !maps.Equal(pd.Labels, wantPDLabels) {
		t.Errorf("PagerDuty alert %d labels: got %v, want %v", pd.ID, pd.Labels, wantPDLabels)
	}

	// Ack one, as `klaxon ack` does.
	acked := webhook["postgres-0"]
	a, err := k.Client.Change(ctx, acked.ID, "ack")
	if err != nil {
		t.Fatalf("ack alert %d: %v", acked.ID, err)
	}
	if a.State != klaxon.StateAcknowledged || a.AckedBy != "ops-cli" {
		t.Errorf("after ack: got state %s acked by %q, want acknowledged by ops-cli", a.State, a.AckedBy)
	}

	// Resolve the other one first: Alertmanager's next notification still
	// carries the acked alert as firing, which must not undo the ack.
	other := webhook["postgres-1"]
	am.add(t, pods[1], start, time.Now().Add(-time.Second))
	eventually(t, "postgres-1 resolved in Klaxon", func() error {
		d, err := k.Client.Alert(ctx, other.ID)
		if err != nil {
			return err
		}
		if d.Alert.State != klaxon.StateResolved {
			return fmt.Errorf("alert %d state: got %s, want resolved", other.ID, d.Alert.State)
		}
		return nil
	})
	d, err := k.Client.Alert(ctx, acked.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d.Alert.State != klaxon.StateAcknowledged || d.Alert.AckedBy != "ops-cli" {
		t.Errorf("acked alert %d after a re-notification: got state %s acked by %q, want acknowledged by ops-cli",
			acked.ID, d.Alert.State, d.Alert.AckedBy)
	}

	// Resolve the acked one: the whole group is resolved, so the
	// PagerDuty receiver sends event_action resolve too.
	am.add(t, pods[0], start, time.Now().Add(-time.Second))
	eventually(t, "all alerts resolved in Klaxon", func() error {
		list, err := k.Client.Alerts(ctx, "open", 100)
		if err != nil {
			return err
		}
		if n := len(list.Alerts); n != 0 {
			return fmt.Errorf("got %d open alerts, want 0", n)
		}
		return nil
	})

	list, err := k.Client.Alerts(ctx, "all", 100)
	if err != nil {
		t.Fatal(err)
	}
	// Re-notifications bump Count; they never add rows.
	if got, want := len(list.Alerts), 3; got != want {
		t.Errorf("total alerts: got %d, want %d (2 from the webhook, 1 from PagerDuty)", got, want)
	}
	for _, a := range list.Alerts {
		if a.PreviousID != 0 {
			t.Errorf("alert %d: got previous_id %d, want none (nothing re-fired)", a.ID, a.PreviousID)
		}
	}

	tests := []struct {
		name  string
		id    int64
		actor string             // who resolved it
		kinds []klaxon.EventKind // in this order, other entries may come between
	}{
		{"acked webhook alert", acked.ID, webhookIntegration,
			[]klaxon.EventKind{klaxon.EventFired, klaxon.EventAcknowledged, klaxon.EventResolved}},
		{"webhook alert", other.ID, webhookIntegration,
			[]klaxon.EventKind{klaxon.EventFired, klaxon.EventResolved}},
		{"PagerDuty alert", pd.ID, pdIntegration,
			[]klaxon.EventKind{klaxon.EventFired, klaxon.EventResolved}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := k.Client.Alert(ctx, tt.id)
			if err != nil {
				t.Fatal(err)
			}
			if d.Alert.State != klaxon.StateResolved || d.Alert.ResolvedBy != tt.actor {
				t.Errorf("alert %d: got state %s resolved by %q, want resolved by %q", tt.id, d.Alert.State, d.Alert.ResolvedBy, tt.actor)
			}
			if !hasInOrder(d.Events, tt.kinds) {
				t.Errorf("alert %d history: got %s, want %v in that order", tt.id, eventKinds(d.Events), tt.kinds)
			}
			for _, ev := range d.Events {
				if ev.AlertID != tt.id {
					t.Errorf("alert %d history: got an entry for alert %d", tt.id, ev.AlertID)
				}
				if ev.Kind == klaxon.EventResolved && ev.Actor != tt.actor {
					t.Errorf("alert %d resolved entry: got actor %q, want %q", tt.id, ev.Actor, tt.actor)
				}
				if ev.Kind == klaxon.EventAcknowledged && ev.Actor != "ops-cli" {
					t.Errorf("alert %d acknowledged entry: got actor %q, want ops-cli", tt.id, ev.Actor)
				}
			}
		})
	}
}

const runbookURL = "https://runbooks.example.test/disk-full"

func diskFullLabels(pod string) map[string]string {
	return map[string]string{"alertname": "DiskFull", "namespace": "db", "pod": pod, "severity": "critical"}
}

// splitAlerts lists every alert and sorts them by path: the webhook's by
// pod, and the single PagerDuty one. More than one PagerDuty alert, or any
// other integration, is an error.
func splitAlerts(ctx context.Context, c *httpapi.Client) (map[string]httpapi.Alert, httpapi.Alert, error) {
	list, err := c.Alerts(ctx, "all", 100)
	if err != nil {
		return nil, httpapi.Alert{}, err
	}
	webhook := map[string]httpapi.Alert{}
	var pd []httpapi.Alert
	for _, a := range list.Alerts {
		switch a.Integration {
		case webhookIntegration:
			pod := a.Labels["pod"]
			if _, dup := webhook[pod]; dup {
				return nil, httpapi.Alert{}, fmt.Errorf("two webhook alerts for pod %q", pod)
			}
			webhook[pod] = a
		case pdIntegration:
			pd = append(pd, a)
		default:
			return nil, httpapi.Alert{}, fmt.Errorf("alert %d from unexpected integration %q", a.ID, a.Integration)
		}
	}
	if len(pd) != 1 {
		return nil, httpapi.Alert{}, fmt.Errorf("got %d PagerDuty alerts, want 1", len(pd))
	}
	return webhook, pd[0], nil
}

// hasInOrder reports whether events holds kinds as a subsequence.
func hasInOrder(events []klaxon.Event, kinds []klaxon.EventKind) bool {
	i := 0
	for _, ev := range events {
		if i < len(kinds) && ev.Kind == kinds[i] {
			i++
		}
	}
	return i == len(kinds)
}

func eventKinds(events []klaxon.Event) string {
	var s []string
	for _, ev := range events {
		s = append(s, string(ev.Kind)+" by "+ev.Actor)
	}
	return "[" + strings.Join(s, ", ") + "]"
}

// eventually polls cond every amPollStep until it returns nil, and fails
// the test with its last error after amWaitTimeout.
func eventually(t *testing.T, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(amWaitTimeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting %v for %s: %v", amWaitTimeout, what, err)
		}
		time.Sleep(amPollStep)
	}
}

// requireBinary returns the path of an external program the test needs. A
// missing one skips the test, except in CI, where skipping would hide that
// the test never ran.
func requireBinary(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is required in CI (Debian package prometheus-alertmanager): %v", name, err)
		}
		t.Skipf("%s not installed (Debian package prometheus-alertmanager): %v", name, err)
	}
	return path
}

// alertmanager is a running Alertmanager.
type alertmanager struct {
	url    string
	amtool string
}

// startAlertmanager writes a config routing every alert to Klaxon through a
// webhook receiver and, with pagerDuty, through a PagerDuty receiver as
// well (so each alert arrives twice), starts Alertmanager
// on a free 127.0.0.1 port, waits until it is ready and stops it when the
// test ends. Its log goes to the test log if the test fails.
func startAlertmanager(t *testing.T, bin, amtool, klaxonURL string, pagerDuty bool) *alertmanager {
	t.Helper()
	dir := t.TempDir()
	routes := ""
	if pagerDuty {
		routes = `
  routes:
    - receiver: klaxon-webhook
      continue: true
    - receiver: klaxon-pagerduty`
	}
	config := fmt.Sprintf(`route:
  receiver: klaxon-webhook
  group_by: [alertname, namespace]
  group_wait: 100ms
  group_interval: 1s
  repeat_interval: 24h%[4]s
receivers:
  - name: klaxon-webhook
    webhook_configs:
      - url: %[1]s/api/v1/ingest/alertmanager
        send_resolved: true
        http_config:
          authorization:
            credentials: %[2]s
  - name: klaxon-pagerduty
    pagerduty_configs:
      - routing_key: %[3]s
        url: %[1]s/v2/enqueue
        send_resolved: true
        # Alertmanager sends severity "error" and no class or group unless
        # told; a real setup maps its labels onto them like this.
        severity: '{{ .CommonLabels.severity }}'
        class: '{{ .CommonLabels.alertname }}'
        group: '{{ .CommonLabels.namespace }}'
`, klaxonURL, amToken, pdToken, routes)
	configFile := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(configFile, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}

	addr := freeAddr(t)
	var logs bytes.Buffer // stdout and stderr
	cmd := exec.Command(bin,
		"--config.file="+configFile,
		"--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
		"--cluster.listen-address=", // no gossip: a single instance
		"--log.level=debug",
	)
	cmd.Stdout = &logs
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var exitErr error
	var hasExited bool
	t.Cleanup(func() {
		if !hasExited {
			cmd.Process.Kill()
			select {
			case exitErr = <-exited:
			case <-time.After(10 * time.Second):
				t.Errorf("alertmanager (pid %d) did not exit within 10s of SIGKILL", cmd.Process.Pid)
				return
			}
		}
		// The buffer is only read once Wait has returned.
		if t.Failed() {
			t.Logf("alertmanager log (%v):\n%s", exitErr, logs.String())
		}
	})

	am := &alertmanager{url: "http://" + addr, amtool: amtool}
	deadline := time.Now().Add(amStartTimeout)
	hc := &http.Client{Timeout: time.Second}
	for {
		resp, err := hc.Get(am.url + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return am
			}
			err = errors.New(resp.Status)
		}
		select {
		case exitErr = <-exited:
			hasExited = true
			t.Fatalf("alertmanager exited before it was ready: %v", exitErr)
		case <-time.After(amPollStep):
		}
		if time.Now().After(deadline) {
			t.Fatalf("alertmanager at %s not ready after %v: %v", addr, amStartTimeout, err)
		}
	}
}

// add pushes one alert with amtool. A non-zero end in the past resolves it:
// that is how amtool resolves.
func (am *alertmanager) add(t *testing.T, a amAlert, start, end time.Time) {
	t.Helper()
	args := []string{"alert", "add", "--alertmanager.url=" + am.url,
		"--start=" + start.Format(time.RFC3339),
		"--annotation=summary=" + a.summary,
		"--annotation=runbook_url=" + runbookURL,
	}
	if !end.IsZero() {
		args = append(args, "--end="+end.UTC().Format(time.RFC3339))
	}
	for _, k := range slices.Sorted(maps.Keys(a.labels)) {
		args = append(args, k+"="+a.labels[k])
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, am.amtool, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("amtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// freeAddr returns a 127.0.0.1 address with a port that was free a moment
// ago, for a program that cannot listen on port 0 and report it.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return "127.0.0.1:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}
