package notify

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// HTTPTimeout bounds every outbound call to a platform.
const HTTPTimeout = 15 * time.Second

// NewHTTPClient returns the client platform packages use: bounded in time,
// never following a redirect to somewhere else.
func NewHTTPClient() *http.Client {
	return &http.Client{
		Timeout: HTTPTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// HTTPSOrLoopback accepts https URLs, and http ones to this machine (a
// local relay or a test): for URLs that carry a secret.
func HTTPSOrLoopback(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return false
	}
	switch u.Scheme {
	case "https":
		return true
	case "http":
		h := u.Hostname()
		return h == "localhost" || h == "127.0.0.1" || h == "::1"
	}
	return false
}

// StatusError classifies a platform's HTTP answer: nil for 2xx; retryable
// for 408, 429 and 5xx (honouring Retry-After); permanent for any other
// status. It reads and closes nothing: pass the body the caller read.
func StatusError(platform string, resp *http.Response, body []byte) error {
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	err := fmt.Errorf("%s: HTTP %d: %s", platform, resp.StatusCode, snippet(body))
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		return RetryAfter(parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()), err)
	case resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode >= 500:
		return RetryAfter(parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()), err)
	}
	return Permanent(err)
}

// parseRetryAfter reads a Retry-After header: seconds or an HTTP date.
// Unparseable or absent gives 0 (the caller's backoff applies).
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// ReadBody reads at most 1 MiB of a response body and closes it.
func ReadBody(resp *http.Response) []byte {
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return b
}

// snippet shortens a response body for an error message.
func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
