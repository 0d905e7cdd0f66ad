// Package diagnose runs the diagnose steps of runbooks: the read-only
// commands the on-call would type first, run for them when an alert fires.
//
// This runs programs on the Klaxon host because an alert arrived, and the
// alert's labels fill the commands, so nothing an alert says is trusted. A
// line is parsed as shell syntax but never run by a shell: only one simple
// command is accepted. Label values go into arguments after parsing, so they
// cannot add words, options, pipes or expansions. The final argv must match
// the allowlist. The child gets a scrubbed environment and a time limit that
// kills its whole process group, and its output is capped and redacted.
package diagnose

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/runbook"
)

// Defaults for the zero values of Options.
const (
	DefaultTimeout     = 10 * time.Second
	DefaultMaxOutput   = 16 << 10
	DefaultConcurrency = 4
)

// passedEnv are the variables every command gets from Klaxon's environment.
var passedEnv = []string{"PATH", "HOME", "LANG", "LC_ALL", "TZ"}

var (
	commandsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "klaxon_diagnostics_commands_total",
		Help: "Diagnostic commands, by status (ok, failed, timeout, refused, error).",
	}, []string{"status"})
	commandDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "klaxon_diagnostics_duration_seconds",
		Help:    "Time diagnostic commands ran, for those that started.",
		Buckets: []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
	})
)

// Collectors returns the package's metrics for registration.
func Collectors() []prometheus.Collector {
	return []prometheus.Collector{commandsTotal, commandDuration}
}

// Options configures a Runner. Zero values get defaults.
type Options struct {
	// Allow lists what may run, as "program arg1 arg2…": a command runs
	// only if its program is written exactly as the entry's and its first
	// arguments are the entry's. "kubectl get" allows `kubectl get pods`
	// but not `kubectl delete`; "uptime" allows uptime with any arguments.
	// A bare program name is looked up in PATH, anything else must be an
	// absolute path.
	Allow       []string
	Timeout     time.Duration // per command; default 10s
	MaxOutput   int           // bytes kept of a command's stdout and stderr; default 16 KiB
	Concurrency int           // commands running at once across all Run calls; default 4
	// Redact are patterns whose matches are hidden in commands and output,
	// besides common token shapes (bearer tokens, Slack and Matrix tokens,
	// AWS access key IDs, private keys), which always are.
	Redact []*regexp.Regexp
	// Secrets are values hidden in commands and output, Klaxon's own
	// tokens. The values of Klaxon's environment variables whose names
	// say they are secrets (TOKEN, SECRET, PASSWORD, KEY…) are added.
	Secrets []string
	// Env names the variables of Klaxon's environment passed to commands,
	// besides PATH, HOME, LANG, LC_ALL and TZ. Nothing else is.
	Env []string
	Dir string // working directory; default os.TempDir()
}

// Runner runs diagnostic commands. It is safe for concurrent use.
type Runner struct {
	allow     []allowEntry
	timeout   time.Duration
	maxOutput int
	sem       chan struct{}
	redact    *redactor
	env       []string // names of the variables passed
	dir       string
}

// NewRunner returns a Runner for opts. An allowlist entry that is empty or
// names a program by a relative path, or an Env entry that is not a name,
// is an error.
func NewRunner(opts Options) (*Runner, error) {
	allow, err := parseAllow(opts.Allow)
	if err != nil {
		return nil, err
	}
	r := &Runner{
		allow:     allow,
		timeout:   opts.Timeout,
		maxOutput: opts.MaxOutput,
		redact:    newRedactor(opts.Redact, slices.Concat(opts.Secrets, environSecrets(os.Environ()))),
		env:       append([]string(nil), passedEnv...),
		dir:       opts.Dir,
	}
	if r.timeout <= 0 {
		r.timeout = DefaultTimeout
	}
	if r.maxOutput <= 0 {
		r.maxOutput = DefaultMaxOutput
	}
	n := opts.Concurrency
	if n <= 0 {
		n = DefaultConcurrency
	}
	r.sem = make(chan struct{}, n)
	if r.dir == "" {
		r.dir = os.TempDir()
	}
	for _, name := range opts.Env {
		if !envName.MatchString(name) {
			return nil, fmt.Errorf("diagnostics env: %q is not an environment variable name", name)
		}
		r.env = append(r.env, name)
	}
	return r, nil
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Run runs every command of steps, each the text of one code block, with
// placeholders filled from v, and returns one result per command, in
// order. A refused or failed command is reported and the next one runs.
// When ctx ends, the running command is killed and it and the remaining
// ones are reported as cancelled.
func (r *Runner) Run(ctx context.Context, steps []string, v runbook.Vars) []klaxon.DiagnosticResult {
	var results []klaxon.DiagnosticResult
	for _, step := range steps {
		for _, line := range Commands(step) {
			res := r.runLine(ctx, line, v)
			commandsTotal.WithLabelValues(string(res.Status)).Inc()
			results = append(results, res)
		}
	}
	return results
}

// runLine runs one command line, or says why not.
func (r *Runner) runLine(ctx context.Context, line string, v runbook.Vars) klaxon.DiagnosticResult {
	res := klaxon.DiagnosticResult{Command: r.redact.String(runbook.Fill(line, v))}
	fail := func(status klaxon.DiagnosticStatus, reason string) klaxon.DiagnosticResult {
		res.Status, res.Reason = status, r.redact.String(reason)
		return res
	}
	if ctx.Err() != nil {
		return fail(klaxon.DiagnosticError, reasonCancelled)
	}
	argv, err := Prepare(line, v)
	if err != nil {
		return fail(klaxon.DiagnosticRefused, err.Error())
	}
	if !allowed(r.allow, argv) {
		return fail(klaxon.DiagnosticRefused, notAllowed(r.allow, argv))
	}
	path, err := lookPath(argv[0])
	if err != nil {
		return fail(klaxon.DiagnosticError, err.Error())
	}
	select {
	case r.sem <- struct{}{}:
	case <-ctx.Done():
		return fail(klaxon.DiagnosticError, reasonCancelled)
	}
	defer func() { <-r.sem }()
	r.exec(ctx, path, argv, &res)
	res.Reason = r.redact.String(res.Reason)
	return res
}

const reasonCancelled = "cancelled"

// environ is the environment of a command: the passed variables that are
// set in Klaxon's. Never nil, as a nil Env would inherit everything.
func (r *Runner) environ() []string {
	env := make([]string, 0, len(r.env))
	for _, name := range r.env {
		if val, ok := os.LookupEnv(name); ok {
			env = append(env, name+"="+val)
		}
	}
	return env
}

// secretWords mark the names of environment variables whose values are
// secrets.
var secretWords = []string{"TOKEN", "SECRET", "PASSWORD", "PASSWD", "KEY", "CREDENTIAL", "AUTH"}

// environSecrets returns the values in env (as os.Environ) of variables
// named like secrets, long enough not to be mistaken for ordinary words.
func environSecrets(env []string) []string {
	var out []string
	for _, kv := range env {
		name, val, ok := strings.Cut(kv, "=")
		if !ok || len(val) < 8 {
			continue
		}
		name = strings.ToUpper(name)
		for _, w := range secretWords {
			if strings.Contains(name, w) {
				out = append(out, val)
				break
			}
		}
	}
	return out
}
