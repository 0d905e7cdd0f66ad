package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/klaxon-oss/klaxon"
)

const accountColumns = `id, username, name, email, role, password_hash, oidc_subject,
	created_at, last_login_at, disabled_at`

const accountSetColumns = `username, name, email, role, password_hash, oidc_subject,
	created_at, last_login_at, disabled_at`

// usernameKey is the expression the accounts_username index is on; a
// lookup must spell it the same way to use the index.
const usernameKey = `lower(username COLLATE "C")`

func scanAccount(row pgx.Row) (*klaxon.Account, error) {
	var (
		a                       klaxon.Account
		lastLoginAt, disabledAt *time.Time
	)
	err := row.Scan(&a.ID, &a.Username, &a.Name, &a.Email, &a.Role, &a.PasswordHash, &a.OIDCSubject,
		&a.CreatedAt, &lastLoginAt, &disabledAt)
	if err != nil {
		return nil, err
	}
	a.CreatedAt, a.LastLoginAt, a.DisabledAt = a.CreatedAt.UTC(), fromNullTime(lastLoginAt), fromNullTime(disabledAt)
	return &a, nil
}

// accountArgs returns the values of accountSetColumns.
func accountArgs(a *klaxon.Account) []any {
	return []any{a.Username, a.Name, a.Email, int(a.Role), a.PasswordHash, a.OIDCSubject,
		a.CreatedAt, nullTime(a.LastLoginAt), nullTime(a.DisabledAt)}
}

// oneAccount reads the account a lookup found; what names the lookup in
// errors ("account alice").
func oneAccount(row pgx.Row, what string) (*klaxon.Account, error) {
	a, err := scanAccount(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, klaxon.Errorf(klaxon.ENOTFOUND, "%s not found", what)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return a, nil
}

// Account finds an account by username, case-insensitively.
func (db *DB) Account(ctx context.Context, username string) (*klaxon.Account, error) {
	row := db.pool.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts
		WHERE `+usernameKey+` = lower($1 COLLATE "C")`, username)
	return oneAccount(row, fmt.Sprintf("account %q", username))
}

func (db *DB) AccountByID(ctx context.Context, id int64) (*klaxon.Account, error) {
	row := db.pool.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts WHERE id = $1`, id)
	return oneAccount(row, fmt.Sprintf("account %d", id))
}

func (db *DB) AccountBySubject(ctx context.Context, subject string) (*klaxon.Account, error) {
	if subject == "" {
		// '' marks accounts without single sign-on; it is nobody's subject.
		return nil, klaxon.Errorf(klaxon.ENOTFOUND, "no account for an empty single sign-on subject")
	}
	row := db.pool.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts WHERE oidc_subject = $1`, subject)
	return oneAccount(row, fmt.Sprintf("account with single sign-on subject %q", subject))
}

func (db *DB) Accounts(ctx context.Context) ([]*klaxon.Account, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+accountColumns+` FROM accounts ORDER BY `+usernameKey+`, id`)
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
	err := t.guarded(ctx, func(sp pgx.Tx) error {
		return sp.QueryRow(ctx, `INSERT INTO accounts (`+accountSetColumns+`)
			VALUES (`+placeholders(1, 9)+`) RETURNING id`, accountArgs(a)...).Scan(&a.ID)
	})
	if err != nil {
		return accountError(a, "insert", err)
	}
	return nil
}

func (t *tx) UpdateAccount(ctx context.Context, a *klaxon.Account) error {
	var tag pgconn.CommandTag
	err := t.guarded(ctx, func(sp pgx.Tx) error {
		var err error
		tag, err = sp.Exec(ctx, `UPDATE accounts SET (`+accountSetColumns+`)
			= (`+placeholders(1, 9)+`) WHERE id = $10`, append(accountArgs(a), a.ID)...)
		return err
	})
	if err != nil {
		return accountError(a, "update", err)
	}
	if tag.RowsAffected() == 0 {
		return klaxon.Errorf(klaxon.ENOTFOUND, "account %d not found", a.ID)
	}
	return nil
}

// accountError names what is taken when writing a broke a unique index.
func accountError(a *klaxon.Account, op string, err error) error {
	switch uniqueViolation(err) {
	case "accounts_username":
		return klaxon.Errorf(klaxon.ECONFLICT, "username %q is already taken", a.Username)
	case "accounts_oidc_subject":
		return klaxon.Errorf(klaxon.ECONFLICT, "single sign-on subject %q already belongs to another account", a.OIDCSubject)
	}
	return fmt.Errorf("%s account %q: %w", op, a.Username, err)
}

// uniqueViolation returns the name of the unique index err broke, or "".
func uniqueViolation(err error) string {
	var e *pgconn.PgError
	if errors.As(err, &e) && e.Code == "23505" {
		return e.ConstraintName
	}
	return ""
}

// guarded runs fn in a savepoint. A failed statement aborts a PostgreSQL
// transaction; released or rolled back to, the savepoint leaves it usable
// after a conflict, as a SQLite transaction is.
func (t *tx) guarded(ctx context.Context, fn func(pgx.Tx) error) error {
	sp, err := t.tx.Begin(ctx)
	if err != nil {
		return err
	}
	if err := fn(sp); err != nil {
		return errors.Join(err, sp.Rollback(ctx))
	}
	return sp.Commit(ctx)
}

const tokenColumns = `id, account_id, name, hash, hint, created_at, last_used_at, expires_at`

func scanToken(row pgx.Row) (*klaxon.APIToken, error) {
	var (
		k                     klaxon.APIToken
		lastUsedAt, expiresAt *time.Time
	)
	if err := row.Scan(&k.ID, &k.AccountID, &k.Name, &k.Hash, &k.Hint, &k.CreatedAt, &lastUsedAt, &expiresAt); err != nil {
		return nil, err
	}
	k.CreatedAt, k.LastUsedAt, k.ExpiresAt = k.CreatedAt.UTC(), fromNullTime(lastUsedAt), fromNullTime(expiresAt)
	return &k, nil
}

func (db *DB) APITokenByHash(ctx context.Context, hash []byte) (*klaxon.APIToken, error) {
	k, err := scanToken(db.pool.QueryRow(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE hash = $1`, hash))
	if errors.Is(err, pgx.ErrNoRows) {
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
		query, args = `SELECT `+tokenColumns+` FROM api_tokens WHERE account_id = $1 ORDER BY id`, []any{accountID}
	}
	rows, err := db.pool.Query(ctx, query, args...)
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
	err := t.guarded(ctx, func(sp pgx.Tx) error {
		return sp.QueryRow(ctx, `INSERT INTO api_tokens (account_id, name, hash, hint, created_at, last_used_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			k.AccountID, k.Name, k.Hash, k.Hint, k.CreatedAt, nullTime(k.LastUsedAt), nullTime(k.ExpiresAt)).Scan(&k.ID)
	})
	if uniqueViolation(err) != "" {
		// 256 random bits do not collide; a caller hashing something else
		// might.
		return klaxon.Errorf(klaxon.ECONFLICT, "an API token with this hash already exists")
	}
	if err != nil {
		return fmt.Errorf("insert API token %q: %w", k.Name, err)
	}
	return nil
}

func (t *tx) TouchAPIToken(ctx context.Context, id int64, at time.Time) error {
	tag, err := t.tx.Exec(ctx, `UPDATE api_tokens SET last_used_at = $1 WHERE id = $2`, at, id)
	if err != nil {
		return fmt.Errorf("touch API token %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return klaxon.Errorf(klaxon.ENOTFOUND, "API token %d not found", id)
	}
	return nil
}

func (t *tx) DeleteAPIToken(ctx context.Context, id int64) (*klaxon.APIToken, error) {
	k, err := scanToken(t.tx.QueryRow(ctx, `DELETE FROM api_tokens WHERE id = $1 RETURNING `+tokenColumns, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, klaxon.Errorf(klaxon.ENOTFOUND, "API token %d not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("delete API token %d: %w", id, err)
	}
	return k, nil
}

func (db *DB) SessionByHash(ctx context.Context, hash []byte) (*klaxon.Session, error) {
	var s klaxon.Session
	err := db.pool.QueryRow(ctx, `SELECT hash, account_id, created_at, expires_at FROM sessions WHERE hash = $1`, hash).
		Scan(&s.Hash, &s.AccountID, &s.CreatedAt, &s.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, klaxon.Errorf(klaxon.ENOTFOUND, "session not found")
	}
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	s.CreatedAt, s.ExpiresAt = s.CreatedAt.UTC(), s.ExpiresAt.UTC()
	return &s, nil
}

func (t *tx) InsertSession(ctx context.Context, s *klaxon.Session) error {
	err := t.guarded(ctx, func(sp pgx.Tx) error {
		_, err := sp.Exec(ctx, `INSERT INTO sessions (hash, account_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
			s.Hash, s.AccountID, s.CreatedAt, s.ExpiresAt)
		return err
	})
	if uniqueViolation(err) != "" {
		return klaxon.Errorf(klaxon.ECONFLICT, "a session with this hash already exists")
	}
	if err != nil {
		return fmt.Errorf("insert session of account %d: %w", s.AccountID, err)
	}
	return nil
}

func (t *tx) DeleteSessions(ctx context.Context, hash []byte, now time.Time) error {
	// A nil hash is NULL, which no session's hash equals; the sweep runs
	// either way.
	if _, err := t.tx.Exec(ctx, `DELETE FROM sessions WHERE hash = $1 OR expires_at < $2`, hash, now); err != nil {
		return fmt.Errorf("delete sessions: %w", err)
	}
	return nil
}

func (t *tx) DeleteAccountSessions(ctx context.Context, accountID int64) error {
	if _, err := t.tx.Exec(ctx, `DELETE FROM sessions WHERE account_id = $1`, accountID); err != nil {
		return fmt.Errorf("delete sessions of account %d: %w", accountID, err)
	}
	return nil
}
