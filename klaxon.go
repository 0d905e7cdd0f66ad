// Package klaxon holds Klaxon's domain: alerts and their lifecycle,
// severities, heartbeats, the coded errors users see, and the Store contract
// that every storage backend implements. It knows nothing of HTTP, SQL or chat
// platforms; those live in adapters under internal/.
package klaxon

import (
	"errors"
	"fmt"
)

// Error codes a user may see. Adapters turn them into protocol statuses in one
// place (HTTP: internal/httpapi).
const (
	EINVALID      = "invalid"
	ENOTFOUND     = "not_found"
	ECONFLICT     = "conflict"
	EUNAUTHORIZED = "unauthorized"
	EFORBIDDEN    = "forbidden"    // known, but the role does not allow it
	ERATELIMITED  = "rate_limited" // too many attempts; try again later
	EUNAVAILABLE  = "unavailable"  // the store cannot be reached or cannot write; try again later
	EINTERNAL     = "internal"
)

// Error is an error meant for the user: Code says what kind, Message says what
// went wrong in words that name the problem.
type Error struct {
	Code    string
	Message string
	// Problems lists each problem when there are several (Message joins
	// them), so an API can answer with all of them at once.
	Problems []string
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of err; internal errors get a
// generic message so no detail of the implementation leaks.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
