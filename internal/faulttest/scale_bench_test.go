package faulttest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
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

	"github.com/klaxon-oss/klaxon/internal/loadgen"
	"github.com/klaxon-oss/klaxon/internal/pgtest"
)

// The scale benchmarks run replicas of `klaxon serve` as real processes on
// one database, with a webhook channel pointing at a receiver in the test
// that notes when each message arrives. They run only with -bench, as
// documented in docs/benchmarks.md:
//
//	go test -run '^$' -bench ReplicaLatency -benchtime 3000x ./internal/faulttest
//	go test -run '^$' -bench 'Storm100k|StormDistinct10k' -benchtime 1x -timeout 30m ./internal/faulttest
//
// The PostgreSQL cases need KLAXON_TEST_POSTGRES_URL.

const (
	benchGenericToken = "bench-generic-token-0123456789"
	benchReplicas     = 3
)

// benchServer is one `klaxon serve` process.
type benchServer struct {
	url  string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

// startServers runs n replicas on the database with the webhook channel
// posting to hookURL, grouping by groupBy (a YAML list), and waits until
// each is ready and one leads. They are stopped when b ends.
func startServers(b *testing.B, database, hookURL, groupBy string, n int) []*benchServer {
	b.Helper()
	dir := b.TempDir()
	config := filepath.Join(dir, "klaxon.yaml")
	cfg := fmt.Sprintf(`
database: %q
api_tokens:
  - {name: bench, token: %s}
integrations:
  - {name: am, type: alertmanager, token: %s, rate_limit: off}
  - {name: scripts, type: generic, token: %s, rate_limit: off}
channels:
  - name: hook
    type: webhook
    url: %s
    secret: bench-secret-0123456789
routes:
  receiver: hook
  group_by: %s
  group_interval: 1s
  repeat_interval: 0s
`, database, apiToken, amToken, benchGenericToken, hookURL, groupBy)
	if err := os.WriteFile(config, []byte(cfg), 0o600); err != nil {
		b.Fatal(err)
	}
	var servers []*benchServer
	b.Cleanup(func() {
		for _, s := range servers {
			s.cmd.Process.Signal(syscall.SIGKILL)
			<-s.done
		}
	})
	for i := range n {
		s := startServer(b, config, filepath.Join(dir, fmt.Sprintf("replica-%d.log", i+1)))
		servers = append(servers, s)
	}
	leaderOf(b, servers)
	return servers
}

func startServer(b *testing.B, config, logPath string) *benchServer {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	out, err := os.Create(logPath)
	if err != nil {
		b.Fatal(err)
	}
	s := &benchServer{url: "http://" + addr, log: logPath, done: make(chan struct{})}
	s.cmd = exec.Command(klaxonBin, "serve", "--config", config, "--listen", addr, "--log-format", "json")
	s.cmd.Stdout, s.cmd.Stderr = out, out
	if err := s.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	go func() {
		s.cmd.Wait()
		out.Close()
		close(s.done)
	}()
	for deadline := time.Now().Add(30 * time.Second); ; {
		if resp, err := client.Get(s.url + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		select {
		case <-s.done:
			b.Fatalf("%s exited before it was ready:\n%s", s.url, tail(s.log))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			b.Fatalf("%s not ready within 30s:\n%s", s.url, tail(s.log))
		}
	}
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	return string(b[max(0, len(b)-4000):])
}

// metric reads one unlabelled sample from the server's /metrics.
func (s *benchServer) metric(name string) (float64, error) {
	resp, err := client.Get(s.url + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			return strconv.ParseFloat(v, 64)
		}
	}
	return 0, fmt.Errorf("%s/metrics has no %s", s.url, name)
}

// leaderOf waits until one server leads and returns its index.
func leaderOf(b *testing.B, servers []*benchServer) int {
	b.Helper()
	for range 300 {
		for i, s := range servers {
			if v, err := s.metric("klaxon_leader"); err == nil && v == 1 {
				return i
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.Fatal("no replica leads within 15s")
	return -1
}

// memory is what one server used: its peak resident set (VmHWM, for the
// process's whole life) and the most Go heap in use seen while sampled.
type memory struct{ peakRSS, peakHeap float64 }

// watchMemory samples every server's go_memstats_heap_inuse_bytes until the
// returned function is called; that reads each one's VmHWM and returns the
// peaks, by server.
func watchMemory(b *testing.B, servers []*benchServer) func() []memory {
	peaks := make([]memory, len(servers))
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			for i, s := range servers {
				if v, err := s.metric("go_memstats_heap_inuse_bytes"); err == nil {
					peaks[i].peakHeap = max(peaks[i].peakHeap, v)
				}
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	return func() []memory {
		close(stop)
		<-done
		for i, s := range servers {
			rss, err := vmHWM(s.cmd.Process.Pid)
			if err != nil {
				b.Fatal(err)
			}
			peaks[i].peakRSS = rss
		}
		return peaks
	}
}

var vmHWMLine = regexp.MustCompile(`(?m)^VmHWM:\s+(\d+) kB$`)

// vmHWM is the process's peak resident set size in bytes.
func vmHWM(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	m := vmHWMLine.FindSubmatch(b)
	if m == nil {
		return 0, fmt.Errorf("/proc/%d/status has no VmHWM", pid)
	}
	kb, err := strconv.ParseFloat(string(m[1]), 64)
	return kb * 1024, err
}

// reportMemory reports the leader's peaks and the largest of the other
// replicas', in MiB.
func reportMemory(b *testing.B, mem []memory, leader int) {
	const mib = 1 << 20
	b.ReportMetric(mem[leader].peakRSS/mib, "leader-rss-MiB")
	b.ReportMetric(mem[leader].peakHeap/mib, "leader-heap-MiB")
	var other memory
	for i, m := range mem {
		if i != leader {
			other.peakRSS, other.peakHeap = max(other.peakRSS, m.peakRSS), max(other.peakHeap, m.peakHeap)
		}
	}
	if len(mem) > 1 {
		b.ReportMetric(other.peakRSS/mib, "follower-rss-MiB")
		b.ReportMetric(other.peakHeap/mib, "follower-heap-MiB")
	}
}

// hookMessage is the part of a webhook channel's body the benchmarks read.
type hookMessage struct {
	Group struct {
		ID     int64 `json:"id"`
		Counts struct {
			Firing, Acknowledged, Resolved int
		} `json:"counts"`
	} `json:"group"`
	Alerts []struct {
		Key string `json:"key"`
	} `json:"alerts"`
}

// hookReceiver answers the webhook channel and hands every message, with
// when it arrived, to onMessage.
func hookReceiver(b *testing.B, onMessage func(at time.Time, m hookMessage)) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		at := time.Now()
		var m hookMessage
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		onMessage(at, m)
		w.WriteHeader(http.StatusNoContent)
	}))
	b.Cleanup(srv.Close)
	return srv.URL
}

// BenchmarkReplicaLatency measures alert received → message accepted with
// three replicas on one PostgreSQL: a generic alert, each its own group,
// every 10 ms. The clock starts before the ingest request and stops when
// the webhook receiver has the message.
//
// round-robin sends to the replicas in turn, as a load balancer would: two
// in three alerts are taken in by a replica that does not send and must
// wake the leader; latency is also reported by where alerts came in.
// followers sends only to the replicas that do not lead, so the leader's
// own ingest never wakes its sender: it learns of every alert from the
// database alone.
func BenchmarkReplicaLatency(b *testing.B) {
	b.Run("round-robin", func(b *testing.B) { benchLatency(b, false) })
	b.Run("followers", func(b *testing.B) { benchLatency(b, true) })
}

func benchLatency(b *testing.B, followersOnly bool) {
	const rate = 100 // alerts per second
	type sent struct {
		at        time.Time
		viaLeader bool
	}
	var (
		mu        sync.Mutex
		pending   = map[string]sent{}
		all       []time.Duration
		viaLeader []time.Duration
		viaOthers []time.Duration
		received  = make(chan struct{}, b.N)
	)
	hook := hookReceiver(b, func(at time.Time, m hookMessage) {
		if len(m.Alerts) == 0 {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		s, ok := pending[m.Alerts[0].Key]
		if !ok {
			return
		}
		delete(pending, m.Alerts[0].Key)
		d := at.Sub(s.at)
		all = append(all, d)
		if s.viaLeader {
			viaLeader = append(viaLeader, d)
		} else {
			viaOthers = append(viaOthers, d)
		}
		received <- struct{}{}
	})
	servers := startServers(b, pgtest.URL(b), hook, `['...']`, benchReplicas)
	leader := leaderOf(b, servers)
	targets := slices.Clone(servers)
	if followersOnly {
		targets = slices.Delete(targets, leader, leader+1)
	}
	peaks := watchMemory(b, servers)
	tick := time.NewTicker(time.Second / rate)
	defer tick.Stop()
	b.ResetTimer()
	for i := range b.N {
		<-tick.C
		key := "lat-" + strconv.Itoa(i)
		body, _ := json.Marshal(map[string]any{
			"key": key, "status": "firing", "summary": "benchmark alert", "severity": "critical",
			"labels": map[string]string{"alertname": "ReplicaLatency", "seq": strconv.Itoa(i)},
		})
		to := targets[i%len(targets)]
		mu.Lock()
		pending[key] = sent{at: time.Now(), viaLeader: to == servers[leader]}
		mu.Unlock()
		if err := postAlert(to.url+"/api/v1/ingest/generic", benchGenericToken, body); err != nil {
			b.Fatal(err)
		}
	}
	deadline := time.After(30 * time.Second)
	for range b.N {
		select {
		case <-received:
		case <-deadline:
			mu.Lock()
			defer mu.Unlock()
			b.Fatalf("only %d of %d messages arrived", len(all), b.N)
		}
	}
	b.StopTimer()
	mem := peaks()
	mu.Lock()
	defer mu.Unlock()
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(percentile(all, 0.50)), "p50-ms")
	b.ReportMetric(ms(percentile(all, 0.99)), "p99-ms")
	b.ReportMetric(ms(percentile(all, 1)), "max-ms")
	if len(viaLeader) > 0 && len(viaOthers) > 0 {
		b.ReportMetric(ms(percentile(viaLeader, 0.99)), "via-leader-p99-ms")
		b.ReportMetric(ms(percentile(viaOthers, 0.50)), "via-follower-p50-ms")
		b.ReportMetric(ms(percentile(viaOthers, 0.99)), "via-follower-p99-ms")
	}
	reportMemory(b, mem, leader)
	b.ReportMetric(0, "ns/op") // the rate is fixed; time per op is meaningless
}

// percentile is the nearest-rank p-quantile of ds (which it sorts); 0 for
// none.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[min(len(ds)-1, int(p*float64(len(ds))))]
}

func postAlert(url, token string, body []byte) error {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("ingest: %s", resp.Status)
	}
	return nil
}

// BenchmarkStorm100k sends 100,000 distinct alerts as fast as the servers
// take them (loadgen's Alertmanager payloads: requests of 100 from 16
// workers, dealt out over the replicas), grouped by alertname and namespace
// into 80 chat messages. It reports the time until every alert was
// accepted, the time until the chat showed every one (the groups' latest
// messages count them all), how many accepted alerts the chat never showed
// (lost), and memory. One op is one storm on a fresh database.
func BenchmarkStorm100k(b *testing.B) {
	benchStorms(b, stormShape{alerts: 100_000, groupBy: "[alertname, namespace]", groups: 80})
}

// BenchmarkStormDistinct10k is a storm of 10,000 alerts that are each their
// own group (group_by: ['...']): 10,000 first posts, which the leader's one
// sender for the channel sends one after another. It also reports that
// sender's rate, from the first post to the last.
func BenchmarkStormDistinct10k(b *testing.B) {
	benchStorms(b, stormShape{alerts: 10_000, groupBy: "['...']", groups: 10_000})
}

// stormShape is a storm's shape: how many alerts, grouped how into how many
// chat messages.
type stormShape struct {
	alerts  int
	groupBy string // a YAML list
	groups  int
}

func benchStorms(b *testing.B, st stormShape) {
	b.Run("sqlite", func(b *testing.B) {
		benchStorm(b, st, func() string { return "sqlite://" + filepath.Join(b.TempDir(), "klaxon.db") }, 1)
	})
	b.Run("postgres-1", func(b *testing.B) {
		benchStorm(b, st, func() string { return pgtest.URL(b) }, 1)
	})
	b.Run(fmt.Sprintf("postgres-%d", benchReplicas), func(b *testing.B) {
		benchStorm(b, st, func() string { return pgtest.URL(b) }, benchReplicas)
	})
}

func benchStorm(b *testing.B, st stormShape, database func() string, replicas int) {
	var sum stormResult
	for range b.N {
		r := runStorm(b, st, database(), replicas)
		sum.accept += r.accept
		sum.posted += r.posted
		sum.sending += r.sending
		sum.lost += r.lost
		sum.mem, sum.leader = r.mem, r.leader
	}
	n := float64(b.N)
	b.ReportMetric(sum.accept.Seconds()/n, "accept-s")
	b.ReportMetric(float64(st.alerts)*n/sum.accept.Seconds(), "alerts/s")
	b.ReportMetric(sum.posted.Seconds()/n, "all-posted-s")
	if st.groups == st.alerts { // one post per alert: the sender's rate
		b.ReportMetric(float64(st.groups)*n/sum.sending.Seconds(), "posts/s")
	}
	b.ReportMetric(float64(sum.lost)/n, "lost")
	reportMemory(b, sum.mem, sum.leader) // of the last storm
	b.ReportMetric(0, "ns/op")
}

type stormResult struct {
	accept  time.Duration // from the first request to the last answer
	posted  time.Duration // from the first request until the chat shows every alert
	sending time.Duration // from the first post to the last
	lost    int           // accepted alerts the chat never showed
	mem     []memory
	leader  int
}

func runStorm(b *testing.B, st stormShape, database string, replicas int) stormResult {
	var (
		mu      sync.Mutex
		totals  = map[int64]int{} // alerts each group's latest message counts
		shown   int
		firstAt time.Time
		allAt   time.Time
		all     = make(chan struct{})
	)
	hook := hookReceiver(b, func(at time.Time, m hookMessage) {
		c := m.Group.Counts
		mu.Lock()
		defer mu.Unlock()
		if firstAt.IsZero() {
			firstAt = at
		}
		n := c.Firing + c.Acknowledged + c.Resolved
		shown += n - totals[m.Group.ID]
		totals[m.Group.ID] = n
		if shown == st.alerts && allAt.IsZero() {
			allAt = at
			close(all)
		}
	})
	servers := startServers(b, database, hook, st.groupBy, replicas)
	defer func() {
		for _, s := range servers {
			s.cmd.Process.Signal(syscall.SIGTERM)
			<-s.done
		}
	}()
	leader := leaderOf(b, servers)
	peaks := watchMemory(b, servers)
	var urls []string
	for _, s := range servers {
		urls = append(urls, s.url)
	}
	rep, err := loadgen.Run(context.Background(), loadgen.Options{
		URLs: urls, Token: amToken, Alerts: st.alerts, Batch: 100, Concurrency: 16, Verify: true,
	})
	if err != nil {
		b.Fatal(err)
	}
	if !rep.Verify.OK || rep.AlertsAccepted != st.alerts {
		b.Fatalf("storm: %d of %d alerts accepted, errors %+v, verify %+v", rep.AlertsAccepted, st.alerts, rep.Errors, rep.Verify)
	}
	res := stormResult{accept: time.Duration(rep.Elapsed), leader: leader}
	select {
	case <-all:
	case <-time.After(5 * time.Minute):
	}
	res.mem = peaks()
	mu.Lock()
	defer mu.Unlock()
	if allAt.IsZero() {
		b.Errorf("after 5 minutes the chat shows %d of %d alerts", shown, st.alerts)
		res.lost = st.alerts - shown
		return res
	}
	res.posted, res.sending = allAt.Sub(rep.Start), allAt.Sub(firstAt)
	if len(totals) != st.groups {
		b.Errorf("%d groups posted, want %d", len(totals), st.groups)
	}
	return res
}
