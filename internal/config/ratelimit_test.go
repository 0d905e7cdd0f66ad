package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon/internal/config"
)

// integrationWith is one alertmanager integration with the given extra
// line (indented as its key); the line is line 5 of the file.
func integrationWith(line string) string {
	return "integrations:\n  - name: am\n    type: alertmanager\n    token: aaaaaaaaaaaaaaaa\n" + line + "\n"
}

func TestParseRateLimit(t *testing.T) {
	tests := []struct {
		name, line string
		want       config.RateLimit
	}{
		{"unset is the default", "", config.DefaultRateLimit},
		{"per second", "    rate_limit: 100/s", config.RateLimit{Requests: 100, Per: time.Second}},
		{"per minute", "    rate_limit: 6000/m", config.RateLimit{Requests: 6000, Per: time.Minute}},
		{"one per minute", "    rate_limit: 1/m", config.RateLimit{Requests: 1, Per: time.Minute}},
		{"off", "    rate_limit: off", config.RateLimit{}},
		{"quoted off", `    rate_limit: "off"`, config.RateLimit{}},
		{"from the environment", "    rate_limit: ${AM_RATE}", config.RateLimit{Requests: 50, Per: time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := mustParse(t, integrationWith(tt.line), map[string]string{"AM_RATE": "50/s"})
			if got := cfg.Integrations[0].RateLimit; got != tt.want {
				t.Errorf("RateLimit: got %+v, want %+v", got, tt.want)
			}
			// What String prints loads back the same.
			again := mustParse(t, strings.ReplaceAll(cfg.String(), "<redacted>", "aaaaaaaaaaaaaaaa"), nil)
			if got := again.Integrations[0].RateLimit; got != tt.want {
				t.Errorf("RateLimit after String and Parse: got %+v, want %+v\n%s", got, tt.want, cfg.String())
			}
		})
	}
}

func TestRateLimitErrors(t *testing.T) {
	tests := []struct {
		name, line, want string
	}{
		{"no unit", "    rate_limit: 100", `test.yaml:5: integrations[0].rate_limit: "100": want requests per second or minute (100/s, 6000/m) or off`},
		{"unknown unit", "    rate_limit: 100/h", `test.yaml:5: integrations[0].rate_limit: "100/h": want requests per second or minute (100/s, 6000/m) or off`},
		{"words", "    rate_limit: fast", `test.yaml:5: integrations[0].rate_limit: "fast": want requests per second or minute (100/s, 6000/m) or off`},
		{"a fraction", "    rate_limit: 0.5/s", `test.yaml:5: integrations[0].rate_limit: "0.5/s": want requests per second or minute (100/s, 6000/m) or off`},
		{"empty", "    rate_limit:", `test.yaml:5: integrations[0].rate_limit: "": want requests per second or minute (100/s, 6000/m) or off`},
		{"zero", "    rate_limit: 0/s", `test.yaml:5: integrations[0].rate_limit: "0/s": allow at least 1 request, or write off for no limit`},
		{"negative", "    rate_limit: -5/m", `test.yaml:5: integrations[0].rate_limit: "-5/m": allow at least 1 request, or write off for no limit`},
		{"a list", "    rate_limit: [100/s]", `test.yaml:5: rate_limit: want 100/s, 6000/m or off`},
		{"a mapping", "    rate_limit: {requests: 100}", `test.yaml:5: integrations[0].rate_limit.requests: unknown key`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := parseErr(t, integrationWith(tt.line), nil)
			if e.Error() != tt.want {
				t.Errorf("error:\ngot  %s\nwant %s", e, tt.want)
			}
		})
	}
}

func TestRateLimitString(t *testing.T) {
	for _, s := range []string{"100/s", "6000/m", "off"} {
		l, err := config.ParseRateLimit(s)
		if err != nil || l.String() != s {
			t.Errorf("ParseRateLimit(%q).String(): got %q (err %v), want %q", s, l.String(), err, s)
		}
	}
}
