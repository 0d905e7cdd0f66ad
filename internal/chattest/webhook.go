package chattest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// WebhookSecret is the signing secret the fake webhook receiver checks
// unless SetSecret changes it.
const WebhookSecret = "whsec-klaxon-test-0123456789abcdef"

// WebhookRequest is one request the fake webhook receiver got.
type WebhookRequest struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
	// Valid says X-Klaxon-Signature is the HMAC-SHA256 of Body under the
	// receiver's secret. Requests that are not valid are answered 401.
	Valid bool
}

// Webhook is a fake receiver of Klaxon's outgoing webhook.
type Webhook struct {
	URL string // where to post

	mu       sync.Mutex
	secret   string
	requests []WebhookRequest
	fail     failures
}

// NewWebhook starts a fake webhook receiver, closed when t ends.
func NewWebhook(t testing.TB) *Webhook {
	t.Helper()
	wh := &Webhook{secret: WebhookSecret}
	srv := httptest.NewServer(http.HandlerFunc(wh.serve))
	t.Cleanup(srv.Close)
	wh.URL = srv.URL + "/hooks/klaxon"
	return wh
}

// Fail makes the next n requests answer status, with a Retry-After header
// when retryAfter is not empty. Failed requests are still recorded.
func (wh *Webhook) Fail(n, status int, retryAfter string) {
	wh.mu.Lock()
	defer wh.mu.Unlock()
	wh.fail.set(n, status, retryAfter)
}

// SetSecret changes the secret signatures are checked with.
func (wh *Webhook) SetSecret(secret string) {
	wh.mu.Lock()
	defer wh.mu.Unlock()
	wh.secret = secret
}

// Requests returns every request received, in order.
func (wh *Webhook) Requests() []WebhookRequest {
	wh.mu.Lock()
	defer wh.mu.Unlock()
	return append([]WebhookRequest(nil), wh.requests...)
}

// Deliveries returns the distinct X-Klaxon-Delivery values of the valid
// requests, in the order first seen: what a receiver that deduplicates
// retries would process.
func (wh *Webhook) Deliveries() []string {
	wh.mu.Lock()
	defer wh.mu.Unlock()
	seen := map[string]bool{}
	var out []string
	for _, r := range wh.requests {
		id := r.Header.Get("X-Klaxon-Delivery")
		if r.Valid && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

func (wh *Webhook) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "unreadable body", http.StatusBadRequest)
		return
	}
	wh.mu.Lock()
	defer wh.mu.Unlock()
	req := WebhookRequest{
		Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body,
		Valid: webhookSignatureOK([]byte(wh.secret), body, r.Header.Get("X-Klaxon-Signature")),
	}
	wh.requests = append(wh.requests, req)
	switch status := wh.fail.take(w); {
	case status != 0:
		http.Error(w, "injected failure", status)
	case r.Method != http.MethodPost:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	case !req.Valid:
		http.Error(w, "bad signature", http.StatusUnauthorized)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// webhookSignatureOK checks "sha256=<hex HMAC-SHA256(secret, body)>",
// written apart from the sender's code so the two check each other.
func webhookSignatureOK(secret, body []byte, header string) bool {
	got, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return false
	}
	sig, err := hex.DecodeString(got)
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return hmac.Equal(sig, mac.Sum(nil))
}
