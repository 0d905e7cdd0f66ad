package webui

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-oss/klaxon"
)

// stream is an open /events response, read event by event.
type stream struct {
	t    *testing.T
	body io.ReadCloser
	r    *bufio.Reader
}

// openEvents opens /events in b's session; the stream is cut after 10s
// at the latest.
func openEvents(t *testing.T, b *browser) *stream {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.base+"/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := b.raw.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("GET /events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return &stream{t: t, body: resp.Body, r: bufio.NewReader(resp.Body)}
}

// next reads up to the next change event and returns its data.
func (s *stream) next() liveMark {
	s.t.Helper()
	var event string
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			s.t.Fatalf("read /events: %v (after %q)", err, line)
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "event: change":
			event = "change"
		case strings.HasPrefix(line, "data: ") && event == "change":
			var m liveMark
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &m); err != nil {
				s.t.Fatalf("change data %q: %v", line, err)
			}
			return m
		}
	}
}

func TestEventsStreamChanges(t *testing.T) {
	tu := newTestUI(t)
	viewer := tu.signIn(klaxon.RoleViewer)
	s := openEvents(t, viewer)

	first := s.next() // at once, on connecting
	id := tu.ingest("live", map[string]string{"alertname": "Live"}, "it moved")
	fired := s.next()
	if fired.AlertEvent <= first.AlertEvent || fired.Timeline != first.Timeline {
		t.Errorf("after an alert fired: %+v, then %+v; want alert_event to grow alone", first, fired)
	}
	if _, err := tu.UI.Alerts.Ack(context.Background(), id, "alice"); err != nil {
		t.Fatal(err)
	}
	if acked := s.next(); acked.AlertEvent <= fired.AlertEvent {
		t.Errorf("after an ack: %+v, then %+v; want alert_event to grow", fired, acked)
	}
}

func TestEventsNeedSession(t *testing.T) {
	tu := newTestUI(t)
	resp, _ := tu.browser().send(http.MethodGet, "/events", nil, false)
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("GET /events signed out: status %d, want 303 to /login", resp.StatusCode)
	}
}

func TestShutdownEndsStreams(t *testing.T) {
	tu := newTestUI(t)
	s := openEvents(t, tu.signIn(klaxon.RoleViewer))
	s.next()
	tu.UI.Shutdown()
	if _, err := io.Copy(io.Discard, s.body); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			t.Fatal("the stream was still open 10s after Shutdown")
		}
		t.Fatalf("read to the end of the stream: %v", err)
	}
}
