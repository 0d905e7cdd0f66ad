// Package dendritetest runs a real Matrix homeserver, Dendrite, for
// end-to-end tests: one throwaway server per test, on SQLite in a temporary
// directory, listening on 127.0.0.1, with helpers to play the people in its
// rooms. It is for tests only.
//
// The binaries come from .ci/build-dendrite. Without them a test skips,
// or fails when $CI is set, so CI cannot silently skip Matrix.
package dendritetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Version is the Dendrite release the harness is written for.
const Version = "v0.15.2"

// DirEnv names the environment variable with the directory of the
// binaries; without it the harness looks in DefaultDir, then on PATH.
const DirEnv = "KLAXON_DENDRITE_DIR"

// ServerName is the homeserver's server name: user IDs are @name:localhost.
const ServerName = "localhost"

// startTimeout bounds the wait for a started server to answer.
const startTimeout = 60 * time.Second

// binaries are the programs the harness runs.
var binaries = []string{"dendrite", "generate-config", "generate-keys"}

// DefaultDir is where .ci/build-dendrite puts the binaries by default.
func DefaultDir() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".cache", "klaxon", "dendrite-"+Version)
}

// Server is a running Dendrite.
type Server struct {
	URL string // e.g. http://127.0.0.1:41234

	dir    string
	secret string // registration_shared_secret
	client *http.Client
	txn    atomic.Int64
}

// Start runs a fresh Dendrite for the test, stopped when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := findBinaries(t)
	dir := t.TempDir()
	secret := randomHex(16)
	run(t, dir, bin["generate-keys"], "-private-key", filepath.Join(dir, "matrix_key.pem"))
	generated := run(t, dir, bin["generate-config"], "-ci", "-dir", dir, "-server", ServerName)
	cfg, err := configure(generated, dir, secret)
	if err != nil {
		t.Fatalf("dendritetest: configure: %v", err)
	}
	cfgPath := filepath.Join(dir, "dendrite.yaml")
	if err := os.WriteFile(cfgPath, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	s := &Server{dir: dir, secret: secret, client: &http.Client{Timeout: 30 * time.Second}}
	// A free port may be taken between finding it and Dendrite binding
	// it: try again with another.
	var lastErr error
	for range 3 {
		if lastErr = s.start(t, bin["dendrite"], cfgPath); lastErr == nil {
			return s
		}
	}
	t.Fatalf("dendritetest: %v\n%s", lastErr, logTail(filepath.Join(dir, "dendrite.log")))
	return nil
}

// findBinaries returns the path of each binary, skipping (or, in CI,
// failing) the test when one is missing.
func findBinaries(t testing.TB) map[string]string {
	t.Helper()
	var tried []string
	dirs := []string{os.Getenv(DirEnv)}
	if dirs[0] == "" {
		dirs = []string{DefaultDir(), ""} // "" is PATH
	}
	for _, d := range dirs {
		paths := map[string]string{}
		for _, b := range binaries {
			var p string
			var err error
			if d == "" {
				p, err = exec.LookPath(b)
			} else {
				p = filepath.Join(d, b)
				if fi, statErr := os.Stat(p); statErr != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
					err = fmt.Errorf("no executable %s", p)
				}
			}
			if err != nil {
				break
			}
			paths[b] = p
		}
		if len(paths) == len(binaries) {
			return paths
		}
		if d == "" {
			d = "PATH"
		}
		tried = append(tried, d)
	}
	msg := fmt.Sprintf("Dendrite %s binaries (%s) not found in %s; build them with .ci/build-dendrite and set %s to the directory it prints",
		Version, strings.Join(binaries, ", "), strings.Join(tried, " or "), DirEnv)
	if os.Getenv("CI") != "" {
		t.Fatal("dendritetest: " + msg)
	}
	t.Skip(msg)
	return nil
}

// run runs a setup binary in dir, returning its standard output.
func run(t testing.TB, dir, bin string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("dendritetest: %s %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), err, stderr.Bytes())
	}
	return out
}

// start runs the server on a free port and waits until it answers.
func (s *Server) start(t testing.TB, bin, cfgPath string) error {
	t.Helper()
	port, err := freePort()
	if err != nil {
		return err
	}
	logPath := filepath.Join(s.dir, "dendrite.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(bin, "-config", cfgPath, "-http-bind-address", addr)
	cmd.Dir = s.dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("start dendrite: %w", err)
	}
	exited := make(chan error, 1)
	go func() {
		exited <- cmd.Wait()
		logFile.Close()
	}()
	stop := func() {
		_ = cmd.Process.Kill()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			t.Errorf("dendritetest: dendrite (pid %d) did not exit after kill", cmd.Process.Pid)
		}
	}
	s.URL = "http://" + addr
	if err := s.waitReady(exited); err != nil {
		stop()
		return err
	}
	// Registered after t.TempDir's cleanup, so it runs before the
	// directory is removed.
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("dendritetest: the server's log:\n%s", logTail(logPath))
		}
	})
	return nil
}

// waitReady polls /_matrix/client/versions until it answers 200, the
// process exits, or startTimeout passes.
func (s *Server) waitReady(exited <-chan error) error {
	deadline := time.Now().Add(startTimeout)
	client := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("dendrite exited before answering: %v", err)
		default:
		}
		resp, err := client.Get(s.URL + "/_matrix/client/versions")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("dendrite did not answer on %s within %v", s.URL, startTimeout)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// logTail is the end of the server's log, for a failing test.
func logTail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	const max = 8 << 10
	if len(b) > max {
		b = append([]byte("…\n"), b[len(b)-max:]...)
	}
	return string(b)
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// Event is a room event as /messages returns it, with the fields tests
// look at pulled out of its content.
type Event struct {
	EventID string
	Sender  string
	Type    string
	Content map[string]any
	MsgType string
	Body    string
	// FormattedBody is the HTML body, if any.
	FormattedBody string
	Mentions      []string // m.mentions.user_ids
	// RelType and RelatesTo are m.relates_to's rel_type and event_id: an
	// edit is "m.replace" of the original, a thread message "m.thread" of
	// the root. InReplyTo is m.relates_to.m.in_reply_to.event_id.
	RelType   string
	RelatesTo string
	InReplyTo string
	// NewContent is an edit's m.new_content.
	NewContent map[string]any
}

// Register creates the user localpart with a random password, through the
// shared-secret registration API, and returns its user ID and an access
// token.
func (s *Server) Register(t testing.TB, localpart string) (userID, accessToken string) {
	t.Helper()
	var nonce struct {
		Nonce string `json:"nonce"`
	}
	s.do(t, http.MethodGet, "/_synapse/admin/v1/register", "", nil, &nonce)
	password := randomHex(12)
	req := map[string]any{
		"nonce": nonce.Nonce, "username": localpart, "password": password, "admin": false,
		"mac": registrationMAC(s.secret, nonce.Nonce, localpart, password, false),
	}
	var out struct {
		UserID      string `json:"user_id"`
		AccessToken string `json:"access_token"`
	}
	s.do(t, http.MethodPost, "/_synapse/admin/v1/register", "", req, &out)
	if out.UserID == "" || out.AccessToken == "" {
		t.Fatalf("dendritetest: register %s: no user_id or access_token in the answer", localpart)
	}
	return out.UserID, out.AccessToken
}

// CreateRoom creates a room as the holder of token and returns its ID:
// private, with invite invited, or public when nobody is. alias, if not
// "", is its alias: a localpart ("alerts") or a full "#alerts:localhost".
func (s *Server) CreateRoom(t testing.TB, token, alias string, invite ...string) string {
	t.Helper()
	req := map[string]any{"preset": "public_chat", "name": "klaxon test"}
	if len(invite) > 0 {
		req["preset"], req["invite"] = "private_chat", invite
	}
	if alias != "" {
		local, _, _ := strings.Cut(strings.TrimPrefix(alias, "#"), ":")
		req["room_alias_name"] = local
	}
	var out struct {
		RoomID string `json:"room_id"`
	}
	s.do(t, http.MethodPost, "/_matrix/client/v3/createRoom", token, req, &out)
	return out.RoomID
}

// Join joins room (an ID or alias) as the holder of token.
func (s *Server) Join(t testing.TB, token, room string) {
	t.Helper()
	s.do(t, http.MethodPost, "/_matrix/client/v3/join/"+url.PathEscape(room), token, map[string]any{}, nil)
}

// Say posts text to the room as the holder of token and returns the event
// ID.
func (s *Server) Say(t testing.TB, token, roomID, text string) string {
	t.Helper()
	return s.Post(t, token, roomID, map[string]any{"msgtype": "m.text", "body": text})
}

// Post posts an m.room.message with any content as the holder of token:
// a thread message, a reply, a mention pill.
func (s *Server) Post(t testing.TB, token, roomID string, content map[string]any) string {
	t.Helper()
	txn := fmt.Sprintf("dendritetest-%d-%s", s.txn.Add(1), randomHex(4))
	var out struct {
		EventID string `json:"event_id"`
	}
	s.do(t, http.MethodPut, "/_matrix/client/v3/rooms/"+url.PathEscape(roomID)+"/send/m.room.message/"+txn, token, content, &out)
	return out.EventID
}

// Messages returns the room's m.room.message events, oldest first, as the
// holder of token sees them: edits (m.replace) and thread messages are
// events of their own. Dendrite's sync API, which serves /messages, follows
// the room server asynchronously: an event sent a moment ago may not be
// listed yet. Use WaitMessages to wait for what a test expects.
func (s *Server) Messages(t testing.TB, token, roomID string) []Event {
	t.Helper()
	var all []Event
	from := ""
	for page := 0; page < 20; page++ {
		q := url.Values{"dir": {"b"}, "limit": {"100"}}
		if from != "" {
			q.Set("from", from)
		}
		var out struct {
			Chunk []struct {
				EventID string         `json:"event_id"`
				Sender  string         `json:"sender"`
				Type    string         `json:"type"`
				Content map[string]any `json:"content"`
			} `json:"chunk"`
			End string `json:"end"`
		}
		s.do(t, http.MethodGet, "/_matrix/client/v3/rooms/"+url.PathEscape(roomID)+"/messages?"+q.Encode(), token, nil, &out)
		for _, e := range out.Chunk {
			if e.Type == "m.room.message" {
				all = append(all, newEvent(e.EventID, e.Sender, e.Type, e.Content))
			}
		}
		if len(out.Chunk) == 0 || out.End == "" || out.End == from {
			break
		}
		from = out.End
	}
	// /messages with dir=b pages backwards: newest first.
	for i, j := 0, len(all)-1; i < j; i, j = i+1, j-1 {
		all[i], all[j] = all[j], all[i]
	}
	return all
}

// WaitMessages polls Messages until done reports true of them, for up to
// 10 seconds, and returns them; it fails the test with what, and the last
// messages seen, when they never satisfy done.
func (s *Server) WaitMessages(t testing.TB, token, roomID, what string, done func([]Event) bool) []Event {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		msgs := s.Messages(t, token, roomID)
		if done(msgs) {
			return msgs
		}
		if time.Now().After(deadline) {
			t.Fatalf("dendritetest: timed out waiting for %s; messages:\n%s", what, formatEvents(msgs))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func formatEvents(evs []Event) string {
	var b strings.Builder
	for _, e := range evs {
		fmt.Fprintf(&b, "  %s from %s: %s %s %q\n", e.EventID, e.Sender, e.RelType, e.RelatesTo, e.Body)
	}
	return b.String()
}

func newEvent(id, sender, typ string, c map[string]any) Event {
	e := Event{EventID: id, Sender: sender, Type: typ, Content: c}
	e.MsgType, _ = c["msgtype"].(string)
	e.Body, _ = c["body"].(string)
	e.FormattedBody, _ = c["formatted_body"].(string)
	e.NewContent, _ = c["m.new_content"].(map[string]any)
	if m, ok := c["m.mentions"].(map[string]any); ok {
		ids, _ := m["user_ids"].([]any)
		for _, id := range ids {
			s, _ := id.(string)
			e.Mentions = append(e.Mentions, s)
		}
	}
	if rel, ok := c["m.relates_to"].(map[string]any); ok {
		e.RelType, _ = rel["rel_type"].(string)
		e.RelatesTo, _ = rel["event_id"].(string)
		if r, ok := rel["m.in_reply_to"].(map[string]any); ok {
			e.InReplyTo, _ = r["event_id"].(string)
		}
	}
	return e
}

// do makes one API call, failing the test on any error or non-2xx answer.
func (s *Server) do(t testing.TB, method, path, token string, in, out any) {
	t.Helper()
	if err := s.call(method, path, token, in, out); err != nil {
		t.Fatalf("dendritetest: %v", err)
	}
}

func (s *Server) call(method, path, token string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.URL+path, body)
	if err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, errors.Unwrap(err))
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: decode: %w", method, path, err)
		}
	}
	return nil
}
