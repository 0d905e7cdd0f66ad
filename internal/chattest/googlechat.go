package chattest

// The Google Chat fakes: an incoming webhook, and what a Chat app receives
// (interaction events and the bearer tokens that sign them).

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Google Chat's incoming-webhook limits and names, as documented.
const (
	googleChatSpace    = "spaces/AAAAklaxon"
	googleChatMaxBytes = 32000
	googleChatKey      = "AIzaSyFakeKeyForKlaxonTests"
	googleChatToken    = "fake-token-0123456789abcdef"
)

// GoogleChatMessage is one message the fake Google Chat accepted.
type GoogleChatMessage struct {
	Name       string // spaces/…/messages/N
	ThreadName string // spaces/…/threads/…
	// ThreadKey is the key the message was filed under: "" when the post
	// did not ask to reply (no messageReplyOption), which starts a new
	// unkeyed thread just as Google does.
	ThreadKey string
	Reply     bool // it joined an existing thread
	Text      string
	CardsV2   json.RawMessage
	Query     url.Values // the request's query, without key and token
	Body      []byte     // the request body as sent
}

// GoogleChat is a fake Google Chat space with one incoming webhook. A post
// whose requestId query parameter was seen before answers the message
// that request created and posts nothing, as spaces.messages.create
// documents.
type GoogleChat struct {
	// URL is the webhook URL, with the key and token the fake checks.
	URL string

	srv     *httptest.Server
	mu      sync.Mutex
	posts   int
	msgs    []GoogleChatMessage
	threads map[string]string // thread key → thread name
	names   map[string]bool   // thread names
	// requests maps each requestId to the message it created: a repeated
	// ID returns that message and creates none, as Google documents.
	requests map[string]int
	fail     failures
}

// NewGoogleChat starts a fake Google Chat space, closed when t ends.
func NewGoogleChat(t testing.TB) *GoogleChat {
	t.Helper()
	g := &GoogleChat{threads: map[string]string{}, names: map[string]bool{}, requests: map[string]int{}}
	g.srv = httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(g.srv.Close)
	g.URL = g.srv.URL + "/v1/" + googleChatSpace + "/messages?key=" + googleChatKey + "&token=" + googleChatToken
	return g
}

// Fail makes the next n posts answer status, with a Retry-After header
// when retryAfter is not empty.
func (g *GoogleChat) Fail(n, status int, retryAfter string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.fail.set(n, status, retryAfter)
}

// Posts counts every request the webhook received, refused ones included.
func (g *GoogleChat) Posts() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.posts
}

// Messages returns every accepted message, in order.
func (g *GoogleChat) Messages() []GoogleChatMessage {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]GoogleChatMessage(nil), g.msgs...)
}

// Thread returns the messages filed under a thread key, in order.
func (g *GoogleChat) Thread(key string) []GoogleChatMessage {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []GoogleChatMessage
	for _, m := range g.msgs {
		if key != "" && m.ThreadKey == key {
			out = append(out, m)
		}
	}
	return out
}

// ThreadNamed returns the messages in the thread name (spaces/…/threads/…),
// keyed or not, in order.
func (g *GoogleChat) ThreadNamed(name string) []GoogleChatMessage {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []GoogleChatMessage
	for _, m := range g.msgs {
		if name != "" && m.ThreadName == name {
			out = append(out, m)
		}
	}
	return out
}

// googleChatBody is the part of a Message resource a webhook may send.
// Unknown fields are refused, as Google refuses them.
type googleChatBody struct {
	Text         string            `json:"text"`
	FallbackText string            `json:"fallbackText"`
	CardsV2      []json.RawMessage `json:"cardsV2"`
	Thread       *struct {
		Name      string `json:"name"`
		ThreadKey string `json:"threadKey"`
	} `json:"thread"`
}

func (g *GoogleChat) serve(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.posts++
	if status := g.fail.take(w); status != 0 {
		googleChatError(w, status, "injected failure")
		return
	}
	q := r.URL.Query()
	body, raw, status, errMsg := googleChatRead(r)
	if status != 0 {
		googleChatError(w, status, errMsg)
		return
	}
	if i, seen := g.requests[q.Get("requestId")]; seen {
		googleChatAnswer(w, g.msgs[i]) // the first message, not this request's
		return
	}
	msg, status, errMsg := g.file(body, q.Get("messageReplyOption"))
	if status != 0 {
		googleChatError(w, status, errMsg)
		return
	}
	msg.Text, msg.Body = body.Text, raw
	if len(body.CardsV2) > 0 {
		msg.CardsV2, _ = json.Marshal(body.CardsV2)
	}
	msg.Query = url.Values{}
	for k, v := range q {
		if k != "key" && k != "token" {
			msg.Query[k] = v
		}
	}
	if id := q.Get("requestId"); id != "" {
		g.requests[id] = len(g.msgs)
	}
	g.msgs = append(g.msgs, msg)
	googleChatAnswer(w, msg)
}

// googleChatAnswer answers a webhook post: the message's names plus what
// was sent.
func googleChatAnswer(w http.ResponseWriter, msg GoogleChatMessage) {
	cards := msg.CardsV2
	if cards == nil {
		cards = json.RawMessage("null")
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	json.NewEncoder(w).Encode(map[string]any{
		"name":       msg.Name,
		"sender":     map[string]any{"name": "users/114022495153014004089", "displayName": "Klaxon", "type": "BOT"},
		"text":       msg.Text,
		"cardsV2":    cards,
		"createTime": time.Now().UTC().Format(time.RFC3339Nano),
		"thread":     map[string]any{"name": msg.ThreadName},
		"space":      map[string]any{"name": googleChatSpace, "type": "ROOM", "spaceType": "SPACE"},
	})
}

// googleChatRead checks a webhook post as Google would and decodes it; a
// refusal comes back as a status and message.
func googleChatRead(r *http.Request) (googleChatBody, []byte, int, string) {
	var body googleChatBody
	q := r.URL.Query()
	switch {
	case r.Method != http.MethodPost:
		return body, nil, http.StatusMethodNotAllowed, "method not allowed"
	case r.URL.Path != "/v1/"+googleChatSpace+"/messages":
		return body, nil, http.StatusNotFound, "Requested entity was not found."
	case q.Get("key") != googleChatKey:
		return body, nil, http.StatusBadRequest, "API key not valid. Please pass a valid API key."
	case q.Get("token") != googleChatToken:
		return body, nil, http.StatusUnauthorized, "Request had invalid authentication credentials."
	case !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json"):
		return body, nil, http.StatusBadRequest, "Invalid JSON payload received: content type must be application/json."
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return body, nil, http.StatusBadRequest, "unreadable body"
	}
	if len(raw) > googleChatMaxBytes {
		return body, nil, http.StatusBadRequest, fmt.Sprintf("Message too large: %d bytes, the limit is %d.", len(raw), googleChatMaxBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		return body, nil, http.StatusBadRequest, "Invalid JSON payload received. " + err.Error()
	}
	if err := googleChatCheckNames(raw); err != nil {
		return body, nil, http.StatusBadRequest, "Invalid JSON payload received. " + err.Error()
	}
	if body.Text == "" && len(body.CardsV2) == 0 {
		return body, nil, http.StatusBadRequest, "Message cannot be empty. Discarding empty message."
	}
	for i, c := range body.CardsV2 {
		if err := googleChatCheckCard(c); err != nil {
			return body, nil, http.StatusBadRequest, fmt.Sprintf("Invalid JSON payload received. cardsV2[%d]: %v", i, err)
		}
	}
	return body, raw, 0, ""
}

// file places a message in a thread the way messageReplyOption says.
func (g *GoogleChat) file(body googleChatBody, option string) (GoogleChatMessage, int, string) {
	n := len(g.msgs) + 1
	msg := GoogleChatMessage{Name: fmt.Sprintf("%s/messages/m%d", googleChatSpace, n)}
	newThread := func() string {
		name := fmt.Sprintf("%s/threads/t%d", googleChatSpace, n)
		g.names[name] = true
		return name
	}
	key, name := "", ""
	if body.Thread != nil {
		key, name = body.Thread.ThreadKey, body.Thread.Name
	}
	switch option {
	case "", "MESSAGE_REPLY_OPTION_UNSPECIFIED":
		// Starts a new thread; any thread key or name is ignored.
		msg.ThreadName = newThread()
		return msg, 0, ""
	case "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD", "REPLY_MESSAGE_OR_FAIL":
	default:
		return msg, http.StatusBadRequest, fmt.Sprintf("Invalid value at 'message_reply_option' (%s)", option)
	}
	switch {
	case name != "" && g.names[name]:
		msg.ThreadName, msg.Reply = name, true
		for k, v := range g.threads {
			if v == name {
				msg.ThreadKey = k
			}
		}
	case name != "" && option == "REPLY_MESSAGE_OR_FAIL":
		return msg, http.StatusNotFound, "Thread not found."
	case key != "" && g.threads[key] != "":
		msg.ThreadKey, msg.ThreadName, msg.Reply = key, g.threads[key], true
	case key != "":
		msg.ThreadKey, msg.ThreadName = key, newThread()
		g.threads[key] = msg.ThreadName
	default:
		msg.ThreadName = newThread()
	}
	return msg, 0, ""
}

// googleChatCard is the part of the cardsV2 schema Klaxon may use; a field
// outside it (a typo, a v1 card field) is refused like Google refuses it.
type googleChatCard struct {
	CardID string `json:"cardId"`
	Card   struct {
		Header *struct {
			Title        string `json:"title"`
			Subtitle     string `json:"subtitle"`
			ImageURL     string `json:"imageUrl"`
			ImageType    string `json:"imageType"`
			ImageAltText string `json:"imageAltText"`
		} `json:"header"`
		Sections []struct {
			Header                    string             `json:"header"`
			Collapsible               bool               `json:"collapsible"`
			UncollapsibleWidgetsCount int                `json:"uncollapsibleWidgetsCount"`
			Widgets                   []googleChatWidget `json:"widgets"`
		} `json:"sections"`
	} `json:"card"`
}

type googleChatWidget struct {
	TextParagraph *struct {
		Text     string `json:"text"`
		MaxLines int    `json:"maxLines"`
	} `json:"textParagraph"`
	DecoratedText *struct {
		TopLabel    string `json:"topLabel"`
		Text        string `json:"text"`
		BottomLabel string `json:"bottomLabel"`
		WrapText    bool   `json:"wrapText"`
		StartIcon   *struct {
			KnownIcon string `json:"knownIcon"`
		} `json:"startIcon"`
	} `json:"decoratedText"`
	ButtonList *struct {
		Buttons []struct {
			Text    string `json:"text"`
			AltText string `json:"altText"`
			OnClick struct {
				OpenLink *struct {
					URL string `json:"url"`
				} `json:"openLink"`
			} `json:"onClick"`
		} `json:"buttons"`
	} `json:"buttonList"`
	Divider *struct{} `json:"divider"`
}

func googleChatCheckCard(raw json.RawMessage) error {
	var c googleChatCard
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return err
	}
	if c.CardID == "" {
		return fmt.Errorf("cardId is required")
	}
	if h := c.Card.Header; h != nil && h.Title == "" {
		return fmt.Errorf("card header title is required")
	}
	if len(c.Card.Sections) == 0 {
		return fmt.Errorf("a card needs at least one section")
	}
	for i, s := range c.Card.Sections {
		if len(s.Widgets) == 0 {
			return fmt.Errorf("section %d has no widgets", i)
		}
		for j, w := range s.Widgets {
			set := 0
			for _, ok := range []bool{w.TextParagraph != nil, w.DecoratedText != nil, w.ButtonList != nil, w.Divider != nil} {
				if ok {
					set++
				}
			}
			if set != 1 {
				return fmt.Errorf("section %d widget %d must set exactly one widget type", i, j)
			}
			if w.DecoratedText != nil && w.DecoratedText.Text == "" {
				return fmt.Errorf("section %d widget %d: decoratedText.text is required", i, j)
			}
			if w.ButtonList != nil {
				for _, b := range w.ButtonList.Buttons {
					if b.Text == "" || b.OnClick.OpenLink == nil {
						return fmt.Errorf("section %d widget %d: a button needs text and an onClick", i, j)
					}
					u, err := url.Parse(b.OnClick.OpenLink.URL)
					if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
						return fmt.Errorf("section %d widget %d: openLink url must be http(s)", i, j)
					}
				}
			}
		}
	}
	return nil
}

// googleChatFields are the field names the fake knows, spelled exactly:
// Go's decoder matches names regardless of case, Google does not.
var googleChatFields = func() map[string]bool {
	m := map[string]bool{}
	for _, f := range strings.Fields(`text fallbackText cardsV2 thread name threadKey cardId card header
		title subtitle imageUrl imageType imageAltText sections collapsible uncollapsibleWidgetsCount
		widgets textParagraph maxLines decoratedText topLabel bottomLabel wrapText startIcon knownIcon
		buttonList buttons altText onClick openLink url divider`) {
		m[f] = true
	}
	return m
}()

// googleChatCheckNames refuses a field name the fake does not know exactly.
func googleChatCheckNames(raw []byte) error {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return err
	}
	var walk func(v any) error
	walk = func(v any) error {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if !googleChatFields[k] {
					return fmt.Errorf("Unknown name %q", k)
				}
				if err := walk(x); err != nil {
					return err
				}
			}
		case []any:
			for _, x := range v {
				if err := walk(x); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return walk(v)
}

// googleChatError answers in Google's error shape.
func googleChatError(w http.ResponseWriter, status int, msg string) {
	codes := map[int]string{
		http.StatusBadRequest: "INVALID_ARGUMENT", http.StatusUnauthorized: "UNAUTHENTICATED",
		http.StatusForbidden: "PERMISSION_DENIED", http.StatusNotFound: "NOT_FOUND",
		http.StatusTooManyRequests: "RESOURCE_EXHAUSTED", http.StatusInternalServerError: "INTERNAL",
		http.StatusServiceUnavailable: "UNAVAILABLE",
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": status, "message": msg, "status": codes[status]}})
}

// GoogleChatIssuer signs the bearer tokens of Chat app interaction events.
const GoogleChatIssuer = "chat@system.gserviceaccount.com"

// GoogleChatEvent is a MESSAGE interaction event as a Chat app receives it
// when senderEmail mentions the app in a space ("@Klaxon text") in thread
// (a thread name, spaces/…/threads/…). token is the legacy verification
// token ("" for none).
func GoogleChatEvent(text, senderEmail, thread, token string) []byte {
	space := googleChatSpace
	if i := strings.Index(thread, "/threads/"); i > 0 {
		space = thread[:i]
	}
	sender := map[string]any{
		"name": "users/102030405060708090", "displayName": strings.Split(senderEmail, "@")[0],
		"email": senderEmail, "type": "HUMAN", "domainId": "c0ffee",
	}
	now := time.Now().UTC().Format(time.RFC3339Nano)
	event := map[string]any{
		"type":      "MESSAGE",
		"eventTime": now,
		"space":     map[string]any{"name": space, "type": "ROOM", "spaceType": "SPACE", "displayName": "Incidents"},
		"user":      sender,
		"message": map[string]any{
			"name":         space + "/messages/e" + fmt.Sprint(time.Now().UnixNano()),
			"sender":       sender,
			"createTime":   now,
			"text":         "@Klaxon " + text,
			"argumentText": " " + text,
			"thread":       map[string]any{"name": thread},
			"space":        map[string]any{"name": space},
			"annotations": []any{map[string]any{
				"type": "USER_MENTION", "startIndex": 0, "length": 7,
				"userMention": map[string]any{"user": map[string]any{"name": "users/114022495153014004089", "displayName": "Klaxon", "type": "BOT"}, "type": "MENTION"},
			}},
		},
		"configCompleteRedirectUrl": "https://chat.google.com/api/bot_config_complete?token=fake",
		"common":                    map[string]any{"userLocale": "en", "hostApp": "CHAT"},
	}
	if token != "" {
		event["token"] = token
	}
	b, _ := json.Marshal(event)
	return b
}

// GoogleChatCerts serves a signing certificate the way Google publishes
// chat@system.gserviceaccount.com's (a JSON object of key ID → PEM X.509
// certificate) and signs bearer tokens with its key, for tests of a Chat
// app's request verification.
type GoogleChatCerts struct {
	URL   string // the certificates endpoint
	KeyID string // the kid Sign puts in tokens

	key     *rsa.PrivateKey
	certPEM string
	mu      sync.Mutex
	fetches int
}

// NewGoogleChatCerts makes a signing key and serves its certificate until t
// ends.
func NewGoogleChatCerts(t testing.TB) *GoogleChatCerts {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: GoogleChatIssuer},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c := &GoogleChatCerts{
		KeyID:   "f1e2d3c4b5a6978800112233445566778899aabb",
		key:     key,
		certPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.fetches++
		c.mu.Unlock()
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		w.Header().Set("Cache-Control", "public, max-age=3600, must-revalidate, no-transform")
		json.NewEncoder(w).Encode(map[string]string{c.KeyID: c.certPEM})
	}))
	t.Cleanup(srv.Close)
	c.URL = srv.URL + "/service_accounts/v1/metadata/x509/" + GoogleChatIssuer
	return c
}

// Fetches counts the requests the certificates endpoint answered.
func (c *GoogleChatCerts) Fetches() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fetches
}

// Sign returns a bearer token as Chat sends it to an app whose project
// number is audience: RS256, issued by chat@system.gserviceaccount.com now,
// expiring at exp.
func (c *GoogleChatCerts) Sign(audience string, exp time.Time) string {
	return c.SignClaims(c.KeyID, map[string]any{
		"iss": GoogleChatIssuer, "aud": audience,
		"iat": time.Now().Add(-time.Second).Unix(), "exp": exp.Unix(),
	})
}

// SignClaims signs any claims with the served key but names kid as its
// key ID, for tests of forged or odd tokens.
func (c *GoogleChatCerts) SignClaims(kid string, claims map[string]any) string {
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims(claims))
	tok.Header["kid"] = kid
	s, err := tok.SignedString(c.key)
	if err != nil {
		panic(err) // an RSA key always signs
	}
	return s
}
