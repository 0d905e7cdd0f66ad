package config

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Runbooks says where the runbooks are: a directory of Markdown files,
// in practice a git checkout, re-read when it changes.
type Runbooks struct {
	Dir string `yaml:"dir"`
}

// Diagnostics configures the opt-in running of runbooks' diagnose steps
// when an alert fires.
type Diagnostics struct {
	Enabled bool `yaml:"enabled"`
	// Allow lists the commands that may run, as a program and its first
	// arguments; "kubectl get|describe|logs" is shorthand for three entries.
	Allow       []string      `yaml:"allow"`
	Timeout     time.Duration `yaml:"timeout"`
	MaxOutput   int           `yaml:"max_output"` // bytes kept per command
	Concurrency int           `yaml:"concurrency"`
	// MaxRunsPerMinute bounds the runs alerts start, so a storm does not
	// run a ladder per alert against a struggling cluster.
	MaxRunsPerMinute int `yaml:"max_runs_per_minute"`
	// Redact are regular expressions whose matches are hidden in output.
	Redact []string `yaml:"redact"`
	// Env names the variables passed to commands (e.g. KUBECONFIG), besides
	// PATH, HOME, LANG, LC_ALL and TZ. Nothing else of Klaxon's environment is.
	Env []string `yaml:"env"`
}

// DefaultAllow is the allowlist when diagnostics are enabled without one:
// kubectl's read-only verbs.
var DefaultAllow = []string{"kubectl get|describe|logs|top|events"}

// Diagnostics defaults.
const (
	DefaultDiagnosticsTimeout = 10 * time.Second
	DefaultMaxOutput          = 16 << 10
	DefaultConcurrency        = 4
	DefaultMaxRunsPerMinute   = 30
)

func (d *Diagnostics) setDefaults() {
	if len(d.Allow) == 0 {
		d.Allow = DefaultAllow
	}
	if d.Timeout == 0 {
		d.Timeout = DefaultDiagnosticsTimeout
	}
	if d.MaxOutput == 0 {
		d.MaxOutput = DefaultMaxOutput
	}
	if d.Concurrency == 0 {
		d.Concurrency = DefaultConcurrency
	}
	if d.MaxRunsPerMinute == 0 {
		d.MaxRunsPerMinute = DefaultMaxRunsPerMinute
	}
}

// AllowList expands the allowlist's shorthand: "kubectl get|describe"
// becomes "kubectl get" and "kubectl describe".
func (d *Diagnostics) AllowList() []string {
	var out []string
	for _, entry := range d.Allow {
		out = append(out, expandAlternatives(strings.Fields(entry))...)
	}
	return out
}

func expandAlternatives(words []string) []string {
	if len(words) == 0 {
		return nil
	}
	rest := []string{""}
	if len(words) > 1 {
		rest = expandAlternatives(words[1:])
	}
	var out []string
	for _, alt := range strings.Split(words[0], "|") {
		for _, r := range rest {
			out = append(out, strings.TrimSpace(alt+" "+r))
		}
	}
	return out
}

// RedactPatterns compiles Redact; validate has checked them.
func (d *Diagnostics) RedactPatterns() []*regexp.Regexp {
	out := make([]*regexp.Regexp, 0, len(d.Redact))
	for _, p := range d.Redact {
		if re, err := regexp.Compile(p); err == nil {
			out = append(out, re)
		}
	}
	return out
}

// launchers are programs whose arguments name another program to run: on
// the allowlist they would let a runbook step run anything.
var launchers = []string{"sh", "bash", "dash", "zsh", "ksh", "fish", "env", "xargs", "sudo", "su", "doas", "nohup", "nice", "timeout", "exec", "busybox", "python", "python3", "perl", "ruby", "node"}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func (c *Config) validateRunbooks(d *doc) {
	if c.Runbooks.Dir != "" {
		if fi, err := os.Stat(c.Runbooks.Dir); err != nil {
			d.addf("runbooks.dir", "%v", err)
		} else if !fi.IsDir() {
			d.addf("runbooks.dir", "%s is not a directory", c.Runbooks.Dir)
		}
	}
	dg := &c.Diagnostics
	if !dg.Enabled {
		return
	}
	if c.Runbooks.Dir == "" {
		d.addf("diagnostics.enabled", "diagnostics run runbook steps: set runbooks.dir too")
	}
	for i, entry := range dg.Allow {
		key := fmt.Sprintf("diagnostics.allow[%d]", i)
		words := strings.Fields(entry)
		switch {
		case len(words) == 0:
			d.addf(key, "empty: give a program and, usually, its first arguments, e.g. \"kubectl get\"")
		case strings.ContainsAny(words[0], "|*?"):
			d.addf(key, "%q: the program must be named exactly", words[0])
		case slices.Contains(launchers, filepath.Base(words[0])):
			d.addf(key, "%q runs other programs, so allowing it would allow anything", words[0])
		}
		for _, w := range words {
			if slices.Contains(strings.Split(w, "|"), "") {
				d.addf(key, "%q has an empty alternative", w)
			}
		}
	}
	if dg.Timeout < 100*time.Millisecond || dg.Timeout > 5*time.Minute {
		d.addf("diagnostics.timeout", "must be between 100ms and 5m (got %s)", dg.Timeout)
	}
	if dg.MaxOutput < 256 || dg.MaxOutput > 1<<20 {
		d.addf("diagnostics.max_output", "must be between 256 and 1048576 bytes (got %d)", dg.MaxOutput)
	}
	if dg.Concurrency < 1 || dg.Concurrency > 64 {
		d.addf("diagnostics.concurrency", "must be between 1 and 64 (got %d)", dg.Concurrency)
	}
	if dg.MaxRunsPerMinute < 1 {
		d.addf("diagnostics.max_runs_per_minute", "must be at least 1 (got %d)", dg.MaxRunsPerMinute)
	}
	for i, p := range dg.Redact {
		if _, err := regexp.Compile(p); err != nil {
			d.addf(fmt.Sprintf("diagnostics.redact[%d]", i), "%v", err)
		}
	}
	for i, name := range dg.Env {
		if !envName.MatchString(name) {
			d.addf(fmt.Sprintf("diagnostics.env[%d]", i), "%q is not an environment variable name", name)
		}
	}
}
