package googlechat

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/klaxon-oss/klaxon/internal/notify"
)

// maxEvent bounds an interaction event's body.
const maxEvent = 1 << 20

// helpText answers being added to a space.
const helpText = "Klaxon posts alerts here, one thread per group. Mention me to act on them: " +
	"`ack 12`, `unack 12`, `resolve 12`, `status`, `help`."

// event is the part of a Chat app interaction event Klaxon reads.
type event struct {
	Type  string `json:"type"`
	Token string `json:"token"` // legacy verification token
	User  *user  `json:"user"`
	Space struct {
		Name string `json:"name"`
	} `json:"space"`
	Message *struct {
		Text         string `json:"text"`
		ArgumentText string `json:"argumentText"` // the text without the app's mention
		Sender       *user  `json:"sender"`
		Thread       struct {
			Name string `json:"name"`
		} `json:"thread"`
	} `json:"message"`
}

type user struct {
	Name        string `json:"name"`
	DisplayName string `json:"displayName"`
	Email       string `json:"email"`
}

// Handler answers the Chat app's interaction events: a message to the app
// runs a command and the reply lands in the same thread. Every request must
// carry the verification token or a bearer token Chat signed for the
// configured audience; others get 401 and run nothing. Without either
// configured, the channel is outbound only and the handler answers 404.
func (c *Channel) Handler(cmd notify.Commander) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c.token == "" && c.audience == "" {
			http.Error(w, "this Google Chat channel takes no commands (set verification_token or audience)", http.StatusNotFound)
			return
		}
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxEvent))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				http.Error(w, "event too large", http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "cannot read the event", http.StatusBadRequest)
			return
		}
		var ev event
		decodeErr := json.Unmarshal(body, &ev)
		if !c.authentic(r, ev.Token) {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		if decodeErr != nil {
			http.Error(w, "the event is not JSON", http.StatusBadRequest)
			return
		}
		c.answer(w, r, cmd, ev)
	})
}

// authentic checks the event's credentials: the legacy token compared in
// constant time, or the bearer token's signature and claims.
func (c *Channel) authentic(r *http.Request, token string) bool {
	if c.token != "" && token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(c.token)) == 1 {
		return true
	}
	if c.audience == "" {
		return false
	}
	err := c.verifyBearer(r)
	if err != nil && !errors.Is(err, errNoBearer) {
		c.log.Warn("refused a Google Chat event", "err", err)
	}
	return err == nil
}

func (c *Channel) answer(w http.ResponseWriter, r *http.Request, cmd notify.Commander, ev event) {
	switch ev.Type {
	case "ADDED_TO_SPACE":
		if ev.Message == nil { // added with a message: answer the message instead
			respond(w, chatMessage{Text: helpText})
			return
		}
	case "MESSAGE":
	default:
		respond(w, chatMessage{})
		return
	}
	if ev.Message == nil {
		respond(w, chatMessage{})
		return
	}
	text := strings.TrimSpace(ev.Message.ArgumentText)
	if text == "" {
		text = strings.TrimSpace(ev.Message.Text)
	}
	reply := cmd.Command(r.Context(), notify.Command{
		Channel: c.name,
		Room:    ev.Message.Thread.Name,
		Actor:   "gchat:" + actor(ev),
		Text:    text,
		// Chat only sends an app the messages that mention it or are in
		// its direct messages: every one is meant for Klaxon.
		Addressed: true,
	})
	if reply.Text == "" {
		respond(w, chatMessage{})
		return
	}
	text = reply.Text
	if reply.Code != "" {
		// Chat's text formatting: a ``` block is monospace.
		text += "\n```\n" + strings.ReplaceAll(reply.Code, "```", "'''") + "\n```"
	}
	msg := chatMessage{Text: escText(text)}
	if t := ev.Message.Thread.Name; t != "" {
		msg.Thread = &chatThread{Name: t}
	}
	respond(w, msg)
}

// actor names who typed: their email, else their user name.
func actor(ev event) string {
	for _, u := range []*user{ev.Message.Sender, ev.User} {
		if u != nil && u.Email != "" {
			return u.Email
		}
	}
	for _, u := range []*user{ev.Message.Sender, ev.User} {
		if u != nil && u.Name != "" {
			return u.Name
		}
	}
	return "unknown"
}

// respond writes a synchronous answer; an empty message is `{}`.
func respond(w http.ResponseWriter, msg chatMessage) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(msg)
}
