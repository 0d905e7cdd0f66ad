package auth

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/klaxon-oss/klaxon"
)

// usernamePattern is what an actor name may look like: what users[].id
// takes, plus @ for identity providers that name people by email.
var usernamePattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.@-]*$`)

const (
	maxUsername = 64
	maxName     = 200 // display name and email
)

func checkUsername(username string) error {
	switch {
	case username == "":
		return klaxon.Errorf(klaxon.EINVALID, "username: missing")
	case len(username) > maxUsername:
		return klaxon.Errorf(klaxon.EINVALID, "username: longer than %d characters", maxUsername)
	case !usernamePattern.MatchString(username):
		return klaxon.Errorf(klaxon.EINVALID, "username: %q: use letters, digits, '.', '_', '-' and '@', starting with a letter or digit", username)
	}
	return nil
}

func checkRole(r klaxon.Role) error {
	if !validRole(r) {
		return klaxon.Errorf(klaxon.EINVALID, "role: missing; want viewer, responder or admin")
	}
	return nil
}

func checkName(field, v string) error {
	if utf8.RuneCountInString(v) > maxName {
		return klaxon.Errorf(klaxon.EINVALID, "%s: longer than %d characters", field, maxName)
	}
	return nil
}

// AddAccount creates an account.
func (s *Service) AddAccount(ctx context.Context, n NewAccount) (*klaxon.Account, error) {
	n.Username = strings.TrimSpace(n.Username)
	for _, err := range []error{checkUsername(n.Username), checkRole(n.Role), checkName("name", n.Name), checkName("email", n.Email)} {
		if err != nil {
			return nil, err
		}
	}
	if s.configTokenName(n.Username) {
		return nil, klaxon.Errorf(klaxon.ECONFLICT, "username: %s is the name of a configured API token; pick another", n.Username)
	}
	a := &klaxon.Account{Username: n.Username, Name: n.Name, Email: n.Email, Role: n.Role, CreatedAt: s.now()}
	if n.Password != "" {
		if err := checkNewPassword(n.Password); err != nil {
			return nil, err
		}
		a.PasswordHash = hashPassword(n.Password)
	}
	if err := s.store.Update(ctx, func(tx klaxon.Tx) error { return tx.InsertAccount(ctx, a) }); err != nil {
		return nil, fmt.Errorf("add account %s: %w", n.Username, err)
	}
	return a, nil
}

// Accounts lists every account.
func (s *Service) Accounts(ctx context.Context) ([]*klaxon.Account, error) {
	return s.store.Accounts(ctx)
}

// UpdateAccount changes an account. Disabling it or changing its password
// signs it out everywhere.
func (s *Service) UpdateAccount(ctx context.Context, username string, c AccountChange) (*klaxon.Account, error) {
	a, err := s.store.Account(ctx, username)
	if err != nil {
		return nil, err
	}
	signOut := false
	if c.Name != nil {
		if err := checkName("name", *c.Name); err != nil {
			return nil, err
		}
		a.Name = *c.Name
	}
	if c.Role != nil {
		if err := checkRole(*c.Role); err != nil {
			return nil, err
		}
		a.Role = *c.Role
	}
	if c.Password != nil {
		if err := checkNewPassword(*c.Password); err != nil {
			return nil, err
		}
		a.PasswordHash = hashPassword(*c.Password)
		signOut = true
	}
	if c.Disabled != nil {
		switch {
		case *c.Disabled && !a.Disabled():
			a.DisabledAt = s.now()
			signOut = true
		case !*c.Disabled:
			a.DisabledAt = time.Time{}
		}
	}
	err = s.store.Update(ctx, func(tx klaxon.Tx) error {
		if err := tx.UpdateAccount(ctx, a); err != nil {
			return err
		}
		if signOut {
			return tx.DeleteAccountSessions(ctx, a.ID)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("update account %s: %w", a.Username, err)
	}
	return a, nil
}
