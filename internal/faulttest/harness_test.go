package faulttest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/chattest"
	"github.com/klaxon-oss/klaxon/internal/postgres"
	"github.com/klaxon-oss/klaxon/internal/sqlite"
)

const (
	amToken        = "fault-am-token-0123456789"
	apiToken       = "fault-api-token-0123456789"
	matrixBot      = "@klaxon:" + chattest.MatrixServerName
	matrixBotToken = "fault-matrix-token-0123456789"
	alice          = "@alice:" + chattest.MatrixServerName
	// groups is how many alert names a storm spreads over: one chat
	// message, and one page, each.
	groups = 50
)

// klaxonBin is the klaxon binary, built once by TestMain.
var klaxonBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "klaxon-fault-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	klaxonBin = filepath.Join(dir, "klaxon")
	build := exec.Command("go", "build", "-o", klaxonBin, "github.com/klaxon-oss/klaxon/cmd/klaxon")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building klaxon:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// platforms are the fake chat platform and pager the replicas deliver to.
type platforms struct {
	matrix *chattest.Matrix
	room   string
	pd     *chattest.PagerDuty
	// homeserver is where Klaxon reaches Matrix: the fake, or a proxy
	// in front of it that breaks it.
	homeserver string
}

func newPlatforms(t *testing.T) *platforms {
	p := &platforms{matrix: chattest.NewMatrix(t), pd: chattest.NewPagerDuty(t)}
	p.matrix.AddUser(matrixBot, matrixBotToken)
	p.room = p.matrix.CreateRoom("#alerts:"+chattest.MatrixServerName, matrixBot, alice)
	p.homeserver = p.matrix.URL
	return p
}

// cluster is one or more klaxon processes sharing one database, as real
// processes on 127.0.0.1.
type cluster struct {
	t        *testing.T
	dir      string
	config   string // path of the config file every replica reads
	database string

	mu       sync.Mutex
	replicas []*replica
}

type replica struct {
	name string
	url  string
	cmd  *exec.Cmd
	log  string // path of its log file
	done chan struct{}
}

// newCluster writes the config: alerts grouped by name into Matrix, the
// schedule's person mentioned in the first message, PagerDuty paged when
// a group is still unacked after escalateAfter.
func newCluster(t *testing.T, database string, p *platforms, escalateAfter time.Duration) *cluster {
	dir := t.TempDir()
	c := &cluster{t: t, dir: dir, config: filepath.Join(dir, "klaxon.yaml"), database: database}
	cfg := fmt.Sprintf(`
database: %q
integrations:
  - {name: am, type: alertmanager, token: %s}
api_tokens:
  - {name: fault, token: %s}
users:
  - {name: alice, matrix: %q}
schedules:
  - name: primary
    rotations: [{participants: [alice], shift: weekly, start: "2026-01-05"}]
channels:
  - name: ops-matrix
    type: matrix
    homeserver: %s
    access_token: %s
    room: "#alerts:%s"
  - name: pager
    type: pagerduty
    url: %s
    routing_key: %s
escalation_policies:
  - name: default
    steps:
      - targets: [{schedule: primary}]
      - targets: [{channel: pager}]
        after: %s
routes:
  receiver: ops-matrix
  group_by: [alertname]
  group_interval: 1s
  escalation: default
`, database, amToken, apiToken, alice, p.homeserver, matrixBotToken, chattest.MatrixServerName,
		p.pd.URL, chattest.PagerDutyRoutingKey, escalateAfter)
	if err := os.WriteFile(c.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, r := range c.replicas {
			r.kill()
		}
		if t.Failed() {
			for _, r := range c.replicas {
				c.dumpLog(r)
			}
		}
	})
	return c
}

// start runs a new replica and waits until it is ready.
func (c *cluster) start() *replica {
	c.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		c.t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	r := &replica{name: fmt.Sprintf("replica-%d", len(c.replicas)+1), url: "http://" + addr, done: make(chan struct{})}
	r.log = filepath.Join(c.dir, r.name+".log")
	out, err := os.OpenFile(r.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		c.t.Fatal(err)
	}
	r.cmd = exec.Command(klaxonBin, "serve", "--config", c.config, "--listen", addr, "--log-format", "json")
	r.cmd.Stdout, r.cmd.Stderr = out, out
	if err := r.cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	go func() {
		r.cmd.Wait()
		out.Close()
		close(r.done)
	}()
	c.mu.Lock()
	c.replicas = append(c.replicas, r)
	c.mu.Unlock()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(r.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return r
			}
		}
		select {
		case <-r.done:
			c.dumpLog(r)
			c.t.Fatalf("%s exited before it was ready", r.name)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			c.dumpLog(r)
			c.t.Fatalf("%s not ready within 30s", r.name)
		}
	}
}

// kill ends the process at once, as the OOM killer or a power cut would.
func (r *replica) kill() {
	r.cmd.Process.Signal(syscall.SIGKILL)
	<-r.done
}

// stop shuts the process down gracefully.
func (r *replica) stop(t *testing.T) {
	r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.done:
	case <-time.After(45 * time.Second):
		t.Errorf("%s did not stop within 45s of SIGTERM", r.name)
		r.kill()
	}
}

func (r *replica) alive() bool {
	select {
	case <-r.done:
		return false
	default:
		return true
	}
}

// leading reports whether the replica says it is the leader.
func (r *replica) leading() bool {
	resp, err := http.Get(r.url + "/metrics")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return regexp.MustCompile(`(?m)^klaxon_leader 1$`).Match(b)
}

// leader waits for one live replica to lead and returns it.
func (c *cluster) leader() *replica {
	c.t.Helper()
	for range 300 {
		for _, r := range c.live() {
			if r.leading() {
				return r
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.t.Fatal("no replica leads within 15s")
	return nil
}

func (c *cluster) live() []*replica {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*replica
	for _, r := range c.replicas {
		if r.alive() {
			out = append(out, r)
		}
	}
	return out
}

// urls lists the live replicas for the storm's load balancing.
func (c *cluster) urls() []string {
	var out []string
	for _, r := range c.live() {
		out = append(out, r.url)
	}
	return out
}

func (c *cluster) dumpLog(r *replica) {
	b, _ := os.ReadFile(r.log)
	if len(b) > 8000 {
		b = b[len(b)-8000:]
	}
	c.t.Logf("%s log (tail):\n%s", r.name, b)
}

// logs returns every replica's log.
func (c *cluster) logs() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var all strings.Builder
	for _, r := range c.replicas {
		b, _ := os.ReadFile(r.log)
		all.Write(b)
	}
	return all.String()
}

// logLine returns the first line of the replicas' logs that contains s, or
// "" if none does.
func (c *cluster) logLine(s string) string {
	for line := range strings.Lines(c.logs()) {
		if strings.Contains(line, s) {
			return strings.TrimSpace(line)
		}
	}
	return ""
}

// storm is a run of distinct alerts sent the way Alertmanager sends them:
// batches POSTed to the webhook, each retried until a replica answers 2xx.
type storm struct {
	alerts   int
	batch    int
	duration time.Duration // the batches are spread over this long
	// retryFor bounds how long one batch is retried; Alertmanager gives
	// up after its group interval, at the next flush.
	retryFor time.Duration

	mu       sync.Mutex
	accepted []bool      // by alert index
	retries  int         // attempts that failed: no answer, or 5xx
	statuses map[int]int // attempts answered, by HTTP status
}

func newStorm(alerts int, duration time.Duration) *storm {
	return &storm{alerts: alerts, batch: 100, duration: duration, retryFor: time.Minute,
		accepted: make([]bool, alerts), statuses: map[int]int{}}
}

// answers returns how many attempts were answered with status.
func (s *storm) answers(status int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.statuses[status]
}

// alertName is the group of alert i.
func alertName(i int) string { return fmt.Sprintf("FaultStorm%02d", i%groups) }

// run sends the storm to whichever replicas targets lists at the time,
// round robin like a load balancer; progress is called after each batch
// with how many were answered so far.
func (s *storm) run(t *testing.T, targets func() []string, progress func(done int)) {
	startsAt := time.Now().UTC().Add(-time.Minute)
	batches := (s.alerts + s.batch - 1) / s.batch
	tick := time.NewTicker(s.duration / time.Duration(batches))
	defer tick.Stop()
	var wg sync.WaitGroup
	var done sync.Mutex
	answered := 0
	for b := range batches {
		<-tick.C
		wg.Go(func() {
			lo, hi := b*s.batch, min((b+1)*s.batch, s.alerts)
			if s.send(t, targets, b, amBody(lo, hi, startsAt)) {
				s.mu.Lock()
				for i := lo; i < hi; i++ {
					s.accepted[i] = true
				}
				s.mu.Unlock()
			}
			done.Lock()
			answered++
			n := answered
			done.Unlock()
			if progress != nil {
				progress(n)
			}
		})
	}
	wg.Wait()
}

var client = &http.Client{Timeout: 10 * time.Second}

// send posts one batch until a replica accepts it or retryFor passes.
func (s *storm) send(t *testing.T, targets func() []string, b int, body []byte) bool {
	deadline := time.Now().Add(s.retryFor)
	for attempt := 0; time.Now().Before(deadline); attempt++ {
		urls := targets()
		if len(urls) == 0 {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		req, _ := http.NewRequest(http.MethodPost, urls[(b+attempt)%len(urls)]+"/api/v1/ingest/alertmanager", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+amToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			s.mu.Lock()
			s.statuses[resp.StatusCode]++
			s.mu.Unlock()
			switch resp.StatusCode / 100 {
			case 2:
				return true
			case 4:
				t.Errorf("batch %d refused: %d", b, resp.StatusCode)
				return false
			}
		}
		s.mu.Lock()
		s.retries++
		s.mu.Unlock()
		time.Sleep(100 * time.Millisecond)
	}
	return false
}

func amBody(lo, hi int, startsAt time.Time) []byte {
	type amAlert struct {
		Status      string            `json:"status"`
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
		StartsAt    time.Time         `json:"startsAt"`
		EndsAt      time.Time         `json:"endsAt"`
		Fingerprint string            `json:"fingerprint"`
	}
	var list []amAlert
	for i := lo; i < hi; i++ {
		list = append(list, amAlert{Status: "firing", StartsAt: startsAt,
			Labels:      map[string]string{"alertname": alertName(i), "instance": instance(i), "severity": "critical"},
			Annotations: map[string]string{"summary": "storm alert " + strconv.Itoa(i)},
			Fingerprint: fmt.Sprintf("%016x", i)})
	}
	b, _ := json.Marshal(map[string]any{"version": "4", "status": "firing", "receiver": "klaxon", "groupKey": "{}:{}", "alerts": list})
	return b
}

func instance(i int) string { return fmt.Sprintf("host-%05d", i) }

// outcome is what a fault test checks and prints.
type outcome struct {
	Sent, Accepted, Stored, Posted, Duplicates, Lost int
	// Retried counts the sender's failed attempts: the fault was felt.
	Retried int
	// Pages counts PagerDuty triggers; PageDuplicates the extra ones.
	Pages, PageDuplicates int
}

func (o outcome) String() string {
	return fmt.Sprintf("sent=%d accepted=%d stored=%d posted=%d duplicates=%d lost=%d pages=%d page_duplicates=%d retried=%d",
		o.Sent, o.Accepted, o.Stored, o.Posted, o.Duplicates, o.Lost, o.Pages, o.PageDuplicates, o.Retried)
}

// openStore opens the cluster's database directly, for the final count.
func openStore(t *testing.T, database string) klaxon.Store {
	t.Helper()
	var (
		s   klaxon.Store
		err error
	)
	if strings.HasPrefix(database, "postgres://") {
		s, err = postgres.Open(t.Context(), database, postgres.Options{})
	} else {
		s, err = sqlite.Open(t.Context(), strings.TrimPrefix(database, "sqlite://"), sqlite.Options{})
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// stored counts, per alert index, how many alerts the database holds.
func stored(t *testing.T, s klaxon.Store) map[int]int {
	t.Helper()
	count := map[int]int{}
	var before int64
	for {
		page, err := s.Alerts(t.Context(), klaxon.AlertFilter{Limit: 1000, Before: before})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range page {
			if i, err := strconv.Atoi(strings.TrimPrefix(a.Labels["instance"], "host-")); err == nil {
				count[i]++
			}
			before = a.ID
		}
		if len(page) < 1000 {
			return count
		}
	}
}

var stormName = regexp.MustCompile(`FaultStorm\d\d`)

var groupCount = regexp.MustCompile(`(FaultStorm\d\d)\b.*?\b(\d+) alerts`)

// settle waits until the chat shows every stored alert: one message per
// group that counts all of its alerts, and, with pages, one PagerDuty
// trigger per group. Then it waits a little more for stragglers that
// would be duplicates, and fills in the outcome.
func settle(t *testing.T, c *cluster, p *platforms, st *storm, pages bool, within time.Duration) outcome {
	t.Helper()
	// The storm is over: every alert that will ever be stored is.
	perAlert := stored(t, openStore(t, c.database))
	o := outcome{Sent: st.alerts, Retried: st.retries}
	want := map[string]int{}
	for i, ok := range st.accepted {
		n := perAlert[i]
		switch {
		case ok && n > 0:
			o.Accepted++
			o.Stored++
		case ok:
			o.Accepted++
			o.Lost++
		}
		if n > 1 {
			o.Duplicates += n - 1
		}
		want[alertName(i)] += n
	}
	for name, n := range want {
		if n == 0 {
			delete(want, name)
		}
	}
	deadline := time.Now().Add(within)
	var missing []string
	for {
		got, paged := chatGroups(p), triggers(p)
		missing = missing[:0]
		for name, n := range want {
			if got[name].count != n {
				missing = append(missing, fmt.Sprintf("%s shows %d of %d", name, got[name].count, n))
			}
			if pages && paged[name] == 0 {
				missing = append(missing, name+" not paged")
			}
		}
		if len(missing) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	// A duplicate would come from a second sender: give it time to show.
	time.Sleep(3 * time.Second)
	for _, g := range chatGroups(p) {
		o.Posted++
		o.Duplicates += g.posts - 1
	}
	if pages {
		for _, n := range triggers(p) {
			o.Pages++
			o.PageDuplicates += n - 1
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		t.Errorf("after %v the chat still lacks: %s", within, strings.Join(missing, "; "))
		o.Lost += len(missing)
	}
	return o
}

type chatGroup struct{ posts, count int }

// chatGroups reads the room: top-level bot messages per alert name, and
// how many alerts the latest of them counts.
func chatGroups(p *platforms) map[string]chatGroup {
	out := map[string]chatGroup{}
	for _, m := range p.matrix.Messages(p.room) {
		if m.Sender != matrixBot || m.RelType == "m.thread" {
			continue
		}
		sm := groupCount.FindStringSubmatch(m.Body)
		if sm == nil {
			continue
		}
		n, _ := strconv.Atoi(sm[2])
		g := out[sm[1]]
		g.posts++
		g.count = n
		out[sm[1]] = g
	}
	return out
}

// triggers counts PagerDuty trigger events per alert name.
func triggers(p *platforms) map[string]int {
	out := map[string]int{}
	for _, ev := range p.pd.Events() {
		if ev.EventAction != "trigger" || ev.Payload == nil {
			continue
		}
		if name := stormName.FindString(ev.Payload.Summary); name != "" {
			out[name]++
		}
	}
	return out
}

// skipOrFail skips a test whose fault cannot be staged on this machine, or
// fails it in CI, which must run every fault test.
func skipOrFail(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

// check prints the one-line summary and fails on any loss or duplicate.
func check(t *testing.T, name string, o outcome) {
	t.Helper()
	t.Logf("%s: %s", name, o)
	fmt.Printf("fault %s: %s\n", name, o)
	if o.Lost > 0 || o.Duplicates > 0 || o.PageDuplicates > 0 {
		t.Errorf("%s: %d lost, %d duplicate posts, %d duplicate pages", name, o.Lost, o.Duplicates, o.PageDuplicates)
	}
	if o.Accepted == 0 {
		t.Errorf("%s: no alert was accepted", name)
	}
}
