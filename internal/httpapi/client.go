package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/klaxon-oss/klaxon"
)

// Client calls a Klaxon server's API; the CLI is built on it.
type Client struct {
	BaseURL string
	Token   string
	HTTP    *http.Client // nil: a client with a 30s timeout
}

// Alerts lists alerts. state is as the API takes it ("open", "firing,acknowledged", "all").
func (c *Client) Alerts(ctx context.Context, state string, limit int) (*AlertList, error) {
	q := url.Values{}
	if state != "" {
		q.Set("state", state)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var out AlertList
	return &out, c.do(ctx, http.MethodGet, "/api/v1/alerts?"+q.Encode(), nil, &out)
}

// Alert returns one alert with its history.
func (c *Client) Alert(ctx context.Context, id int64) (*AlertDetail, error) {
	var out AlertDetail
	return &out, c.do(ctx, http.MethodGet, fmt.Sprintf("/api/v1/alerts/%d", id), nil, &out)
}

// Change acks, unacks or resolves an alert; action is "ack", "unack" or "resolve".
func (c *Client) Change(ctx context.Context, id int64, action string) (*Alert, error) {
	var out Alert
	return &out, c.do(ctx, http.MethodPost, fmt.Sprintf("/api/v1/alerts/%d/%s", id, action), nil, &out)
}

func (c *Client) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, rd)
	if err != nil {
		return err
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("klaxon server at %s: %w", c.BaseURL, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("read response: %w", err)
	}
	if resp.StatusCode >= 300 {
		var e errorBody
		if json.Unmarshal(data, &e) == nil && e.Error != "" {
			return &klaxon.Error{Code: e.Code, Message: e.Error, Problems: e.Problems}
		}
		return fmt.Errorf("klaxon server answered %s", resp.Status)
	}
	if out == nil {
		return nil
	}
	// Non-JSON answers (a postmortem's Markdown) are taken as they are.
	if raw, ok := out.(*[]byte); ok {
		*raw = data
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decode response: %w", err)
	}
	return nil
}

// Runbook returns a runbook by slug or by an alert name it covers.
func (c *Client) Runbook(ctx context.Context, name string) (*Runbook, error) {
	var out Runbook
	return &out, c.do(ctx, http.MethodGet, "/api/v1/runbooks/"+url.PathEscape(name), nil, &out)
}

// Diagnose queues an alert's runbook diagnostics.
func (c *Client) Diagnose(ctx context.Context, id int64) (*DiagnoseResult, error) {
	var out DiagnoseResult
	return &out, c.do(ctx, http.MethodPost, fmt.Sprintf("/api/v1/alerts/%d/diagnose", id), nil, &out)
}

// OnCall returns who is on call for a schedule ("" for every schedule) at
// a time (zero: now), and who is next.
func (c *Client) OnCall(ctx context.Context, schedule string, at time.Time) (*OnCallList, error) {
	q := url.Values{}
	if schedule != "" {
		q.Set("schedule", schedule)
	}
	if !at.IsZero() {
		q.Set("at", at.Format(time.RFC3339))
	}
	var out OnCallList
	return &out, c.do(ctx, http.MethodGet, "/api/v1/oncall?"+q.Encode(), nil, &out)
}

// Shifts lists a schedule's shifts from from to to (zero: the server's
// defaults, now to two weeks on).
func (c *Client) Shifts(ctx context.Context, schedule string, from, to time.Time) (*ShiftList, error) {
	var out ShiftList
	return &out, c.do(ctx, http.MethodGet, "/api/v1/schedules/"+url.PathEscape(schedule)+"/shifts?"+spanQuery(from, to), nil, &out)
}

// UserShifts lists a user's shifts on every schedule, as Shifts does.
func (c *Client) UserShifts(ctx context.Context, user string, from, to time.Time) (*ShiftList, error) {
	var out ShiftList
	return &out, c.do(ctx, http.MethodGet, "/api/v1/users/"+url.PathEscape(user)+"/shifts?"+spanQuery(from, to), nil, &out)
}

func spanQuery(from, to time.Time) string {
	q := url.Values{}
	if !from.IsZero() {
		q.Set("from", from.Format(time.RFC3339))
	}
	if !to.IsZero() {
		q.Set("to", to.Format(time.RFC3339))
	}
	return q.Encode()
}

// Overrides lists the overrides of a schedule (""
// for every schedule) from now to 90 days on.
func (c *Client) Overrides(ctx context.Context, schedule string) (*OverrideList, error) {
	q := url.Values{}
	if schedule != "" {
		q.Set("schedule", schedule)
	}
	var out OverrideList
	return &out, c.do(ctx, http.MethodGet, "/api/v1/overrides?"+q.Encode(), nil, &out)
}

// AddOverride puts someone on call; the token's name is recorded as who did.
func (c *Client) AddOverride(ctx context.Context, req OverrideRequest) (*klaxon.Override, error) {
	var out klaxon.Override
	return &out, c.do(ctx, http.MethodPost, "/api/v1/overrides", req, &out)
}

// RemoveOverride removes a stored override and returns it.
func (c *Client) RemoveOverride(ctx context.Context, id int64) (*klaxon.Override, error) {
	var out klaxon.Override
	return &out, c.do(ctx, http.MethodDelete, fmt.Sprintf("/api/v1/overrides/%d", id), nil, &out)
}

// Login signs in with a password and returns a new personal API token.
func (c *Client) Login(ctx context.Context, req LoginRequest) (*NewToken, error) {
	var out NewToken
	return &out, c.do(ctx, http.MethodPost, "/api/v1/login", req, &out)
}

// Me says whom the client's token belongs to.
func (c *Client) Me(ctx context.Context) (*Me, error) {
	var out Me
	return &out, c.do(ctx, http.MethodGet, "/api/v1/me", nil, &out)
}

// Tokens lists the caller's personal API tokens, or everyone's (admins).
func (c *Client) Tokens(ctx context.Context, everyone bool) (*TokenList, error) {
	path := "/api/v1/tokens"
	if everyone {
		path += "?all=1"
	}
	var out TokenList
	return &out, c.do(ctx, http.MethodGet, path, nil, &out)
}

// CreateToken makes a personal API token for the caller.
func (c *Client) CreateToken(ctx context.Context, req TokenRequest) (*NewToken, error) {
	var out NewToken
	return &out, c.do(ctx, http.MethodPost, "/api/v1/tokens", req, &out)
}

// RevokeToken deletes a personal API token: the caller's, or anyone's
// (admins).
func (c *Client) RevokeToken(ctx context.Context, id int64) error {
	return c.do(ctx, http.MethodDelete, fmt.Sprintf("/api/v1/tokens/%d", id), nil, nil)
}

// Users lists the accounts (admins).
func (c *Client) Users(ctx context.Context) (*UserList, error) {
	var out UserList
	return &out, c.do(ctx, http.MethodGet, "/api/v1/users", nil, &out)
}

// AddUser creates an account (admins).
func (c *Client) AddUser(ctx context.Context, req UserRequest) (*User, error) {
	var out User
	return &out, c.do(ctx, http.MethodPost, "/api/v1/users", req, &out)
}

// ChangeUser changes an account (admins).
func (c *Client) ChangeUser(ctx context.Context, username string, req UserChange) (*User, error) {
	var out User
	return &out, c.do(ctx, http.MethodPatch, "/api/v1/users/"+url.PathEscape(username), req, &out)
}
