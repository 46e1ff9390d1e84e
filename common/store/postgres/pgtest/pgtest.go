// Package pgtest gives tests a fresh, empty PostgreSQL schema to work in.
//
// The server comes from the environment variable IGBANK_TEST_POSTGRES (a
// pgx connection URL, such as postgres://postgres@127.0.0.1:5432/test).
// When it is unset the test is skipped with a loud message, except under
// CI (CI=true), where a missing database fails the test: CI must never
// pass by skipping the database tests. scripts/ci-postgres sets it up.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvVar names the environment variable holding the test server's URL.
const EnvVar = "IGBANK_TEST_POSTGRES"

// BaseURL returns the test server's URL, or skips (fails under CI) when
// there is none.
func BaseURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvVar)
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set under CI: the PostgreSQL tests must run (see scripts/ci-postgres)", EnvVar)
		}
		t.Skipf("\n\n*** SKIPPED: %s is not set, so the PostgreSQL tests did not run. ***\n"+
			"*** Run: export %s=postgres://postgres@127.0.0.1:5432/test ***\n\n", EnvVar, EnvVar)
	}
	return u
}

// Schema creates a fresh schema on the test server, drops it when the test
// ends, and returns a URL whose connections use it (search_path).
func Schema(t testing.TB) string {
	t.Helper()
	base := BaseURL(t)
	var b [6]byte
	rand.Read(b[:])
	name := "igbank_test_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to %s: %v", EnvVar, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+name); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop schema %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+name+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", name, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", EnvVar, err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}
