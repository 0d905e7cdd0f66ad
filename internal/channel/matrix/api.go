package matrix

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/klaxon-oss/klaxon/internal/notify"
)

// clientAPI prefixes every client-server API path.
const clientAPI = "/_matrix/client/v3"

// apiError is a homeserver's error answer: the HTTP status and the
// standard error body.
type apiError struct {
	op           string
	status       int
	body         string
	ErrCode      string `json:"errcode"`
	Message      string `json:"error"`
	RetryAfterMS int64  `json:"retry_after_ms"`
}

func (e *apiError) Error() string {
	if e.ErrCode == "" {
		return fmt.Sprintf("matrix %s: HTTP %d: %s", e.op, e.status, e.body)
	}
	return fmt.Sprintf("matrix %s: HTTP %d %s: %s", e.op, e.status, e.ErrCode, e.Message)
}

// call does one API request as the bot: in (if not nil) is the JSON body,
// out (if not nil) receives the JSON answer. Errors are classified for
// notify: 429 waits as the server asks, 5xx and network errors are
// retryable, other statuses (401 M_UNKNOWN_TOKEN, 403 M_FORBIDDEN, 404) are
// permanent.
func (c *Channel) call(ctx context.Context, client *http.Client, op, method, path string, query url.Values, in, out any) error {
	var body *bytes.Reader
	if in != nil {
		b, err := marshal(in)
		if err != nil {
			return notify.Permanent(fmt.Errorf("matrix %s: %w", op, err))
		}
		body = bytes.NewReader(b)
	}
	u := c.homeserver + clientAPI + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var req *http.Request
	var err error
	if body != nil {
		req, err = http.NewRequestWithContext(ctx, method, u, body)
	} else {
		req, err = http.NewRequestWithContext(ctx, method, u, nil)
	}
	if err != nil {
		return notify.Permanent(fmt.Errorf("matrix %s: %w", op, err))
	}
	// The token goes in the header only: URLs end up in logs and errors.
	req.Header.Set("Authorization", "Bearer "+string(c.token))
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("matrix %s: %w", op, ctx.Err())
		}
		return fmt.Errorf("matrix %s: %w", op, err)
	}
	b := notify.ReadBody(resp)
	// An error answer may repeat the token (a proxy's debug page, a
	// server quoting the header it refused), and errors are logged and
	// stored in alerts' history.
	if err := classify(op, resp, bytes.ReplaceAll(b, []byte(c.token), []byte("<redacted>"))); err != nil {
		return err
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("matrix %s: decode answer: %w", op, err)
		}
	}
	return nil
}

// classify turns a non-2xx answer into a notify error carrying an
// *apiError, nil for 2xx.
func classify(op string, resp *http.Response, body []byte) error {
	err := notify.StatusError("matrix "+op, resp, body)
	var de *notify.DeliveryError
	if err == nil || !errors.As(err, &de) {
		return err
	}
	e := &apiError{op: op, status: resp.StatusCode, body: snippet(body)}
	_ = json.Unmarshal(body, e) // not JSON: the body snippet says enough
	de.Err = e
	if resp.StatusCode == http.StatusTooManyRequests && e.RetryAfterMS > 0 {
		// M_LIMIT_EXCEEDED says how long in its body; StatusError already
		// read the Retry-After header newer servers add.
		de.RetryAfter = time.Duration(e.RetryAfterMS) * time.Millisecond
	}
	return de
}

// unauthorized reports whether err says the access token is not valid,
// which no retry can fix.
func unauthorized(err error) bool {
	var e *apiError
	return errors.As(err, &e) && e.status == http.StatusUnauthorized
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// marshal encodes JSON without escaping <, > and &: formatted_body is HTML
// and reads better (and is shorter) as it is.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// whoami returns the bot's own user ID.
func (c *Channel) whoami(ctx context.Context) (string, error) {
	var out struct {
		UserID string `json:"user_id"`
	}
	if err := c.call(ctx, c.client, "whoami", http.MethodGet, "/account/whoami", nil, nil, &out); err != nil {
		return "", err
	}
	if out.UserID == "" {
		return "", errors.New("matrix whoami: no user_id in the answer")
	}
	return out.UserID, nil
}

// joinRoom returns the configured room's ID, resolving its alias and
// joining it the first time. Joining a room the bot is in is a no-op, so a
// restart simply joins again.
func (c *Channel) joinRoom(ctx context.Context) (string, error) {
	c.mu.Lock()
	id, joined := c.roomID, c.joined
	c.mu.Unlock()
	if joined {
		return id, nil
	}
	if id == "" {
		id = c.room
		if strings.HasPrefix(c.room, "#") {
			var out struct {
				RoomID string `json:"room_id"`
			}
			if err := c.call(ctx, c.client, "resolve alias", http.MethodGet, "/directory/room/"+url.PathEscape(c.room), nil, nil, &out); err != nil {
				return "", fmt.Errorf("resolve %s: %w", c.room, err)
			}
			if out.RoomID == "" {
				return "", fmt.Errorf("resolve %s: no room_id in the answer", c.room)
			}
			id = out.RoomID
		}
		c.mu.Lock()
		c.roomID = id
		c.mu.Unlock()
	}
	// Join by what is configured: for an alias the homeserver finds a
	// server in the room itself, which a bare room ID may not let it do.
	var out struct {
		RoomID string `json:"room_id"`
	}
	if err := c.call(ctx, c.client, "join", http.MethodPost, "/join/"+url.PathEscape(c.room), nil, struct{}{}, &out); err != nil {
		return "", fmt.Errorf("join %s (is the bot invited?): %w", c.room, err)
	}
	if out.RoomID != "" {
		id = out.RoomID // the alias may have moved since it was resolved
	}
	c.mu.Lock()
	c.roomID, c.joined = id, true
	c.mu.Unlock()
	return id, nil
}

// sendMessage puts an m.room.message event under transaction ID txn: the
// homeserver answers a repeated txn with the first event's ID instead of
// posting again.
func (c *Channel) sendMessage(ctx context.Context, room, txn string, msg content) (string, error) {
	var out struct {
		EventID string `json:"event_id"`
	}
	path := "/rooms/" + url.PathEscape(room) + "/send/m.room.message/" + url.PathEscape(txn)
	if err := c.call(ctx, c.client, "send", http.MethodPut, path, nil, msg, &out); err != nil {
		return "", err
	}
	if out.EventID == "" {
		return "", errors.New("matrix send: no event_id in the answer")
	}
	return out.EventID, nil
}
