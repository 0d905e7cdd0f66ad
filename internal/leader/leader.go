// Package leader elects one replica, among those sharing a database, to run
// the work that must happen once: delivering chat messages in order, the
// Matrix /sync listener, queueing hand-off notices. Election is a lease row
// in the database (klaxon.Store.Lease): the leader renews it, and when it
// dies another replica takes it over once it expires.
package leader

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

var isLeader = prometheus.NewGauge(prometheus.GaugeOpts{
	Name: "klaxon_leader",
	Help: "1 while this replica is the elected leader (sends chat messages, listens to Matrix), else 0.",
})

// Collectors returns the package's metrics for registration.
func Collectors() []prometheus.Collector { return []prometheus.Collector{isLeader} }

// Lease is the store's lease, which klaxon.Store provides.
type Lease interface {
	Lease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	ReleaseLease(ctx context.Context, name, holder string) error
}

// Options tunes an election. The zero value is the production setting.
type Options struct {
	// Name is the lease's name (default "leader").
	Name string
	// Holder names this replica; default: host name, process ID and a
	// random suffix, unique per process.
	Holder string
	// TTL is how long a lease lasts unrenewed: how long the replicas wait
	// for a leader that died without releasing it (default 10s).
	TTL    time.Duration
	Logger *slog.Logger
}

// Run campaigns until ctx ends. While this replica holds the lease, lead
// runs with a context that ends as soon as the lease might be lost: when a
// renewal is refused, or when renewals have failed for so long that the
// lease may expire. Run waits for lead to return before campaigning again,
// and releases the lease on the way out, so a clean shutdown hands over at
// once.
func Run(ctx context.Context, l Lease, opts Options, lead func(ctx context.Context)) {
	opts = opts.withDefaults()
	log := opts.Logger.With("lease", opts.Name, "holder", opts.Holder)
	// Renew five times per TTL, and stop leading two renewals before the
	// lease could expire, counted from before the renewal was sent: a slow
	// call cannot make two leaders, since the others wait for the full TTL
	// from when the database saw it.
	renew := opts.TTL / 5
	safe := opts.TTL - 2*renew

	var current *term // while leading
	stepDown := func(why string) {
		if current == nil {
			return
		}
		current.end()
		current = nil
		isLeader.Set(0)
		log.Warn("no longer the leader", "reason", why)
	}
	defer func() {
		stepDown("shutting down")
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), renew)
		defer cancel()
		if err := l.ReleaseLease(rctx, opts.Name, opts.Holder); err != nil {
			log.Warn("could not release the lease; another replica takes over when it expires", "err", err)
		}
	}()

	tick := time.NewTicker(renew)
	defer tick.Stop()
	for {
		start := time.Now()
		cctx, cancel := context.WithTimeout(ctx, renew)
		held, err := l.Lease(cctx, opts.Name, opts.Holder, opts.TTL)
		cancel()
		switch {
		case ctx.Err() != nil:
			return
		case err != nil && current != nil:
			log.Warn("lease renewal failed; still leading until it is no longer safe", "err", err)
		case err != nil:
			log.Debug("lease request failed", "err", err)
		case held && current == nil:
			current = begin(ctx, lead, safe-time.Since(start))
			isLeader.Set(1)
			log.Info("this replica is the leader")
		case held:
			current.expiry.Reset(safe - time.Since(start))
		default:
			stepDown("another replica holds the lease")
		}
		var expired <-chan time.Time
		if current != nil {
			expired = current.expiry.C
		}
		select {
		case <-ctx.Done():
			return
		case <-expired:
			stepDown("the lease could not be renewed in time")
		case <-tick.C:
		}
	}
}

// term is one spell of leading.
type term struct {
	stop    context.CancelFunc
	stopped chan struct{}
	expiry  *time.Timer // fires when leading is no longer safe
}

func begin(ctx context.Context, lead func(context.Context), safeFor time.Duration) *term {
	ctx, stop := context.WithCancel(ctx)
	t := &term{stop: stop, stopped: make(chan struct{}), expiry: time.NewTimer(safeFor)}
	go func() {
		defer close(t.stopped)
		lead(ctx)
	}()
	return t
}

// end stops the work and waits for it to return.
func (t *term) end() {
	t.stop()
	<-t.stopped
	t.expiry.Stop()
}

func (o Options) withDefaults() Options {
	if o.Name == "" {
		o.Name = "leader"
	}
	if o.Holder == "" {
		o.Holder = NewHolder()
	}
	if o.TTL <= 0 {
		o.TTL = 10 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// NewHolder names this process uniquely: a restarted process is a new
// holder, and waits for its predecessor's lease to expire.
func NewHolder() string {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown"
	}
	b := make([]byte, 4)
	rand.Read(b)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}
