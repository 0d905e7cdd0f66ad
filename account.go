package klaxon

import (
	"fmt"
	"strings"
	"time"
)

// Role is what a person may do. Each role can do everything the ones below
// it can.
type Role int

const (
	// RoleViewer reads: alerts, incidents, schedules, runbooks, insights.
	RoleViewer Role = iota + 1
	// RoleResponder acts on alerts and incidents: ack, resolve, declare,
	// post updates, add overrides.
	RoleResponder
	// RoleAdmin also manages accounts and everyone's API tokens.
	RoleAdmin
)

var roleNames = map[Role]string{RoleViewer: "viewer", RoleResponder: "responder", RoleAdmin: "admin"}

func (r Role) String() string {
	if n, ok := roleNames[r]; ok {
		return n
	}
	return fmt.Sprintf("role(%d)", int(r))
}

// Allows reports whether r may do what needs at least role need.
func (r Role) Allows(need Role) bool { return r >= need }

// ParseRole reads viewer, responder or admin.
func ParseRole(s string) (Role, error) {
	for r, n := range roleNames {
		if strings.EqualFold(strings.TrimSpace(s), n) {
			return r, nil
		}
	}
	return 0, Errorf(EINVALID, "unknown role %q: want viewer, responder or admin", s)
}

// MarshalText writes the role's name (JSON and YAML).
func (r Role) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText reads a role's name.
func (r *Role) UnmarshalText(b []byte) error {
	v, err := ParseRole(string(b))
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// Account is a person who signs in to Klaxon: with a password, through
// single sign-on, or both. Username is their actor name everywhere (acks,
// timelines) and matches users[].id in the configuration when they are on
// call.
type Account struct {
	ID       int64  `json:"id"`
	Username string `json:"username"`
	Name     string `json:"name,omitempty"` // display name
	Email    string `json:"email,omitempty"`
	Role     Role   `json:"role"`
	// PasswordHash is a PHC string (argon2id); empty means no password
	// sign-in.
	PasswordHash string `json:"-"`
	// OIDCSubject is the identity provider's "iss sub" for this person;
	// empty means no single sign-on.
	OIDCSubject string    `json:"-"`
	CreatedAt   time.Time `json:"created_at"`
	LastLoginAt time.Time `json:"last_login_at,omitzero"`
	DisabledAt  time.Time `json:"disabled_at,omitzero"`
}

// Disabled reports whether the account may no longer sign in or use its
// tokens.
func (a *Account) Disabled() bool { return !a.DisabledAt.IsZero() }

// APIToken is a personal token for the CLI and scripts. Only its SHA-256
// is stored; the token itself is shown once, when created.
type APIToken struct {
	ID        int64  `json:"id"`
	AccountID int64  `json:"account_id"`
	Name      string `json:"name"`
	// Hash is the SHA-256 of the token.
	Hash []byte `json:"-"`
	// Hint is the token's first characters, to tell tokens apart.
	Hint       string    `json:"hint"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
	ExpiresAt  time.Time `json:"expires_at,omitzero"` // zero: never
}

// Session is a signed-in browser. Only the SHA-256 of the cookie's value
// is stored.
type Session struct {
	Hash      []byte
	AccountID int64
	CreatedAt time.Time
	ExpiresAt time.Time
}

// PageRecord is one person called by an escalation step: the on-call load
// that Insights counts.
type PageRecord struct {
	ID      int64     `json:"id"`
	At      time.Time `json:"at"`
	Person  string    `json:"person"` // users[].id
	GroupID int64     `json:"group_id"`
	Level   Level     `json:"level"`
	Channel string    `json:"channel"`
}

// AlertFact is what Insights reads of one alert occurrence.
type AlertFact struct {
	ID          int64
	Integration string
	Labels      map[string]string
	Level       Level
	FirstSeen   time.Time
	AckedAt     time.Time
	AckedBy     string
	ResolvedAt  time.Time
	ResolvedBy  string
	PreviousID  int64
}

// ChangeMark says how far the stored history has come: it grows whenever an
// alert or an incident changes, on every replica, so live pages poll it
// instead of trusting an in-process signal.
type ChangeMark struct {
	AlertEvent int64 // highest alert_events ID
	Timeline   int64 // highest incident_timeline ID
	// Recent counts the rows among the last IDs of both: IDs are handed
	// out before commit, so on PostgreSQL a lower one may become visible
	// after a higher one without moving either maximum.
	Recent int64
}
