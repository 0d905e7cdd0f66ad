// Package loadgen is the engine of `klaxon bench ingest`: it sends a Klaxon
// server realistic alerts, every one distinct, from concurrent workers over
// keep-alive connections, measures each request, and can then check that
// every alert the server accepted was committed.
//
// All request bodies are generated before the clock starts, so the
// generator never bounds the measurement; what is measured is the server
// (and, on the same machine, the CPU the workers take from it).
package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options configures a run.
type Options struct {
	// URLs are the servers to send to: base URLs (the format's ingest path
	// is added) or full ingest URLs. With several, as with replicas sharing
	// one database, the workers are dealt out over them in turn and each
	// keeps to its server, as behind a load balancer that balances
	// connections.
	URLs []string
	// Token is the token of an integration of Format's type.
	Token  string
	Format string // FormatAlertmanager (default) or FormatGeneric
	// Alerts is how many alerts to send in all; every one is distinct.
	Alerts int
	// Batch is how many alerts each request carries.
	Batch int
	// Concurrency is how many workers send at once, each on its own
	// keep-alive connection.
	Concurrency int
	// Duration, if set, stops sending new requests after this long, even
	// if alerts remain.
	Duration time.Duration
	// Timeout bounds one request (default 30s).
	Timeout time.Duration
	// Client is ClientRaw (default) or ClientStd.
	Client string

	// Verify checks, after the run, that every accepted alert was
	// committed: through the server's klaxon_alerts_received_total counter
	// and, with APIToken, by reading the alerts back through the API.
	Verify   bool
	APIToken string

	// Run names the run in every key; 0 picks one at random.
	Run uint32
	// Progress, if set, is called every ProgressInterval (default 1s)
	// while requests are sent.
	Progress         func(Progress)
	ProgressInterval time.Duration
	// Transport is for tests; nil uses a keep-alive transport sized to
	// Concurrency.
	Transport http.RoundTripper
}

// Progress is a snapshot of a run in flight.
type Progress struct {
	Elapsed        time.Duration
	Requests       int
	AlertsAccepted int
	Failed         int
	// AlertsPerSec is the accepted rate since the previous snapshot.
	AlertsPerSec float64
}

// Run generates the workload, sends it, and returns what happened. An error
// means the run could not be made (bad options, the server's /metrics
// unreadable for Verify); failed requests are counted in the report, not
// returned.
func Run(ctx context.Context, o Options) (*Report, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	targets, bases := make([]string, len(o.URLs)), make([]string, len(o.URLs))
	for i, u := range o.URLs {
		target, base, err := ingestURL(u, o.Format)
		if err != nil {
			return nil, err
		}
		if _, err := newRawConn(ctx, target, o.Token, o.Timeout); err != nil {
			return nil, fmt.Errorf("url: %w", err)
		}
		targets[i], bases[i] = target, base
	}
	genStart := time.Now()
	w, err := Generate(o.Run, o.Format, o.Alerts, o.Batch)
	if err != nil {
		return nil, err
	}
	genTime := time.Since(genStart)

	client := &http.Client{Transport: o.Transport, Timeout: o.Timeout}
	if client.Transport == nil {
		tr := newTransport(o.Concurrency)
		defer tr.CloseIdleConnections()
		client.Transport = tr
	}
	// The servers' own counters, before and after, show what the run cost
	// them; without --verify they are best effort.
	m0, err0 := scrapeAll(ctx, client, bases)
	var v *verifier
	if o.Verify {
		// The servers share one store: any of them can read it back.
		v = &verifier{client: client, base: bases[0], apiToken: o.APIToken}
		if err := v.before(ctx, m0, err0); err != nil {
			return nil, err
		}
	}
	cpu0, machine0 := processCPU(), machineCPU()
	rep := send(ctx, client, targets, o, w)
	rep.ClientCPU = Seconds(processCPU() - cpu0)
	if machine0 > 0 {
		rep.MachineCPU = Seconds(machineCPU() - machine0)
		rep.MachineCores = runtime.NumCPU()
	}
	rep.Generate = Seconds(genTime)
	m1, err1 := scrapeAll(ctx, client, bases)
	if err0 == nil && err1 == nil {
		rep.Server = &ServerStats{
			CPU:                Seconds(time.Duration((m1.cpu - m0.cpu) * float64(time.Second))),
			Transactions:       int64(m1.txns - m0.txns),
			TransactionSeconds: Seconds(time.Duration((m1.txnSeconds - m0.txnSeconds) * float64(time.Second))),
		}
		if rep.Server.Transactions > 0 {
			rep.Server.AlertsPerTransaction = round(float64(rep.AlertsAccepted)/float64(rep.Server.Transactions), 1)
		}
	}
	if v != nil {
		rep.Verify = v.after(ctx, w, rep, m1, err1)
	}
	return rep, nil
}

func (o *Options) defaults() error {
	if o.Format == "" {
		o.Format = FormatAlertmanager
	}
	if _, ok := endpoint[o.Format]; !ok {
		return fmt.Errorf("format: got %q, want %s or %s", o.Format, FormatAlertmanager, FormatGeneric)
	}
	if o.Token == "" {
		return errors.New("no ingest token: give the token of an integration of type " + o.Format)
	}
	if len(o.URLs) == 0 {
		return errors.New("url: give the server's URL")
	}
	if o.Alerts < 1 {
		return fmt.Errorf("alerts: got %d, want at least 1", o.Alerts)
	}
	if o.Batch < 1 {
		return fmt.Errorf("batch: got %d, want at least 1", o.Batch)
	}
	if o.Concurrency < len(o.URLs) {
		return fmt.Errorf("concurrency: got %d, want at least %d (a worker per URL)", o.Concurrency, len(o.URLs))
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	switch o.Client {
	case "":
		o.Client = ClientRaw
	case ClientRaw, ClientStd:
	default:
		return fmt.Errorf("client: got %q, want %s or %s", o.Client, ClientRaw, ClientStd)
	}
	if o.ProgressInterval <= 0 {
		o.ProgressInterval = time.Second
	}
	for o.Run == 0 {
		o.Run = rand.Uint32()
	}
	return nil
}

// ingestURL returns the URL to post to and the server's base URL.
func ingestURL(raw, format string) (target, base string, err error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", "", fmt.Errorf("url: got %q, want http(s)://host:port", raw)
	}
	b := *u
	b.Path, b.RawPath, b.RawQuery, b.Fragment = "", "", "", ""
	base = b.String()
	if u.Path == "" || u.Path == "/" {
		u.Path = endpoint[format]
		return u.String(), base, nil
	}
	return u.String(), base, nil
}

func newTransport(conns int) *http.Transport {
	return &http.Transport{
		Proxy:               nil, // never measure a proxy
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     conns,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
}

// result is one request's outcome, kept by its worker.
type workerResult struct {
	latencies      []time.Duration
	requests       int
	okRequests     int
	alertsAccepted int
	alertsFailed   int
	errors         map[string]*ErrorCount
	accepted       []int // request indexes answered 2xx
}

// send runs the workers; worker wk posts to targets[wk%len(targets)].
func send(ctx context.Context, client *http.Client, targets []string, o Options, w *Workload) *Report {
	var (
		next      atomic.Int64 // next request index
		nRequests atomic.Int64
		nAccepted atomic.Int64
		nFailed   atomic.Int64
	)
	total := int64(w.Requests())
	// newPoster returns a worker's way of sending a body.
	newPoster := func(target string) (do func([]byte) (int, string, time.Duration, error), done func()) {
		if o.Client == ClientStd {
			hdr := http.Header{
				"Authorization": {"Bearer " + o.Token},
				"Content-Type":  {"application/json"},
				"User-Agent":    {"klaxon-bench"},
			}
			return func(body []byte) (int, string, time.Duration, error) {
				return post(ctx, client, target, hdr, body)
			}, func() {}
		}
		rc, _ := newRawConn(ctx, target, o.Token, o.Timeout) // target checked in Run
		return rc.post, rc.close
	}
	results := make([]workerResult, o.Concurrency)
	start := time.Now()
	var deadline time.Time
	if o.Duration > 0 {
		deadline = start.Add(o.Duration)
	}

	stopProgress := make(chan struct{})
	var progressDone sync.WaitGroup
	if o.Progress != nil {
		progressDone.Add(1)
		go func() {
			defer progressDone.Done()
			t := time.NewTicker(o.ProgressInterval)
			defer t.Stop()
			last, lastAt := int64(0), start
			for {
				select {
				case <-stopProgress:
					return
				case now := <-t.C:
					acc := nAccepted.Load()
					o.Progress(Progress{
						Elapsed:        now.Sub(start),
						Requests:       int(nRequests.Load()),
						AlertsAccepted: int(acc),
						Failed:         int(nFailed.Load()),
						AlertsPerSec:   float64(acc-last) / now.Sub(lastAt).Seconds(),
					})
					last, lastAt = acc, now
				}
			}
		}()
	}

	var wg sync.WaitGroup
	for wk := range o.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := &results[wk]
			res.latencies = make([]time.Duration, 0, int(total)/o.Concurrency+1)
			res.errors = map[string]*ErrorCount{}
			do, done := newPoster(targets[wk%len(targets)])
			defer done()
			for ctx.Err() == nil {
				if !deadline.IsZero() && !time.Now().Before(deadline) {
					return
				}
				i := int(next.Add(1) - 1)
				if i >= int(total) {
					return
				}
				n := w.RequestAlerts(i)
				status, sample, d, err := do(w.Bodies[i])
				res.requests++
				nRequests.Add(1)
				res.latencies = append(res.latencies, d)
				if err == nil && status >= 200 && status < 300 {
					res.okRequests++
					res.alertsAccepted += n
					res.accepted = append(res.accepted, i)
					nAccepted.Add(int64(n))
					continue
				}
				res.alertsFailed += n
				nFailed.Add(1)
				what := ""
				switch {
				case err != nil && ctx.Err() != nil:
					what = "canceled"
				case err != nil:
					what = errorKind(err)
				default:
					what = fmt.Sprintf("HTTP %d %s", status, http.StatusText(status))
				}
				e := res.errors[what]
				if e == nil {
					e = &ErrorCount{What: what, Sample: sample}
					res.errors[what] = e
				}
				e.Requests++
				e.Alerts += n
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(stopProgress)
	progressDone.Wait()

	rep := &Report{
		Targets:     targets,
		Format:      o.Format,
		Run:         fmt.Sprintf("%08x", w.Run),
		Batch:       o.Batch,
		Concurrency: o.Concurrency,
		Client:      o.Client,
		Planned:     w.Alerts,
		Start:       start,
		Elapsed:     Seconds(elapsed),
		Errors:      []ErrorCount{},
		accepted:    make([]bool, w.Requests()),
	}
	var all []time.Duration
	errs := map[string]*ErrorCount{}
	for _, r := range results {
		all = append(all, r.latencies...)
		rep.Requests += r.requests
		rep.RequestsOK += r.okRequests
		rep.AlertsAccepted += r.alertsAccepted
		rep.AlertsFailed += r.alertsFailed
		for _, i := range r.accepted {
			rep.accepted[i] = true
		}
		for k, e := range r.errors {
			if t := errs[k]; t != nil {
				t.Requests += e.Requests
				t.Alerts += e.Alerts
			} else {
				c := *e
				errs[k] = &c
			}
		}
	}
	rep.RequestsFailed = rep.Requests - rep.RequestsOK
	rep.AlertsSent = rep.AlertsAccepted + rep.AlertsFailed
	for _, e := range errs {
		rep.Errors = append(rep.Errors, *e)
	}
	sort.Slice(rep.Errors, func(i, j int) bool { return rep.Errors[i].Requests > rep.Errors[j].Requests })
	if s := elapsed.Seconds(); s > 0 {
		rep.AlertsPerSec = float64(rep.AlertsAccepted) / s
		rep.RequestsPerSec = float64(rep.RequestsOK) / s
	}
	rep.Latency = Summarize(all)
	return rep
}

// post sends one body and reads the whole answer (so the connection is
// reused). sample is the start of a non-2xx answer.
func post(ctx context.Context, client *http.Client, target string, hdr http.Header, body []byte) (status int, sample string, d time.Duration, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return 0, "", 0, err
	}
	req.Header = hdr
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", time.Since(start), err
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		_, err = io.Copy(io.Discard, resp.Body)
	} else {
		var b []byte
		b, err = io.ReadAll(io.LimitReader(resp.Body, 300))
		sample = strings.TrimSpace(string(b))
		io.Copy(io.Discard, resp.Body)
	}
	resp.Body.Close()
	return resp.StatusCode, sample, time.Since(start), err
}

// errorKind names a transport error without the parts that differ per
// request (ports, addresses), so equal failures are counted together.
func errorKind(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed by server"
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Op + ": " + oe.Err.Error()
	}
	return err.Error()
}

// Latency summarizes request latencies.
type Latency struct {
	P50, P90, P99, Max, Mean time.Duration
}

// Summarize computes nearest-rank percentiles of ds (which it sorts).
func Summarize(ds []time.Duration) Latency {
	if len(ds) == 0 {
		return Latency{}
	}
	slices.Sort(ds)
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return Latency{
		P50:  percentile(ds, 50),
		P90:  percentile(ds, 90),
		P99:  percentile(ds, 99),
		Max:  ds[len(ds)-1],
		Mean: sum / time.Duration(len(ds)),
	}
}

// percentile is the nearest-rank p-th percentile of sorted ds: the smallest
// value at least p% of the values are less than or equal to.
func percentile(sorted []time.Duration, p int) time.Duration {
	rank := (p*len(sorted) + 99) / 100 // ceil(p/100 · n)
	return sorted[max(rank, 1)-1]
}
