package klaxon

import (
	"context"
	"time"
)

// Store is where Klaxon keeps its state and its durable jobs. Implementations
// (internal/sqlite, internal/postgres) hold no business rules: the services
// decide, the store persists. internal/storetest is the contract every
// implementation must pass.
type Store interface {
	// Update runs fn in one transaction and commits if fn returns nil. Jobs
	// enqueued through the Tx commit or roll back with it.
	Update(ctx context.Context, fn func(Tx) error) error

	// Alert returns one alert, or an ENOTFOUND error.
	Alert(ctx context.Context, id int64) (*Alert, error)
	// Alerts lists alerts, newest first.
	Alerts(ctx context.Context, f AlertFilter) ([]*Alert, error)
	// AlertEvents returns an alert's history, oldest first.
	AlertEvents(ctx context.Context, alertID int64) ([]Event, error)
	// Heartbeats lists every stored heartbeat by name.
	Heartbeats(ctx context.Context) ([]Heartbeat, error)

	// GroupView returns a group, its members counted by state, and up to
	// limit members to show: open before resolved, firing before
	// acknowledged, most severe level first, then by ID. ENOTFOUND if none.
	GroupView(ctx context.Context, id int64, limit int) (*Group, GroupCounts, []*Alert, error)
	// NextNotification returns the due notification (NotBefore <= now) of a
	// channel with the lowest ID. When none is due it returns nil and the
	// earliest NotBefore of the channel's pending ones (zero if none).
	NextNotification(ctx context.Context, channel string, now time.Time) (*Notification, time.Time, error)
	// Message returns the message a group produced on a channel, or nil.
	Message(ctx context.Context, groupID int64, channel string) (*Message, error)
	// AlertMessages lists the messages of every group the alert is in,
	// ordered by group ID then channel.
	AlertMessages(ctx context.Context, alertID int64) ([]Message, error)
	// Cursor returns a stored position (e.g. a Matrix sync token), or "".
	Cursor(ctx context.Context, name string) (string, error)
	// Diagnostics lists an alert's diagnostics runs, newest first.
	Diagnostics(ctx context.Context, alertID int64) ([]*Diagnostics, error)
	// DiagnosticsRun returns one diagnostics run, or an ENOTFOUND error.
	DiagnosticsRun(ctx context.Context, id int64) (*Diagnostics, error)
	// Overrides lists stored overrides of a schedule ("" for every
	// schedule) that overlap [from, to), by Start then ID.
	Overrides(ctx context.Context, schedule string, from, to time.Time) ([]Override, error)
	// Escalation returns a group's escalation, or nil if it never had one.
	Escalation(ctx context.Context, groupID int64) (*Escalation, error)

	// Incident returns one incident with its linked alerts, or an
	// ENOTFOUND error.
	Incident(ctx context.Context, id int64) (*Incident, error)
	// Incidents lists incidents with their linked alerts, newest first.
	Incidents(ctx context.Context, f IncidentFilter) ([]*Incident, error)
	// IncidentByRoom returns the incident whose room is ref on channel, or
	// nil.
	IncidentByRoom(ctx context.Context, channel, ref string) (*Incident, error)
	// Timeline returns an incident's own entries, oldest first (by At,
	// then ID).
	Timeline(ctx context.Context, incidentID int64) ([]TimelineEntry, error)
	// Actions lists action items by ID.
	Actions(ctx context.Context, f ActionFilter) ([]ActionItem, error)
	// ComponentStatuses lists the status-page statuses set by hand, by
	// component.
	ComponentStatuses(ctx context.Context) ([]ComponentStatus, error)

	// Account returns the account with this username (case-insensitive),
	// or an ENOTFOUND error.
	Account(ctx context.Context, username string) (*Account, error)
	// AccountByID returns one account, or an ENOTFOUND error.
	AccountByID(ctx context.Context, id int64) (*Account, error)
	// AccountBySubject returns the account signed in through single sign-on
	// as subject (Account.OIDCSubject), or an ENOTFOUND error.
	AccountBySubject(ctx context.Context, subject string) (*Account, error)
	// Accounts lists every account by username.
	Accounts(ctx context.Context) ([]*Account, error)
	// APITokenByHash returns the token with this SHA-256, or an ENOTFOUND
	// error. Expired tokens are returned too: the caller decides.
	APITokenByHash(ctx context.Context, hash []byte) (*APIToken, error)
	// APITokens lists an account's tokens by ID (accountID 0: everyone's).
	APITokens(ctx context.Context, accountID int64) ([]*APIToken, error)
	// SessionByHash returns the session with this SHA-256, or an
	// ENOTFOUND error. Expired sessions are returned too.
	SessionByHash(ctx context.Context, hash []byte) (*Session, error)

	// AlertFacts calls fn for each alert first seen in [since, until), by
	// ID; an error from fn stops the walk and is returned.
	AlertFacts(ctx context.Context, since, until time.Time, fn func(AlertFact) error) error
	// PageRecords lists the pages made in [since, until), by At then ID.
	PageRecords(ctx context.Context, since, until time.Time) ([]PageRecord, error)
	// ChangeMark returns how far alert and incident history has come.
	ChangeMark(ctx context.Context) (ChangeMark, error)

	// Lease takes the named lease for holder until ttl from now, or renews
	// it, and reports whether holder now holds it: it is taken when free,
	// expired or already holder's. Replicas sharing the database elect
	// their leader with it. The database's clock decides expiry, so
	// replicas' clocks need not agree.
	Lease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	// ReleaseLease frees holder's lease, so another replica may take it at
	// once. It does nothing if holder does not hold it.
	ReleaseLease(ctx context.Context, name, holder string) error

	// WatchOutbox calls wake with a channel's name when another process
	// queued a notification for it, until ctx ends: the leader's senders
	// hear at once of what other replicas queued. A store only one process
	// writes (SQLite) just waits for ctx.
	WatchOutbox(ctx context.Context, wake func(channel string)) error

	// StartJobs starts working durable jobs with h until ctx ends or the store
	// is closed.
	StartJobs(ctx context.Context, h JobHandler) error
	// Ping reports whether the database answers.
	Ping(ctx context.Context) error
	// Close stops job workers and releases the database.
	Close() error
}

// Tx is the set of reads and writes a service may do inside Store.Update.
type Tx interface {
	// LatestAlerts returns, for each key, the most recent occurrence of the
	// alert (open or resolved) from the given integration. Keys without any
	// occurrence are absent from the map. Rows are locked for the rest of the
	// transaction where the database supports it.
	LatestAlerts(ctx context.Context, integration string, keys []string) (map[string]*Alert, error)
	// AlertForUpdate returns one alert and locks it, or an ENOTFOUND error.
	AlertForUpdate(ctx context.Context, id int64) (*Alert, error)
	// InsertAlert stores a new alert and sets its ID.
	InsertAlert(ctx context.Context, a *Alert) error
	// UpdateAlert stores every field of an existing alert.
	UpdateAlert(ctx context.Context, a *Alert) error
	// AddEvents appends entries to alerts' histories.
	AddEvents(ctx context.Context, events ...Event) error

	// Heartbeat returns a stored heartbeat, or nil if there is none by that name.
	Heartbeat(ctx context.Context, name string) (*Heartbeat, error)
	// SaveHeartbeat inserts or replaces a heartbeat.
	SaveHeartbeat(ctx context.Context, hb *Heartbeat) error

	// OpenGroup returns the open group of a route with this key, or nil.
	OpenGroup(ctx context.Context, route, key string) (*Group, error)
	// InsertGroup stores a new open group and sets its ID.
	InsertGroup(ctx context.Context, g *Group) error
	// AddGroupMembers adds alerts to a group; adding a member twice is a no-op.
	AddGroupMembers(ctx context.Context, groupID int64, alertIDs ...int64) error
	// AlertGroups returns the open groups each alert is a member of, by
	// alert ID. Alerts in no open group are absent.
	AlertGroups(ctx context.Context, alertIDs ...int64) (map[int64][]*Group, error)
	// CloseResolvedGroups closes those of the given open groups that have no
	// open member left, at now.
	CloseResolvedGroups(ctx context.Context, now time.Time, groupIDs ...int64) error
	// QueueNotification queues n.Channel to get n.GroupID's state. If one is
	// already pending for them, it is coalesced: Version+1, NotBefore the
	// earlier of both, Remind if either; its ID and CreatedAt stay. Only
	// Channel, GroupID, NotBefore, Remind and CreatedAt of n are read.
	QueueNotification(ctx context.Context, n Notification) error
	// FinishNotification removes a pending notification if it is still at
	// version, and reports whether it did; false means a change arrived
	// while it was being sent, so it stays pending (Attempts reset to 0).
	FinishNotification(ctx context.Context, id, version int64) (bool, error)
	// NotificationFailed records a failed attempt: Attempts+1 and LastError,
	// and NotBefore moved to retryAt.
	NotificationFailed(ctx context.Context, id int64, errMsg string, retryAt time.Time) error
	// SaveMessage inserts or replaces what is known of a group's message on
	// a channel.
	SaveMessage(ctx context.Context, m *Message) error
	// SetCursor stores a position for Store.Cursor.
	SetCursor(ctx context.Context, name, value string) error
	// InsertDiagnostics stores a diagnostics run and sets its ID.
	InsertDiagnostics(ctx context.Context, d *Diagnostics) error

	// InsertOverride stores an override and sets its ID.
	InsertOverride(ctx context.Context, o *Override) error
	// DeleteOverride removes a stored override and returns it, or an
	// ENOTFOUND error.
	DeleteOverride(ctx context.Context, id int64) (*Override, error)
	// EscalationForUpdate returns a group's escalation, locked for the
	// rest of the transaction where the database supports it, or nil.
	EscalationForUpdate(ctx context.Context, groupID int64) (*Escalation, error)
	// SaveEscalation inserts or replaces a group's escalation.
	SaveEscalation(ctx context.Context, e *Escalation) error
	// FiringMembers counts each group's members that are firing, by group
	// ID; groups with none are absent.
	FiringMembers(ctx context.Context, groupIDs ...int64) (map[int64]int, error)

	// IncidentForUpdate returns one incident with its linked alerts,
	// locked for the rest of the transaction where the database supports
	// it, or an ENOTFOUND error.
	IncidentForUpdate(ctx context.Context, id int64) (*Incident, error)
	// InsertIncident stores a new incident (and links its Alerts) and sets
	// its ID.
	InsertIncident(ctx context.Context, i *Incident) error
	// UpdateIncident stores every field of an existing incident except
	// Alerts (see LinkAlert).
	UpdateIncident(ctx context.Context, i *Incident) error
	// LinkAlert links an alert to an incident and reports whether it was
	// not linked already. An unknown alert is an ENOTFOUND error.
	LinkAlert(ctx context.Context, incidentID, alertID int64) (bool, error)
	// AddTimeline appends entries to incidents' timelines and sets their IDs.
	AddTimeline(ctx context.Context, entries ...*TimelineEntry) error
	// InsertAction stores a new action item and sets its ID.
	InsertAction(ctx context.Context, a *ActionItem) error
	// ActionForUpdate returns one action item, locked where the database
	// supports it, or an ENOTFOUND error.
	ActionForUpdate(ctx context.Context, id int64) (*ActionItem, error)
	// UpdateAction stores every field of an existing action item.
	UpdateAction(ctx context.Context, a *ActionItem) error
	// SetComponentStatus stores a component's status set by hand; an empty
	// Status clears it.
	SetComponentStatus(ctx context.Context, c ComponentStatus) error

	// InsertAccount stores a new account and sets its ID; a username (or
	// OIDC subject) already taken is an ECONFLICT error.
	InsertAccount(ctx context.Context, a *Account) error
	// UpdateAccount stores every field of an existing account.
	UpdateAccount(ctx context.Context, a *Account) error
	// InsertAPIToken stores a new token and sets its ID.
	InsertAPIToken(ctx context.Context, t *APIToken) error
	// TouchAPIToken sets a token's LastUsedAt.
	TouchAPIToken(ctx context.Context, id int64, at time.Time) error
	// DeleteAPIToken removes a token and returns it, or an ENOTFOUND
	// error.
	DeleteAPIToken(ctx context.Context, id int64) (*APIToken, error)
	// InsertSession stores a new session.
	InsertSession(ctx context.Context, s *Session) error
	// DeleteSessions removes the session with this hash (nil: none) and
	// every session that expired before now.
	DeleteSessions(ctx context.Context, hash []byte, now time.Time) error
	// DeleteAccountSessions signs an account out everywhere.
	DeleteAccountSessions(ctx context.Context, accountID int64) error
	// RecordPages stores who an escalation step called.
	RecordPages(ctx context.Context, pages ...PageRecord) error

	// Enqueue schedules a durable job to run at runAt (or now, if zero).
	Enqueue(ctx context.Context, job Job, runAt time.Time) error
}

// Job is durable work to do later. Its fields are stored as JSON.
type Job interface {
	Kind() string
}

// JobHandler does the work of a job. An error means the job is retried later
// with backoff, so handlers must be idempotent.
type JobHandler interface {
	HandleJob(ctx context.Context, job Job) error
}
