package klaxon

import "time"

// Heartbeat is a dead man's switch: something that must check in at least
// every Timeout, or Klaxon raises an alert of its own. Its next check-in
// resolves that alert.
type Heartbeat struct {
	Name        string        `json:"name"`
	Timeout     time.Duration `json:"timeout"`
	LastCheckIn time.Time     `json:"last_check_in,omitzero"`
	Deadline    time.Time     `json:"deadline"`           // a check-in must arrive before this
	AlertID     int64         `json:"alert_id,omitempty"` // the open missed-heartbeat alert, if any
}

// HeartbeatCheck is the durable job that fires at a heartbeat's deadline and
// raises an alert if no check-in moved the deadline since.
type HeartbeatCheck struct {
	Name string `json:"name"`
}

// Kind names the job type.
func (HeartbeatCheck) Kind() string { return "heartbeat_check" }
