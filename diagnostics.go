package klaxon

import "time"

// Diagnostics is one run of a runbook's diagnose steps for an alert: the
// read-only commands the on-call would type first, run for them when the
// alert fired (or when someone asked with "diagnose 12").
type Diagnostics struct {
	ID          int64              `json:"id"`
	AlertID     int64              `json:"alert_id"`
	Runbook     string             `json:"runbook"`                // the runbook's slug
	RequestedBy string             `json:"requested_by,omitempty"` // empty when run because the alert fired
	StartedAt   time.Time          `json:"started_at"`
	FinishedAt  time.Time          `json:"finished_at"`
	Results     []DiagnosticResult `json:"results"`
}

// DiagnosticStatus says how one diagnostic command ended.
type DiagnosticStatus string

// Diagnostic outcomes.
const (
	DiagnosticOK      DiagnosticStatus = "ok"      // ran and exited 0
	DiagnosticFailed  DiagnosticStatus = "failed"  // ran and exited non-zero
	DiagnosticTimeout DiagnosticStatus = "timeout" // killed at the timeout
	DiagnosticRefused DiagnosticStatus = "refused" // not run: not on the allowlist, shell syntax, unsafe label value…
	DiagnosticError   DiagnosticStatus = "error"   // could not be started (program missing…)
)

// DiagnosticResult is what one command did. Output is already redacted and
// capped: it is shown in chat and in the API as is.
type DiagnosticResult struct {
	Command   string           `json:"command"` // as run, placeholders filled
	Status    DiagnosticStatus `json:"status"`
	ExitCode  int              `json:"exit_code"`
	Reason    string           `json:"reason,omitempty"` // why refused or not started; the timeout
	Output    string           `json:"output,omitempty"` // stdout and stderr interleaved
	Truncated bool             `json:"truncated,omitempty"`
	Duration  time.Duration    `json:"duration"`
}

// EventDiagnosed is the history entry of a diagnostics run.
const EventDiagnosed EventKind = "diagnosed"

// RunDiagnostics is the durable job that runs an alert's runbook
// diagnostics and posts their output in the alert's chat threads.
type RunDiagnostics struct {
	AlertID     int64  `json:"alert_id"`
	RequestedBy string `json:"requested_by,omitempty"`
}

// Kind names the job type.
func (RunDiagnostics) Kind() string { return "run_diagnostics" }

// PostNote is the durable job that posts a diagnostics run in a group's
// thread on one channel, once the group's message exists there.
type PostNote struct {
	GroupID       int64  `json:"group_id"`
	Channel       string `json:"channel"`
	DiagnosticsID int64  `json:"diagnostics_id"`
}

// Kind names the job type.
func (PostNote) Kind() string { return "post_note" }
