package sqlite

import (
	"errors"
	"fmt"

	driver "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/klaxon-oss/klaxon"
)

// unavailable marks err as klaxon.EUNAVAILABLE when SQLite failed because of
// the file it writes (disk full, read-only, I/O error, cannot open): the
// request should be retried once the operator fixes the disk, not reported
// as a bug. The driver's error stays in the chain for errors.As and the log;
// the path is only in the log, not in the message users see. Other errors
// are returned unchanged.
func unavailable(path string, err error) error {
	var e *driver.Error
	var coded *klaxon.Error
	if err == nil || errors.As(err, &coded) || !errors.As(err, &e) {
		return err
	}
	var cause string
	// Extended result codes (SQLITE_IOERR_WRITE, …) keep the primary code
	// in their low byte.
	switch e.Code() & 0xff {
	case sqlite3.SQLITE_FULL:
		cause = "disk full"
	case sqlite3.SQLITE_IOERR:
		cause = "I/O error"
	case sqlite3.SQLITE_READONLY:
		cause = "file is read-only"
	case sqlite3.SQLITE_CANTOPEN:
		cause = "cannot open file"
	default:
		return err
	}
	return fmt.Errorf("%w (%s): %w", klaxon.Errorf(klaxon.EUNAVAILABLE, "database unavailable: %s", cause), path, err)
}
