package faulttest

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"slices"
	"sync"
	"testing"
	"time"
)

// outage is a proxy in front of the chat platform. While it is down, it
// fails requests in turn in each of the ways platforms fail: 503; taking a
// request in and carrying it out but never answering (a timeout: only
// idempotent retries avoid a double post); 429 with Retry-After.
type outage struct {
	proxy *httputil.ReverseProxy
	mu    sync.Mutex
	down  bool
	back  chan struct{} // closed when the platform is back
	hits  map[string]int
}

var failures = []string{"unavailable", "unanswered", "throttled"}

func newOutage(t *testing.T, target string) (*outage, string) {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	o := &outage{proxy: httputil.NewSingleHostReverseProxy(u), back: make(chan struct{}), hits: map[string]int{}}
	o.proxy.ErrorLog = log.New(io.Discard, "", 0) // cancelled long polls
	srv := httptest.NewServer(o)
	t.Cleanup(srv.Close)
	return o, srv.URL
}

func (o *outage) set(down bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.down && !down {
		close(o.back)
		o.back = make(chan struct{})
	}
	o.down = down
}

func (o *outage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	failure, back := "", o.back
	if o.down {
		n := 0
		for _, f := range failures {
			n += o.hits[f]
		}
		failure = failures[n%len(failures)]
		o.hits[failure]++
	}
	o.mu.Unlock()
	switch failure {
	case "unavailable":
		http.Error(w, "upstream unavailable", http.StatusServiceUnavailable)
	case "unanswered":
		o.proxy.ServeHTTP(httptest.NewRecorder(), r)
		select {
		case <-back:
		case <-r.Context().Done():
		}
		http.Error(w, "gateway timeout", http.StatusGatewayTimeout)
	case "throttled":
		w.Header().Set("Retry-After", "3")
		http.Error(w, `{"errcode":"M_LIMIT_EXCEEDED","error":"Too many requests"}`, http.StatusTooManyRequests)
	default:
		o.proxy.ServeHTTP(w, r)
	}
}

// outageLength is how long the platform is down in all: 30s by default,
// KLAXON_FAULT_OUTAGE (e.g. 5m) for the long run.
func outageLength(t *testing.T) time.Duration {
	v := os.Getenv("KLAXON_FAULT_OUTAGE")
	if v == "" {
		return 30 * time.Second
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 10*time.Second {
		t.Fatalf("KLAXON_FAULT_OUTAGE=%q: want a duration of 10s or more", v)
	}
	return d
}

// TestFaultChatPlatformDown: Matrix is down while a storm comes in,
// answering 503, timing out and answering 429 with Retry-After. Ingest is unaffected; once Matrix is back every
// group's message is posted, in the order the groups began, once, and
// counts all of its alerts.
func TestFaultChatPlatformDown(t *testing.T) {
	p := newPlatforms(t)
	o, front := newOutage(t, p.matrix.URL)
	p.homeserver = front
	c := newCluster(t, "sqlite://"+t.TempDir()+"/klaxon.db", p, time.Hour)
	c.start()
	c.leader()

	length := outageLength(t)
	o.set(true)
	st := newStorm(2000, 5*time.Second)
	st.run(t, c.urls, nil)
	time.Sleep(length - 5*time.Second)
	o.set(false)

	// Backoff is capped at a minute: delivery resumes within one.
	res := settle(t, c, p, st, false, time.Minute+30*time.Second)
	var order []string
	for _, m := range p.matrix.Messages(p.room) {
		if m.Sender == matrixBot && m.RelType != "m.thread" {
			order = append(order, stormName.FindString(m.Body))
		}
	}
	o.mu.Lock()
	for _, f := range failures {
		if o.hits[f] == 0 {
			t.Errorf("no request was %s: the outage was not felt", f)
		}
	}
	t.Logf("requests while the platform was unavailable: %d, unanswered: %d, throttled: %d", o.hits["unavailable"], o.hits["unanswered"], o.hits["throttled"])
	o.mu.Unlock()
	if !slices.IsSorted(order) {
		t.Errorf("messages posted out of order: %v", order)
	}
	check(t, "chat-down-"+length.String(), res)
}
