package webui

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/auth"
)

// livePing is how often an idle stream sends a comment, so that proxies
// and load balancers do not close it as idle.
const livePing = 25 * time.Second

func (u *UI) liveRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /events", u.need(klaxon.RoleViewer, u.events))
}

// liveMark is the data of a change event.
type liveMark struct {
	AlertEvent int64 `json:"alert_event"`
	Timeline   int64 `json:"timeline"`
}

// events streams Server-Sent Events: a "change" event when stored history
// moves on (and one at once, so a page that missed changes while it
// reconnected refreshes), comments to keep the connection open. The mark
// comes from the store (one shared poller, see changeFeed) rather than an
// in-process signal, so a change made on another replica shows up too.
func (u *UI) events(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	if u.Changes == nil {
		u.fail(w, r, p, klaxon.Errorf(klaxon.ENOTFOUND, "live updates are not available"))
		return
	}
	rc := http.NewResponseController(w)
	// The server's write timeout is for ordinary pages; a stream is
	// written to for as long as the page is open.
	_ = rc.SetWriteDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: pass events on at once
	w.WriteHeader(http.StatusOK)
	// retry: how long a browser waits before reconnecting, e.g. after a
	// restart.
	if _, err := fmt.Fprint(w, "retry: 3000\n\n"); err != nil || rc.Flush() != nil {
		return
	}

	unwatch := u.feed.watch()
	defer unwatch()
	ping := time.NewTicker(livePing)
	defer ping.Stop()
	var last klaxon.ChangeMark
	sent := false
	for {
		mark, ok, moved := u.feed.current()
		if ok && (!sent || mark != last) {
			if writeChange(w, mark) != nil || rc.Flush() != nil {
				return
			}
			last, sent = mark, true
		}
		select {
		case <-r.Context().Done():
			return
		case <-u.stop:
			return
		case <-moved:
		case <-ping.C:
			if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil || rc.Flush() != nil {
				return
			}
		}
	}
}

func writeChange(w http.ResponseWriter, m klaxon.ChangeMark) error {
	data, err := json.Marshal(liveMark{AlertEvent: m.AlertEvent, Timeline: m.Timeline})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "event: change\ndata: %s\n\n", data)
	return err
}
