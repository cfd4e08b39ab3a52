package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// RequireEnv is the environment variable that, set to 1, turns a missing
// PostgreSQL from a skip into a failure. make test sets it.
const RequireEnv = "PHIGATE_REQUIRE_POSTGRES"

var (
	shared     *Server
	skipReason string
	databases  atomic.Int64
)

// Main starts one Server for a test package, runs its tests and removes
// the server. Call it from TestMain: os.Exit(pgtest.Main(m, opts)).
//
// When PostgreSQL is not installed, the tests that call Require skip with
// the reason, unless PHIGATE_REQUIRE_POSTGRES=1, when Main fails instead.
// A PostgreSQL that is installed but does not start always fails.
//
// A fuzzing run starts no server: fuzz targets do not use one, and every
// fuzz worker process would start its own.
func Main(m *testing.M, opts Options) int {
	if fuzzing() {
		skipReason = "fuzzing: no PostgreSQL server is started"
		return m.Run()
	}
	srv, err := Start(opts)
	switch {
	case errors.Is(err, ErrNotInstalled) && os.Getenv(RequireEnv) != "1":
		skipReason = err.Error()
	case errors.Is(err, ErrNotInstalled):
		fmt.Fprintf(os.Stderr, "pgtest: %v\n%s=1 requires PostgreSQL for these tests\n", err, RequireEnv)
		return 1
	case err != nil:
		fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
		return 1
	}
	shared = srv

	code := m.Run()

	if srv != nil {
		if err := srv.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: stopping PostgreSQL: %v\n", err)
		}
	}
	return code
}

// fuzzing reports whether the test binary runs as go test -fuzz or as
// one of its fuzz workers.
func fuzzing() bool {
	for _, arg := range os.Args[1:] {
		if strings.HasPrefix(arg, "-test.fuzz=") || strings.HasPrefix(arg, "-test.fuzzworker") {
			return true
		}
	}
	return false
}

// Require returns the server Main started, or skips the test when
// PostgreSQL is not installed.
func Require(t testing.TB) *Server {
	t.Helper()
	if shared == nil {
		if skipReason == "" {
			t.Fatal("pgtest.Require called without pgtest.Main in TestMain")
		}
		t.Skipf("skipping: %s (set %s=1 to fail instead)", skipReason, RequireEnv)
	}
	return shared
}

// Database is a new database for one test, owned by a role of its own, with
// a second login role that is granted nothing, for tests of privileges.
type Database struct {
	Name   string
	Owner  string
	Writer string
	server *Server
}

// NewDatabase creates a database and its two roles on the server Require
// returns.
func NewDatabase(t testing.TB) *Database {
	t.Helper()
	srv := Require(t)
	name := fmt.Sprintf("test_%d", databases.Add(1))
	db := &Database{Name: name, Owner: name + "_owner", Writer: name + "_writer", server: srv}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := srv.Exec(ctx, "postgres",
		fmt.Sprintf("CREATE ROLE %s LOGIN", db.Owner),
		fmt.Sprintf("CREATE ROLE %s LOGIN", db.Writer),
		fmt.Sprintf("CREATE DATABASE %s OWNER %s", db.Name, db.Owner),
	)
	if err != nil {
		t.Fatalf("creating test database: %v (server log: %s)", err, srv.LogPath())
	}
	return db
}

// OwnerDSN returns the connection string of the owner role.
func (d *Database) OwnerDSN() string { return d.server.DSN(d.Owner, d.Name) }

// WriterDSN returns the connection string of the second role.
func (d *Database) WriterDSN() string { return d.server.DSN(d.Writer, d.Name) }

// SuperuserDSN returns the connection string of the cluster's superuser
// on this database.
func (d *Database) SuperuserDSN() string { return d.server.DSN(Superuser, d.Name) }

// Server returns the server the database is on.
func (d *Database) Server() *Server { return d.server }
