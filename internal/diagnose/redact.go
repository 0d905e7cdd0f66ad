package diagnose

import (
	"cmp"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

const redacted = "[REDACTED]"

// pattern is a shape of secret. Group keep, if not 0, stays visible: the
// "Bearer " of a bearer token.
type pattern struct {
	re   *regexp.Regexp
	keep int
}

// tokenShapes are secrets recognisable by their shape, redacted always.
var tokenShapes = []pattern{
	{re: regexp.MustCompile(`(?i)\b(bearer\s+)[A-Za-z0-9\-._~+/]+=*`), keep: 1},
	{re: regexp.MustCompile(`\bxox[abprs]-[A-Za-z0-9-]+`)},
	{re: regexp.MustCompile(`\bsyt_[A-Za-z0-9_-]+`)},
	{re: regexp.MustCompile(`\b(?:AKIA|ASIA)[0-9A-Z]{16}`)},
	// A private key to its end, or to the end of the text if that was cut
	// off.
	{re: regexp.MustCompile(`-----BEGIN[A-Z0-9 ]*PRIVATE KEY-----(?s:.*?-----END[A-Z0-9 ]*PRIVATE KEY-----|.*)`)},
}

// redactor hides secrets in text: literal values and patterns.
type redactor struct {
	literals []string // longest first
	patterns []pattern
}

func newRedactor(res []*regexp.Regexp, secrets []string) *redactor {
	r := &redactor{patterns: slices.Clone(tokenShapes)}
	for _, re := range res {
		if re != nil {
			r.patterns = append(r.patterns, pattern{re: re})
		}
	}
	for _, s := range secrets {
		if s != "" && !slices.Contains(r.literals, s) {
			r.literals = append(r.literals, s)
		}
	}
	slices.SortFunc(r.literals, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	return r
}

// longest is the length of the longest literal secret.
func (r *redactor) longest() int {
	if len(r.literals) == 0 {
		return 0
	}
	return len(r.literals[0])
}

// String returns s with its secrets hidden.
func (r *redactor) String(s string) string {
	return apply(s, r.spans(s), len(s))
}

// spans returns the sorted, merged byte ranges of s that hold secrets.
// Every pattern is matched against the original text, so one redaction
// cannot break up the match of another.
func (r *redactor) spans(s string) [][2]int {
	var sp [][2]int
	for _, lit := range r.literals {
		for i := 0; ; {
			j := strings.Index(s[i:], lit)
			if j < 0 {
				break
			}
			sp = append(sp, [2]int{i + j, i + j + len(lit)})
			i += j + 1
		}
	}
	for _, p := range r.patterns {
		for _, m := range p.re.FindAllStringSubmatchIndex(s, -1) {
			start := m[0]
			if p.keep > 0 && m[2*p.keep+1] >= 0 {
				start = m[2*p.keep+1]
			}
			if m[1] > start {
				sp = append(sp, [2]int{start, m[1]})
			}
		}
	}
	if len(sp) == 0 {
		return nil
	}
	slices.SortFunc(sp, func(a, b [2]int) int { return cmp.Compare(a[0], b[0]) })
	out := sp[:1]
	for _, x := range sp[1:] {
		if last := &out[len(out)-1]; x[0] <= last[1] {
			last[1] = max(last[1], x[1])
		} else {
			out = append(out, x)
		}
	}
	return out
}

// apply returns s[:end] with spans replaced by [REDACTED]. A span that
// starts before end is replaced whole, so a secret cut by end shows
// nothing of itself.
func apply(s string, spans [][2]int, end int) string {
	if len(spans) == 0 {
		return s[:end]
	}
	var b strings.Builder
	last := 0
	for _, sp := range spans {
		if sp[0] >= end {
			break
		}
		b.WriteString(s[last:sp[0]])
		b.WriteString(redacted)
		last = sp[1]
	}
	if last < end {
		b.WriteString(s[last:end])
	}
	return b.String()
}

// capWriter keeps the first limit bytes written to it and counts the
// rest, which it discards: a command that floods output costs no memory,
// and never blocks on a full pipe.
type capWriter struct {
	mu    sync.Mutex
	buf   []byte
	limit int
	total int64
}

func (w *capWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.total += int64(len(p))
	if room := w.limit - len(w.buf); room > 0 {
		w.buf = append(w.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

// margin is how much more than the output shown a Runner keeps, so that
// a secret that starts before the cut is seen whole and redacted whole.
func (r *Runner) margin() int { return 4096 + r.redact.longest() }

// output returns what w kept, redacted and cut to limit bytes at a UTF-8
// boundary, and whether anything was cut. w must have kept limit plus
// margin bytes.
func (r *Runner) output(w *capWriter, limit int) (string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := string(w.buf)
	truncated := w.total > int64(limit)
	end := len(s)
	if truncated {
		end = min(end, limit)
	}
	out := apply(s, r.redact.spans(s), end)
	if len(out) > limit { // short secrets grew into [REDACTED]
		out, truncated = out[:limit], true
	}
	if truncated {
		out = trimPartialRune(out)
	}
	return printableText(out), truncated
}

// printableText makes output storable as JSON text everywhere: invalid
// UTF-8 and NUL (which PostgreSQL's jsonb refuses) become U+FFFD.
func printableText(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// trimPartialRune drops an incomplete UTF-8 sequence that a cut left at
// the end of s.
func trimPartialRune(s string) string {
	for i := len(s) - 1; i >= 0 && i >= len(s)-utf8.UTFMax; i-- {
		if utf8.RuneStart(s[i]) {
			if !utf8.FullRuneInString(s[i:]) {
				return s[:i]
			}
			return s
		}
	}
	return s
}
