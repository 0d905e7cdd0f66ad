package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	sqlitedriver "modernc.org/sqlite"
	sqlitelib "modernc.org/sqlite/lib"

	"github.com/klaxon-oss/klaxon"
)

const accountColumns = `id, username, name, email, role, password_hash, oidc_subject,
	created_at, last_login_at, disabled_at`

func scanAccount(row scanner) (*klaxon.Account, error) {
	var (
		a                       klaxon.Account
		createdAt               int64
		lastLoginAt, disabledAt sql.NullInt64
	)
	err := row.Scan(&a.ID, &a.Username, &a.Name, &a.Email, &a.Role, &a.PasswordHash, &a.OIDCSubject,
		&createdAt, &lastLoginAt, &disabledAt)
	if err != nil {
		return nil, err
	}
	a.CreatedAt, a.LastLoginAt, a.DisabledAt = fromMicros(createdAt), fromNullMicros(lastLoginAt), fromNullMicros(disabledAt)
	return &a, nil
}

// accountArgs returns the values of every column but id, in accountColumns
// order.
func accountArgs(a *klaxon.Account) []any {
	return []any{a.Username, a.Name, a.Email, a.Role, a.PasswordHash, a.OIDCSubject,
		micros(a.CreatedAt), nullMicros(a.LastLoginAt), nullMicros(a.DisabledAt)}
}

// oneAccount reads the account a lookup found; what names the lookup in
// errors ("account alice").
func oneAccount(row *sql.Row, what string) (*klaxon.Account, error) {
	a, err := scanAccount(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, klaxon.Errorf(klaxon.ENOTFOUND, "%s not found", what)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return a, nil
}

// Account finds an account by username; the column's NOCASE collation
// makes the comparison case-insensitive.
func (db *DB) Account(ctx context.Context, username string) (*klaxon.Account, error) {
	row := db.read.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE username = ?`, username)
	return oneAccount(row, fmt.Sprintf("account %q", username))
}

func (db *DB) AccountByID(ctx context.Context, id int64) (*klaxon.Account, error) {
	row := db.read.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE id = ?`, id)
	return oneAccount(row, fmt.Sprintf("account %d", id))
}

func (db *DB) AccountBySubject(ctx context.Context, subject string) (*klaxon.Account, error) {
	if subject == "" {
		// '' marks accounts without single sign-on; it is nobody's subject.
		return nil, klaxon.Errorf(klaxon.ENOTFOUND, "no account for an empty single sign-on subject")
	}
	row := db.read.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE oidc_subject = ?`, subject)
	return oneAccount(row, fmt.Sprintf("account with single sign-on subject %q", subject))
}

func (db *DB) Accounts(ctx context.Context) ([]*klaxon.Account, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+accountColumns+` FROM accounts ORDER BY username, id`)
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	defer rows.Close()
	var out []*klaxon.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("list accounts: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	return out, nil
}

func (t *tx) InsertAccount(ctx context.Context, a *klaxon.Account) error {
	args := accountArgs(a)
	res, err := t.exec(ctx, `INSERT INTO accounts (`+strings.TrimPrefix(accountColumns, "id, ")+`)
		VALUES (`+placeholders(len(args))+`)`, args...)
	if err != nil {
		return t.accountConflict(ctx, a, "insert", err)
	}
	a.ID, err = res.LastInsertId()
	return err
}

func (t *tx) UpdateAccount(ctx context.Context, a *klaxon.Account) error {
	args := accountArgs(a)
	res, err := t.exec(ctx, `UPDATE accounts SET (`+strings.TrimPrefix(accountColumns, "id, ")+`)
		= (`+placeholders(len(args))+`) WHERE id = ?`, append(args, a.ID)...)
	if err != nil {
		return t.accountConflict(ctx, a, "update", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return klaxon.Errorf(klaxon.ENOTFOUND, "account %d not found", a.ID)
	}
	return nil
}

// accountConflict turns the unique violation of writing a into an
// ECONFLICT error naming what is taken. SQLite's error does not name the
// index in a structured way, so the transaction, which holds the write
// lock, asks which one it was.
func (t *tx) accountConflict(ctx context.Context, a *klaxon.Account, op string, err error) error {
	if !isUniqueViolation(err) {
		return fmt.Errorf("%s account %q: %w", op, a.Username, err)
	}
	var taken bool
	s, qerr := t.stmt(ctx, `SELECT EXISTS (SELECT 1 FROM accounts WHERE username = ? AND id <> ?)`)
	if qerr == nil {
		qerr = s.QueryRowContext(ctx, a.Username, a.ID).Scan(&taken)
	}
	if qerr != nil {
		return fmt.Errorf("%s account %q: %w", op, a.Username, errors.Join(err, qerr))
	}
	if taken {
		return klaxon.Errorf(klaxon.ECONFLICT, "username %q is already taken", a.Username)
	}
	return klaxon.Errorf(klaxon.ECONFLICT, "single sign-on subject %q already belongs to another account", a.OIDCSubject)
}

// isUniqueViolation reports whether err is a UNIQUE or PRIMARY KEY
// constraint failing.
func isUniqueViolation(err error) bool {
	var e *sqlitedriver.Error
	return errors.As(err, &e) &&
		(e.Code() == sqlitelib.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlitelib.SQLITE_CONSTRAINT_PRIMARYKEY)
}

const tokenColumns = `id, account_id, name, hash, hint, created_at, last_used_at, expires_at`

func scanToken(row scanner) (*klaxon.APIToken, error) {
	var (
		k                     klaxon.APIToken
		createdAt             int64
		lastUsedAt, expiresAt sql.NullInt64
	)
	if err := row.Scan(&k.ID, &k.AccountID, &k.Name, &k.Hash, &k.Hint, &createdAt, &lastUsedAt, &expiresAt); err != nil {
		return nil, err
	}
	k.CreatedAt, k.LastUsedAt, k.ExpiresAt = fromMicros(createdAt), fromNullMicros(lastUsedAt), fromNullMicros(expiresAt)
	return &k, nil
}

func (db *DB) APITokenByHash(ctx context.Context, hash []byte) (*klaxon.APIToken, error) {
	k, err := scanToken(db.read.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE hash = ?`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, klaxon.Errorf(klaxon.ENOTFOUND, "API token not found")
	}
	if err != nil {
		return nil, fmt.Errorf("API token: %w", err)
	}
	return k, nil
}

func (db *DB) APITokens(ctx context.Context, accountID int64) ([]*klaxon.APIToken, error) {
	query, args := `SELECT `+tokenColumns+` FROM api_tokens ORDER BY id`, []any(nil)
	if accountID != 0 {
		query, args = `SELECT `+tokenColumns+` FROM api_tokens WHERE account_id = ? ORDER BY id`, []any{accountID}
	}
	rows, err := db.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list API tokens: %w", err)
	}
	defer rows.Close()
	var out []*klaxon.APIToken
	for rows.Next() {
		k, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("list API tokens: %w", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list API tokens: %w", err)
	}
	return out, nil
}

func (t *tx) InsertAPIToken(ctx context.Context, k *klaxon.APIToken) error {
	res, err := t.exec(ctx, `INSERT INTO api_tokens (account_id, name, hash, hint, created_at, last_used_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		k.AccountID, k.Name, k.Hash, k.Hint, micros(k.CreatedAt), nullMicros(k.LastUsedAt), nullMicros(k.ExpiresAt))
	if isUniqueViolation(err) {
		// 256 random bits do not collide; a caller hashing something else
		// might.
		return klaxon.Errorf(klaxon.ECONFLICT, "an API token with this hash already exists")
	}
	if err != nil {
		return fmt.Errorf("insert API token %q: %w", k.Name, err)
	}
	k.ID, err = res.LastInsertId()
	return err
}

func (t *tx) TouchAPIToken(ctx context.Context, id int64, at time.Time) error {
	res, err := t.exec(ctx, `UPDATE api_tokens SET last_used_at = ? WHERE id = ?`, micros(at), id)
	if err != nil {
		return fmt.Errorf("touch API token %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return klaxon.Errorf(klaxon.ENOTFOUND, "API token %d not found", id)
	}
	return nil
}

func (t *tx) DeleteAPIToken(ctx context.Context, id int64) (*klaxon.APIToken, error) {
	s, err := t.stmt(ctx, `DELETE FROM api_tokens WHERE id = ? RETURNING `+tokenColumns)
	if err != nil {
		return nil, fmt.Errorf("delete API token %d: %w", id, err)
	}
	k, err := scanToken(s.QueryRowContext(ctx, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, klaxon.Errorf(klaxon.ENOTFOUND, "API token %d not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("delete API token %d: %w", id, err)
	}
	return k, nil
}

func (db *DB) SessionByHash(ctx context.Context, hash []byte) (*klaxon.Session, error) {
	var (
		s                    klaxon.Session
		createdAt, expiresAt int64
	)
	err := db.read.QueryRowContext(ctx, `SELECT hash, account_id, created_at, expires_at FROM sessions WHERE hash = ?`, hash).
		Scan(&s.Hash, &s.AccountID, &createdAt, &expiresAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, klaxon.Errorf(klaxon.ENOTFOUND, "session not found")
	}
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	s.CreatedAt, s.ExpiresAt = fromMicros(createdAt), fromMicros(expiresAt)
	return &s, nil
}

func (t *tx) InsertSession(ctx context.Context, s *klaxon.Session) error {
	_, err := t.exec(ctx, `INSERT INTO sessions (hash, account_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
		s.Hash, s.AccountID, micros(s.CreatedAt), micros(s.ExpiresAt))
	if isUniqueViolation(err) {
		return klaxon.Errorf(klaxon.ECONFLICT, "a session with this hash already exists")
	}
	if err != nil {
		return fmt.Errorf("insert session of account %d: %w", s.AccountID, err)
	}
	return nil
}

func (t *tx) DeleteSessions(ctx context.Context, hash []byte, now time.Time) error {
	// A nil hash matches no session; the sweep runs either way.
	if _, err := t.exec(ctx, `DELETE FROM sessions WHERE hash = ? OR expires_at < ?`, hash, micros(now)); err != nil {
		return fmt.Errorf("delete sessions: %w", err)
	}
	return nil
}

func (t *tx) DeleteAccountSessions(ctx context.Context, accountID int64) error {
	if _, err := t.exec(ctx, `DELETE FROM sessions WHERE account_id = ?`, accountID); err != nil {
		return fmt.Errorf("delete sessions of account %d: %w", accountID, err)
	}
	return nil
}
