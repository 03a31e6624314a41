// Package pgtest gives tests a PostgreSQL database of their own on the
// server named by ANSHIM_TEST_PG, dropped when the test ends. Without the
// variable a test is skipped loudly, or fails under CI.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// envDSN names the environment variable with the address of a PostgreSQL
// server where the tests may create and drop databases.
const envDSN = "ANSHIM_TEST_PG"

// DSN returns the test server's address. Without one the test is
// skipped, loudly, or fails under CI (CI set), where a skipped store
// backend would pass unnoticed.
func DSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv(envDSN)
	if dsn == "" {
		if os.Getenv("CI") != "" {
			tb.Fatalf("%s is not set under CI: the PostgreSQL store would go untested (set %s=postgres://...)", envDSN, envDSN)
		}
		tb.Skip("NOT RUN: set " + envDSN + "=postgres://... to run the PostgreSQL conformance suite")
	}
	return dsn
}

// withDatabase returns dsn naming the database name instead of its own.
func withDatabase(dsn, name string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", err
		}
		u.Path, u.RawPath = "/"+name, ""
		return u.String(), nil
	}
	return dsn + " dbname=" + name, nil // key=value form: the last value wins
}

// NewDatabase creates an empty database on the test server and returns
// its address; the database is dropped (its connections closed) when the
// test ends.
func NewDatabase(tb testing.TB) string {
	tb.Helper()
	admin := DSN(tb)
	var rnd [8]byte
	rand.Read(rnd[:])
	name := "anshim_test_" + hex.EncodeToString(rnd[:])
	dsn, err := withDatabase(admin, name)
	if err != nil {
		tb.Fatalf("%s: %v", envDSN, err)
	}
	adminExec(tb, admin, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	tb.Cleanup(func() {
		adminExec(tb, admin, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	})
	return dsn
}

// adminExec runs sql outside a transaction on the test server.
func adminExec(tb testing.TB, dsn, sql string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		tb.Fatalf("connect to the test server (%s): %v", envDSN, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
}
