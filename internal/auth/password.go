package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/klaxon-oss/klaxon"
)

// Password length bounds: long enough to resist guessing without rules
// about symbols (NIST SP 800-63B), short enough that hashing stays cheap.
const (
	MinPasswordLen = 12
	maxPasswordLen = 1024 // bytes
)

// argonParams are the cost of an argon2id hash.
type argonParams struct {
	memory  uint32 // KiB
	time    uint32 // passes
	threads uint8
}

// hashCost is OWASP's recommended argon2id minimum: 19 MiB, 2 passes, 1
// lane (about 20 ms). Tests lower it; hashes record their own cost, so
// verifying never depends on it.
var hashCost = argonParams{memory: 19 * 1024, time: 2, threads: 1}

const (
	saltLen = 16
	keyLen  = 32
)

var b64 = base64.RawStdEncoding // what PHC strings use

// hashPassword returns the PHC string of an argon2id hash of password:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>.
func hashPassword(password string) string {
	salt := make([]byte, saltLen)
	rand.Read(salt)
	p := hashCost
	key := argon2.IDKey([]byte(password), salt, p.time, p.memory, p.threads, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.memory, p.time, p.threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// checkPassword reports whether password matches the PHC string, and
// whether the hash was made at another cost than today's (so it should be
// made again).
func checkPassword(phc, password string) (ok, stale bool, err error) {
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return false, false, fmt.Errorf("password hash: not an argon2id PHC string")
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, false, fmt.Errorf("password hash: unsupported argon2 version %q", parts[2])
	}
	var p argonParams
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.memory, &p.time, &p.threads); err != nil || p.time == 0 || p.threads == 0 {
		return false, false, fmt.Errorf("password hash: bad parameters %q", parts[3])
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, false, fmt.Errorf("password hash: salt: %w", err)
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false, false, fmt.Errorf("password hash: bad key")
	}
	got := argon2.IDKey([]byte(password), salt, p.time, p.memory, p.threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, p != hashCost, nil
}

// checkNewPassword refuses a password too short or absurdly long.
func checkNewPassword(password string) error {
	if n := utf8.RuneCountInString(password); n < MinPasswordLen {
		return klaxon.Errorf(klaxon.EINVALID, "password: too short (%d characters); use at least %d", n, MinPasswordLen)
	}
	if len(password) > maxPasswordLen {
		return klaxon.Errorf(klaxon.EINVALID, "password: longer than %d bytes", maxPasswordLen)
	}
	return nil
}

// dummyHash is checked against when there is no account (or no password),
// so a wrong username costs as much as a wrong password and timing does
// not tell which usernames exist.
var dummyHash = sync.OnceValue(func() string { return hashPassword("klaxon: no such account") })

// errWrongPassword is every failed sign-in's answer, so it does not tell
// whether the username exists.
var errWrongPassword = klaxon.Errorf(klaxon.EUNAUTHORIZED, "wrong username or password")

// Login checks a username and password. Failures are rate-limited per
// username and per remote address (ERATELIMITED); a wrong username and a
// wrong password get the same EUNAUTHORIZED answer.
func (s *Service) Login(ctx context.Context, username, password, remote string) (*klaxon.Account, error) {
	username = strings.TrimSpace(username)
	attempt, err := s.failures.attempt(s.now(), username, remoteHost(remote))
	if err != nil {
		return nil, err
	}
	a, err := s.store.Account(ctx, username)
	if err != nil && klaxon.ErrorCode(err) != klaxon.ENOTFOUND {
		attempt.abandon()
		return nil, fmt.Errorf("login: %w", err)
	}
	phc := dummyHash()
	if a != nil && a.PasswordHash != "" {
		phc = a.PasswordHash
	}
	ok, stale, err := checkPassword(phc, password)
	if err != nil {
		attempt.abandon()
		return nil, fmt.Errorf("login %s: %w", username, err)
	}
	if !ok || a == nil || a.PasswordHash == "" {
		return nil, errWrongPassword
	}
	// The password was right: whatever follows is not a guess.
	attempt.succeeded()
	if a.Disabled() {
		return nil, klaxon.Errorf(klaxon.EUNAUTHORIZED, "account %s is disabled; ask an admin", a.Username)
	}
	if stale {
		a.PasswordHash = hashPassword(password)
	}
	if err := s.signedIn(ctx, a); err != nil {
		return nil, err
	}
	return a, nil
}

// signedIn records a sign-in.
func (s *Service) signedIn(ctx context.Context, a *klaxon.Account) error {
	a.LastLoginAt = s.now()
	err := s.store.Update(ctx, func(tx klaxon.Tx) error { return tx.UpdateAccount(ctx, a) })
	if err != nil {
		return fmt.Errorf("record sign-in of %s: %w", a.Username, err)
	}
	return nil
}

// remoteHost is the address part of host:port (a request's RemoteAddr).
func remoteHost(remote string) string {
	if host, _, err := net.SplitHostPort(remote); err == nil {
		return host
	}
	return remote
}
