package app_test

import (
	"bufio"
	"bytes"
	"cmp"
	"compress/gzip"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/klaxon-oss/klaxon/internal/auth"
	"github.com/klaxon-oss/klaxon/internal/config"
)

// secretScanner fails a test when a secret shows in what a Klaxon server
// wrote: its logs, its metrics, or any answer it sent, whichever client
// asked. It knows the configuration's secrets, the session secrets it sees
// handed out, and the shape of a personal API token.
type secretScanner struct {
	t testing.TB

	mu       sync.Mutex
	secrets  []secret
	conns    []*recordedConn
	reported map[string]bool // kind and place, so each leak is told once

	logMu sync.Mutex
	logs  bytes.Buffer
}

// secret is a value that must not show, and what it is.
type secret struct{ kind, value string }

// minSecretLen: shorter values would match ordinary text. config.Secrets
// leaves them out for the same reason, and refuses tokens that short.
const minSecretLen = 8

// personalToken is any personal API token: klx_ and 32 random bytes in
// base32, so one leaks even if the test never saw it made.
var personalToken = regexp.MustCompile(regexp.QuoteMeta(auth.TokenPrefix) + `[a-z2-7]{52}`)

// tokenIssuers are the requests whose answer shows a new personal token:
// once, by design. Only the token check is off for them.
var tokenIssuers = []string{"POST /api/v1/tokens", "POST /api/v1/login", "POST /account/tokens"}

// newSecretScanner knows cfg's secrets; it reports to t.
func newSecretScanner(t testing.TB, cfg *config.Config) *secretScanner {
	s := &secretScanner{t: t, reported: map[string]bool{}}
	for _, v := range cfg.Secrets() {
		s.add(secretKind(cfg, v), v)
	}
	return s
}

// secretKind says what a secret of cfg is, for a failure message that must
// not show the secret itself.
func secretKind(cfg *config.Config, v string) string {
	for _, t := range cfg.APITokens {
		if string(t.Token) == v {
			return "API token " + t.Name
		}
	}
	for _, in := range cfg.Integrations {
		if string(in.Token) == v {
			return "integration token " + in.Name
		}
	}
	switch {
	case string(cfg.Calendar.Secret) == v:
		return "calendar secret"
	case cfg.Auth.OIDC != nil && string(cfg.Auth.OIDC.ClientSecret) == v:
		return "OIDC client secret"
	case strings.Contains(cfg.Database, v):
		return "database password"
	}
	// Config leaves a channel's keys to its platform package.
	return "channel credential"
}

// add makes value a secret of kind. A URL's password and query values are
// secrets of their own: a platform may echo one alone.
func (s *secretScanner) add(kind, value string) {
	if len(value) < minSecretLen {
		return
	}
	s.mu.Lock()
	s.secrets = append(s.secrets, secret{kind, value})
	s.mu.Unlock()
	if u, err := url.Parse(value); err == nil && u.Host != "" {
		if pass, ok := u.User.Password(); ok {
			s.add(kind+" (password)", pass)
		}
		for k, vs := range u.Query() {
			for _, v := range vs {
				s.add(kind+" ("+k+" parameter)", v)
			}
		}
	}
}

// logHandler takes every log record, debug included.
func (s *secretScanner) logHandler() slog.Handler {
	return slog.NewTextHandler(lockedWriter{&s.logMu, &s.logs}, &slog.HandlerOptions{Level: slog.LevelDebug})
}

// listen records what each connection to the server carries.
func (s *secretScanner) listen(ln net.Listener) net.Listener {
	return recordingListener{ln, s}
}

// scrapeMetrics reads /metrics once more before the server stops, so the
// scan sees every series the test made.
func (s *secretScanner) scrapeMetrics(baseURL string) {
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(baseURL + "/metrics")
	if err != nil {
		s.t.Errorf("scrape metrics for the secret scan: %v", err)
		return
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// check scans the answers and the logs, once the server has stopped.
func (s *secretScanner) check() {
	s.mu.Lock()
	conns := s.conns
	s.mu.Unlock()
	var all []exchange
	var unparsed [][]byte
	for _, c := range conns {
		exchanges, rest := c.exchanges()
		all = append(all, exchanges...)
		unparsed = append(unparsed, rest)
	}
	// Learn every session first: a session made on one connection must
	// not show on another.
	for _, e := range all {
		for _, c := range e.cookies {
			if c.Name == auth.SessionCookie {
				s.add("session secret", c.Value)
			}
		}
	}
	for _, e := range all {
		if e.err != nil {
			s.mu.Lock()
			s.t.Errorf("secret scan of the answer to %s: %v", s.redact(e.request), e.err)
			s.mu.Unlock()
		}
		s.scan("the answer to "+e.request, e.text, e.issuesToken)
	}
	for _, rest := range unparsed {
		s.scan("an answer the scan could not parse", rest, false)
	}
	s.logMu.Lock()
	defer s.logMu.Unlock()
	s.scan("the logs", s.logs.Bytes(), false)
}

// scan reports each secret found in data; tokenShown allows a personal API
// token.
func (s *secretScanner) scan(where string, data []byte, tokenShown bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	text := string(data)
	where = s.redact(where)
	for _, sec := range s.secrets {
		if strings.Contains(text, sec.value) {
			s.report(where, sec.kind, text)
		}
	}
	if !tokenShown && personalToken.MatchString(text) {
		s.report(where, "personal API token", text)
	}
}

func (s *secretScanner) report(where, kind, text string) {
	if s.reported[kind+" in "+where] {
		return
	}
	s.reported[kind+" in "+where] = true
	s.t.Errorf("a secret leaked: the %s appears in %s: %s", kind, where, s.excerpt(text, kind))
}

// excerpt is the text around the first occurrence of a secret of kind,
// every secret in it redacted.
func (s *secretScanner) excerpt(text, kind string) string {
	const around = 40
	text = s.redact(text)
	i := max(strings.Index(text, redacted(kind)), 0)
	from, to := max(i-around, 0), min(i+len(redacted(kind))+around, len(text))
	return "…" + strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(text[from:to], "")) + "…"
}

// redact replaces every secret by its kind; s.mu is held.
func (s *secretScanner) redact(text string) string {
	// Longest first, so a secret holding another is replaced whole.
	secrets := slices.SortedFunc(slices.Values(s.secrets), func(a, b secret) int { return cmp.Compare(len(b.value), len(a.value)) })
	var pairs []string
	for _, sec := range secrets {
		pairs = append(pairs, sec.value, redacted(sec.kind))
	}
	text = strings.NewReplacer(pairs...).Replace(text)
	return personalToken.ReplaceAllString(text, redacted("personal API token"))
}

func redacted(kind string) string { return "<" + kind + ">" }

// recordingListener hands the server connections that record what they
// carry, so every answer can be scanned whichever client asked.
type recordingListener struct {
	net.Listener
	scan *secretScanner
}

func (l recordingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	rc := &recordedConn{Conn: c}
	l.scan.mu.Lock()
	l.scan.conns = append(l.scan.conns, rc)
	l.scan.mu.Unlock()
	return rc, nil
}

// maxRecorded bounds what is kept of each direction of a connection (a
// live page's event stream never ends); answers are scanned up to there.
const maxRecorded = 8 << 20

// recordedConn keeps the requests read and the answers written.
type recordedConn struct {
	net.Conn
	mu                sync.Mutex
	requests, answers bytes.Buffer
}

func (c *recordedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.record(&c.requests, p[:n])
	return n, err
}

func (c *recordedConn) Write(p []byte) (int, error) {
	c.record(&c.answers, p)
	return c.Conn.Write(p)
}

func (c *recordedConn) record(b *bytes.Buffer, p []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b.Write(p[:min(len(p), maxRecorded-b.Len())])
}

// exchange is one answer, decoded (chunks joined), and what it answered.
type exchange struct {
	request     string // method and path, without the query (it may hold a token)
	text        []byte // status line, headers but the session cookie's, body
	cookies     []*http.Cookie
	issuesToken bool
	err         error // the body could not be decoded, so was not scanned
}

// exchanges pairs each recorded answer with its request; rest is what
// could not be parsed (a cut-off stream, an answer to a malformed
// request), to be scanned as it is.
func (c *recordedConn) exchanges() (out []exchange, rest []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	requests := bufio.NewReader(bytes.NewReader(c.requests.Bytes()))
	answers := bufio.NewReader(bytes.NewReader(c.answers.Bytes()))
	for {
		req, err := http.ReadRequest(requests)
		if err != nil {
			break
		}
		io.Copy(io.Discard, req.Body)
		resp, err := http.ReadResponse(answers, req)
		for err == nil && resp.StatusCode < 200 && resp.StatusCode != http.StatusSwitchingProtocols {
			resp, err = http.ReadResponse(answers, req) // after 100 Continue, the answer
		}
		if err != nil {
			break
		}
		body, decodeErr := decodedBody(resp) // a cut-off body is scanned as far as it goes
		var text bytes.Buffer
		text.WriteString(resp.Status + "\n")
		for k, vs := range resp.Header {
			for _, v := range vs {
				if k == "Set-Cookie" && strings.HasPrefix(v, auth.SessionCookie+"=") {
					continue // the session starts here; check learns it
				}
				text.WriteString(k + ": " + v + "\n")
			}
		}
		text.Write(body)
		request := req.Method + " " + req.URL.Path
		out = append(out, exchange{request: request, text: text.Bytes(), cookies: resp.Cookies(), issuesToken: slices.Contains(tokenIssuers, request), err: decodeErr})
	}
	rest, _ = io.ReadAll(answers)
	return out, rest
}

// decodedBody reads an answer's body as the client sees it: /metrics
// gzips its answer for any client that takes gzip, as Go's does.
func decodedBody(resp *http.Response) ([]byte, error) {
	switch enc := resp.Header.Get("Content-Encoding"); enc {
	case "":
		return io.ReadAll(resp.Body)
	case "gzip":
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			return nil, err
		}
		b, _ := io.ReadAll(zr)
		return b, nil
	default:
		return nil, fmt.Errorf("cannot scan a body in %s encoding", enc)
	}
}
