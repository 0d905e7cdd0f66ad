package chattest_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"

	"github.com/klaxon-oss/klaxon/internal/chattest"
)

func webhookPost(t *testing.T, target, body, signature, delivery string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, target, strings.NewReader(body))
	req.Header.Set("X-Klaxon-Signature", signature)
	req.Header.Set("X-Klaxon-Delivery", delivery)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func webhookSign(body string) string {
	mac := hmac.New(sha256.New, []byte(chattest.WebhookSecret))
	mac.Write([]byte(body))
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

func TestWebhook(t *testing.T) {
	wh := chattest.NewWebhook(t)
	body := `{"version":"1"}`
	for _, tc := range []struct {
		name, body, sig string
		want            int
	}{
		{"signed", body, webhookSign(body), http.StatusNoContent},
		{"retry", body, webhookSign(body), http.StatusNoContent},
		{"tampered", `{"version":"2"}`, webhookSign(body), http.StatusUnauthorized},
		{"unsigned", body, "", http.StatusUnauthorized},
		{"not hex", body, "sha256=zz", http.StatusUnauthorized},
	} {
		if got := webhookPost(t, wh.URL, tc.body, tc.sig, "klaxon-1.1"); got != tc.want {
			t.Errorf("%s: got %d, want %d", tc.name, got, tc.want)
		}
	}
	wh.Fail(1, http.StatusBadGateway, "")
	if got := webhookPost(t, wh.URL, body, webhookSign(body), "klaxon-1.2"); got != http.StatusBadGateway {
		t.Errorf("failure: got %d", got)
	}
	reqs := wh.Requests()
	if len(reqs) != 6 || !reqs[0].Valid || reqs[2].Valid || string(reqs[0].Body) != body {
		t.Errorf("got %+v", reqs)
	}
	if got := strings.Join(wh.Deliveries(), " "); got != "klaxon-1.1 klaxon-1.2" {
		t.Errorf("deliveries: got %q", got)
	}
	wh.SetSecret("a-different-secret-0123")
	if got := webhookPost(t, wh.URL, body, webhookSign(body), "klaxon-1.3"); got != http.StatusUnauthorized {
		t.Errorf("after SetSecret: got %d, want 401", got)
	}
}
