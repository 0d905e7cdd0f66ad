// Package pgtest gives tests a fresh, empty PostgreSQL database. It is for
// tests only; keeping it out of package postgres keeps the testing package
// out of the klaxon binary.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// testURLEnv names the environment variable that points tests at a
// PostgreSQL server. Its role must be allowed to create databases.
const testURLEnv = "KLAXON_TEST_POSTGRES_URL"

// URL returns the URL of a fresh, empty database for one test, created on
// the server at $KLAXON_TEST_POSTGRES_URL and dropped when the test ends
// (after cleanups registered later, such as closing the store, have run).
// Without the variable the test is skipped, or fails if $CI is set, so CI
// cannot silently skip PostgreSQL.
func URL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(testURLEnv)
	if base == "" {
		if os.Getenv("CI") != "" {
			t.Fatal(testURLEnv + " must be set in CI")
		}
		t.Skip(testURLEnv + " is not set; skipping PostgreSQL test")
	}
	// A random name lets packages tested in parallel share one server.
	name := fmt.Sprintf("klaxon_test_%016x", rand.Uint64())
	dbURL, err := withDatabase(base, name)
	if err != nil {
		t.Fatalf("%s: %v", testURLEnv, err)
	}
	ident := pgx.Identifier{name}.Sanitize()
	if err := adminExec(base, `CREATE DATABASE `+ident); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		// FORCE ends any connection the test left open.
		if err := adminExec(base, `DROP DATABASE IF EXISTS `+ident+` WITH (FORCE)`); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	return dbURL
}

// adminExec runs one statement on its own connection. It does not use the
// test's context, which is already cancelled when cleanups run.
func adminExec(connString, sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, connString)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// withDatabase returns connString pointing at database name instead.
func withDatabase(connString, name string) (string, error) {
	if strings.HasPrefix(connString, "postgres://") || strings.HasPrefix(connString, "postgresql://") {
		u, err := url.Parse(connString)
		if err != nil {
			// Unwrapped: url.Error would print the URL, password and all.
			return "", errors.Unwrap(err)
		}
		u.Path, u.RawPath = "/"+name, ""
		return u.String(), nil
	}
	// Keyword/value form: a later setting overrides an earlier one.
	return connString + " dbname=" + name, nil
}
