package diagnose

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestRedactTokenShapes(t *testing.T) {
	r := newRedactor([]*regexp.Regexp{regexp.MustCompile(`pw=\S+`)}, []string{"s3cret-value", "s3cret"})
	tests := []struct {
		name, in, want string
	}{
		{"bearer", "Authorization: Bearer eyJhbGciOi.J9x_y-z+/=", "Authorization: Bearer [REDACTED]"},
		{"bearer lowercase", "authorization: bearer abc123", "authorization: bearer [REDACTED]"},
		{"slack", "token xoxb-1234-5678-abcDEF ok", "token [REDACTED] ok"},
		{"matrix", "access_token=syt_a2xheG9u_AbCdEf_0x1y2z", "access_token=[REDACTED]"},
		{"aws", "key AKIAIOSFODNN7EXAMPLE.", "key [REDACTED]."},
		{"private key", "a\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n-----END OPENSSH PRIVATE KEY-----\nz", "a\n[REDACTED]\nz"},
		{"private key cut off", "a\n-----BEGIN PRIVATE KEY-----\nMIIEvQ", "a\n[REDACTED]"},
		{"configured pattern", "pw=hunter2 next", "[REDACTED] next"},
		{"literal, longest first", "x s3cret-value s3cret y", "x [REDACTED] [REDACTED] y"},
		{"overlapping", "Bearer s3cret-valuexyz", "Bearer [REDACTED]"},
		{"public key kept", "-----BEGIN PUBLIC KEY-----", "-----BEGIN PUBLIC KEY-----"},
		{"nothing", "all good", "all good"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := r.String(tt.in); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestEnvironSecrets(t *testing.T) {
	env := []string{"PATH=/usr/bin:/bin", "KLAXON_MATRIX_TOKEN=syt_abcdefgh", "DB_PASSWORD=short", "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI", "my_api_key=abcdefgh12", "HOME=/root", "SSH_AUTH_SOCK=/tmp/agent.sock"}
	got := environSecrets(env)
	want := []string{"syt_abcdefgh", "wJalrXUtnFEMI", "abcdefgh12", "/tmp/agent.sock"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestOutputCut(t *testing.T) {
	const limit = 100
	secret := strings.Repeat("S", 40)
	tests := []struct {
		name, raw     string
		wantTruncated bool
	}{
		{"fits", strings.Repeat("a", limit), false},
		{"secret across the cut", strings.Repeat("a", limit-10) + secret + strings.Repeat("b", 10000), true},
		{"bearer across the cut", strings.Repeat("a", limit-12) + " Bearer abcdefghijklmnop" + strings.Repeat("b", 10000), true},
		{"key across the cut", strings.Repeat("a", limit-30) + "-----BEGIN PRIVATE KEY-----\nMIIEvQ" + strings.Repeat("b", 10000), true},
		{"short secrets grow", strings.Repeat("tiny ", limit/5), true},
		{"cut inside a rune", strings.Repeat("é", limit), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Runner{maxOutput: limit, redact: newRedactor(nil, []string{secret, "tiny"})}
			w := &capWriter{limit: limit + r.margin()}
			// Written in pieces, as a pipe would.
			for s := tt.raw; s != ""; {
				n := min(len(s), 7)
				_, _ = w.Write([]byte(s[:n]))
				s = s[n:]
			}
			got, truncated := r.output(w, limit)
			if len(got) > limit {
				t.Errorf("got %d bytes, want at most %d", len(got), limit)
			}
			if truncated != tt.wantTruncated {
				t.Errorf("truncated: got %v, want %v", truncated, tt.wantTruncated)
			}
			if !utf8.ValidString(got) {
				t.Errorf("not valid UTF-8: %q", got)
			}
			for _, leak := range []string{"SSS", "Bearer a", "MII", "tiny"} {
				if strings.Contains(got, leak) {
					t.Errorf("output shows %q: %q", leak, got)
				}
			}
		})
	}
}

func TestCapWriterDiscardsTheRest(t *testing.T) {
	w := &capWriter{limit: 10}
	for range 1000 {
		if n, err := w.Write(make([]byte, 1000)); n != 1000 || err != nil {
			t.Fatalf("Write: got %d, %v; want 1000, nil", n, err)
		}
	}
	if len(w.buf) != 10 || w.total != 1e6 {
		t.Errorf("kept %d of %d bytes, want 10 of 1000000", len(w.buf), w.total)
	}
}
