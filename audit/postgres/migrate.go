package postgres

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Schema is the PostgreSQL schema that holds the audit tables.
const Schema = "phigate_audit"

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Advisory lock keys. The migration lock uses the two-key form and writer
// locks the one-key form; PostgreSQL keeps the two forms apart, so they
// cannot collide.
const (
	lockClassMigrations = 0x70686761 // "phga"
	lockMigrations      = 1
)

// migration is one numbered SQL file.
type migration struct {
	version int
	name    string
	sql     string
	sum     string
}

// loadMigrations reads NNNN_name.sql files from dir in fsys, sorted by
// version. Versions must be unique and positive.
func loadMigrations(fsys fs.FS, dir string) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("reading migrations: %w", err)
	}
	var out []migration
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".sql") {
			continue
		}
		prefix, _, ok := strings.Cut(name, "_")
		version, err := strconv.Atoi(prefix)
		if !ok || err != nil || version <= 0 {
			return nil, fmt.Errorf("migration %s: invalid name: want NNNN_description.sql with a positive number", name)
		}
		data, err := fs.ReadFile(fsys, path.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("reading migration %s: %w", name, err)
		}
		sum := sha256.Sum256(data)
		out = append(out, migration{version: version, name: name, sql: string(data), sum: hex.EncodeToString(sum[:])})
	}
	slices.SortFunc(out, func(a, b migration) int { return a.version - b.version })
	for i := 1; i < len(out); i++ {
		if out[i].version == out[i-1].version {
			return nil, fmt.Errorf("migrations %s and %s have the same version", out[i-1].name, out[i].name)
		}
	}
	return out, nil
}

// MigrateOptions configures Migrate.
type MigrateOptions struct {
	// WriterRole, when set, is granted what phigate needs to write: USAGE
	// on the schema, INSERT and SELECT on records and checkpoints, and
	// SELECT on schema_migrations and anchors. Nothing else.
	WriterRole string
}

// MigrationResult lists what Migrate did.
type MigrationResult struct {
	// Applied names the migration files applied by this call, in order.
	Applied []string
	// Version is the schema version after the call.
	Version int
}

// Migrate brings the audit schema up to date: it applies, in version
// order, every embedded migration not yet listed in
// phigate_audit.schema_migrations, then grants the writer role its
// privileges. Everything runs in one transaction under an advisory lock,
// so replicas starting together apply each migration once, and a failed
// migration leaves the schema as it was.
//
// A role without CREATE privileges may call Migrate when nothing is
// pending; it then only reads schema_migrations. Migrate fails when the
// database lists a migration this build does not have (a newer phigate
// migrated it) or one whose file has changed since it was applied.
func Migrate(ctx context.Context, conn *pgx.Conn, opts MigrateOptions) (MigrationResult, error) {
	migrations, err := loadMigrations(migrationFiles, "migrations")
	if err != nil {
		return MigrationResult{}, err
	}
	return migrate(ctx, conn, migrations, opts)
}

func migrate(ctx context.Context, conn *pgx.Conn, migrations []migration, opts MigrateOptions) (MigrationResult, error) {
	var res MigrationResult
	tx, err := conn.Begin(ctx)
	if err != nil {
		return res, fmt.Errorf("starting migration transaction: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit

	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1, $2)", lockClassMigrations, lockMigrations); err != nil {
		return res, fmt.Errorf("taking the migration lock: %w", err)
	}

	// CREATE ... IF NOT EXISTS checks the CREATE privilege even when the
	// object exists, so the writer role looks before it leaps.
	var exists bool
	if err := tx.QueryRow(ctx, "SELECT to_regclass('"+Schema+".schema_migrations') IS NOT NULL").Scan(&exists); err != nil {
		return res, fmt.Errorf("looking for schema_migrations: %w", err)
	}
	if !exists {
		_, err := tx.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+Schema+`;
CREATE TABLE `+Schema+`.schema_migrations (
    version    integer     PRIMARY KEY,
    name       text        NOT NULL,
    sha256     text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)`)
		if err != nil {
			return res, fmt.Errorf("creating %s.schema_migrations (migrations need the owner role, see audit.postgres.owner_dsn_env): %w", Schema, err)
		}
	}

	applied, err := appliedMigrations(ctx, tx)
	if err != nil {
		return res, err
	}
	known := make(map[int]migration, len(migrations))
	for _, m := range migrations {
		known[m.version] = m
	}
	// In version order, so that the first problem is reported every time.
	for _, version := range slices.Sorted(maps.Keys(applied)) {
		sum := applied[version]
		m, ok := known[version]
		if !ok {
			return res, fmt.Errorf("the audit schema has migration %d, which this phigate does not know: a newer phigate migrated the database; upgrade this one", version)
		}
		if m.sum != sum {
			return res, fmt.Errorf("migration %s changed after it was applied (sha256 %s in the database, %s now): restore the original file", m.name, sum, m.sum)
		}
		res.Version = max(res.Version, version)
	}

	for _, m := range migrations {
		if _, ok := applied[m.version]; ok {
			continue
		}
		if _, err := tx.Exec(ctx, m.sql); err != nil {
			return res, fmt.Errorf("applying migration %s (migrations need the owner role, see audit.postgres.owner_dsn_env): %w", m.name, err)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO "+Schema+".schema_migrations (version, name, sha256) VALUES ($1, $2, $3)", m.version, m.name, m.sum); err != nil {
			return res, fmt.Errorf("recording migration %s: %w", m.name, err)
		}
		res.Applied = append(res.Applied, m.name)
		res.Version = m.version
	}

	if opts.WriterRole != "" {
		if err := grantWriter(ctx, tx, opts.WriterRole); err != nil {
			return res, err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return res, fmt.Errorf("committing migrations: %w", err)
	}
	return res, nil
}

func appliedMigrations(ctx context.Context, tx pgx.Tx) (map[int]string, error) {
	rows, err := tx.Query(ctx, "SELECT version, sha256 FROM "+Schema+".schema_migrations")
	if err != nil {
		return nil, fmt.Errorf("reading schema_migrations: %w", err)
	}
	applied := map[int]string{}
	var version int
	var sum string
	_, err = pgx.ForEachRow(rows, []any{&version, &sum}, func() error {
		applied[version] = sum
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading schema_migrations: %w", err)
	}
	return applied, nil
}

// WriterGrants returns the statements that give role exactly the
// privileges phigate needs to write the audit store. Migrate runs them when
// MigrateOptions.WriterRole is set; operators who migrate by hand run them
// as the owner.
func WriterGrants(role string) []string {
	r := pgx.Identifier{role}.Sanitize()
	return []string{
		"GRANT USAGE ON SCHEMA " + Schema + " TO " + r,
		"GRANT SELECT, INSERT ON " + Schema + ".records, " + Schema + ".checkpoints TO " + r,
		"GRANT SELECT ON " + Schema + ".schema_migrations, " + Schema + ".anchors TO " + r,
	}
}

func grantWriter(ctx context.Context, tx pgx.Tx, role string) error {
	for _, stmt := range WriterGrants(role) {
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("granting the writer role %q its privileges: %w", role, err)
		}
	}
	return nil
}
