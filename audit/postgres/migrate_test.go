package postgres

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/phigate/phigate/internal/pgtest"
)

func TestMigrateIdempotent(t *testing.T) {
	db := pgtest.NewDatabase(t)
	conn := connect(t, db.OwnerDSN())
	ctx := context.Background()

	first, err := Migrate(ctx, conn, MigrateOptions{})
	if err != nil {
		t.Fatalf("first Migrate: %v", err)
	}
	all := []string{"0001_audit_tables.sql", "0002_archive_anchors.sql"}
	if !slices.Equal(first.Applied, all) || first.Version != 2 {
		t.Errorf("first Migrate = %+v, want %v applied, version 2", first, all)
	}

	second, err := Migrate(ctx, conn, MigrateOptions{})
	if err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	if len(second.Applied) != 0 || second.Version != 2 {
		t.Errorf("second Migrate = %+v, want nothing applied, version 2", second)
	}
}

func TestMigrateConcurrentReplicas(t *testing.T) {
	db := pgtest.NewDatabase(t)
	const replicas = 4

	var wg sync.WaitGroup
	results := make([]MigrationResult, replicas)
	errs := make([]error, replicas)
	for i := range replicas {
		conn := connect(t, db.OwnerDSN())
		wg.Go(func() {
			results[i], errs[i] = Migrate(context.Background(), conn, MigrateOptions{})
		})
	}
	wg.Wait()

	applied := 0
	for i := range replicas {
		if errs[i] != nil {
			t.Errorf("replica %d: Migrate: %v", i, errs[i])
		}
		applied += len(results[i].Applied)
	}
	embedded, err := loadMigrations(migrationFiles, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	if applied != len(embedded) {
		t.Errorf("replicas applied %d migrations in all, want each of the %d applied once", applied, len(embedded))
	}
}

func TestMigrateAppliesOnlyNewFiles(t *testing.T) {
	db := pgtest.NewDatabase(t)
	conn := connect(t, db.OwnerDSN())
	ctx := context.Background()
	if _, err := Migrate(ctx, conn, MigrateOptions{}); err != nil {
		t.Fatalf("Migrate: %v", err)
	}

	embedded, err := loadMigrations(migrationFiles, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{
		"m/9999_note_index.sql": {Data: []byte("CREATE INDEX records_kind ON phigate_audit.records (kind);")},
	}
	for _, m := range embedded {
		fsys["m/"+m.name] = &fstest.MapFile{Data: []byte(m.sql)}
	}
	next, err := loadMigrations(fsys, "m")
	if err != nil {
		t.Fatal(err)
	}

	res, err := migrate(ctx, conn, next, MigrateOptions{})
	if err != nil {
		t.Fatalf("migrate with a new file: %v", err)
	}
	if !slices.Equal(res.Applied, []string{"9999_note_index.sql"}) || res.Version != 9999 {
		t.Errorf("migrate = %+v, want only 9999_note_index.sql applied, version 9999", res)
	}

	// This build's embedded list lacks 9999, now in the database.
	if _, err := Migrate(ctx, conn, MigrateOptions{}); err == nil || !strings.Contains(err.Error(), "newer phigate") {
		t.Errorf("Migrate after a newer migration = %v, want an error naming a newer phigate", err)
	}
}

func TestMigrateRejectsChangedFile(t *testing.T) {
	db := pgtest.NewDatabase(t)
	conn := connect(t, db.OwnerDSN())
	ctx := context.Background()
	if _, err := Migrate(ctx, conn, MigrateOptions{}); err != nil {
		t.Fatalf("Migrate: %v", err)
	}

	changed, err := loadMigrations(fstest.MapFS{"m/0001_audit_tables.sql": {Data: []byte("SELECT 1;")}}, "m")
	if err != nil {
		t.Fatal(err)
	}
	_, err = migrate(ctx, conn, changed, MigrateOptions{})
	if err == nil || !strings.Contains(err.Error(), "changed after it was applied") {
		t.Errorf("migrate with an edited file = %v, want a changed-file error", err)
	}
}

func TestLoadMigrationsRejectsBadNames(t *testing.T) {
	tests := []struct {
		name  string
		files fstest.MapFS
		want  string
	}{
		{name: "no number", files: fstest.MapFS{"m/init.sql": {}}, want: "invalid name"},
		{name: "zero", files: fstest.MapFS{"m/0000_init.sql": {}}, want: "invalid name"},
		{name: "duplicate version", files: fstest.MapFS{"m/0001_a.sql": {}, "m/1_b.sql": {}}, want: "same version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadMigrations(tt.files, "m")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("loadMigrations = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestMigrateNeedsOwnerForPendingFiles(t *testing.T) {
	db := pgtest.NewDatabase(t)
	conn := connect(t, db.WriterDSN())

	_, err := Migrate(context.Background(), conn, MigrateOptions{})

	if err == nil || !strings.Contains(err.Error(), "owner_dsn_env") {
		t.Errorf("Migrate as a role without CREATE = %v, want an error pointing at owner_dsn_env", err)
	}
}

// TestAppendOnly checks both defences: the writer role lacks UPDATE,
// DELETE and TRUNCATE privileges, and the triggers reject those statements
// even from the owner.
func TestAppendOnly(t *testing.T) {
	db := migrated(t)
	s := openStore(t, storeOptions(t, db, "pod-a"))
	appendN(t, s, 1, 3)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// A checkpoint row, so the checkpoints table's rules are tested on a
	// row too.
	owner := connect(t, db.OwnerDSN())
	if _, err := owner.Exec(context.Background(), "INSERT INTO phigate_audit.checkpoints (writer_id, tree_size, note) VALUES ('pod-a', 3, 'test note')"); err != nil {
		t.Fatal(err)
	}

	statements := []struct {
		name string
		sql  string
	}{
		{"update record", "UPDATE phigate_audit.records SET tenant = 'clinic-b' WHERE seq = 2"},
		{"delete record", "DELETE FROM phigate_audit.records WHERE seq = 3"},
		{"truncate records", "TRUNCATE phigate_audit.records"},
		{"update checkpoint", "UPDATE phigate_audit.checkpoints SET tree_size = 2"},
		{"delete checkpoint", "DELETE FROM phigate_audit.checkpoints"},
		{"truncate checkpoints", "TRUNCATE phigate_audit.checkpoints"},
	}
	roles := []struct {
		name string
		dsn  string
		want string
	}{
		{"writer", db.WriterDSN(), "permission denied"},
		{"owner", db.OwnerDSN(), "is append-only"},
	}
	for _, role := range roles {
		conn := connect(t, role.dsn)
		for _, st := range statements {
			t.Run(role.name+" "+st.name, func(t *testing.T) {
				_, err := conn.Exec(context.Background(), st.sql)

				var pgErr *pgconn.PgError
				if !errors.As(err, &pgErr) {
					t.Fatalf("%s = %v, want a PostgreSQL error", st.sql, err)
				}
				if pgErr.Code != "42501" {
					t.Errorf("SQLSTATE = %s, want 42501 (insufficient_privilege)", pgErr.Code)
				}
				if !strings.Contains(pgErr.Message, role.want) {
					t.Errorf("message = %q, want it to contain %q", pgErr.Message, role.want)
				}
			})
		}
	}

	rows, _ := countRows(t, db, "pod-a")
	if rows != 3 {
		t.Errorf("records after the rejected statements = %d, want 3", rows)
	}
}

func TestWriterRoleCanInsertAndSelect(t *testing.T) {
	db := migrated(t)
	conn := connect(t, db.WriterDSN())
	ctx := context.Background()

	if _, err := conn.Exec(ctx, "INSERT INTO phigate_audit.checkpoints (writer_id, tree_size, note) VALUES ('pod-a', 1, 'n')"); err != nil {
		t.Errorf("writer INSERT: %v", err)
	}
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM phigate_audit.checkpoints").Scan(&n); err != nil {
		t.Errorf("writer SELECT: %v", err)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE phigate_audit.extra (n int)"); err == nil {
		t.Error("writer CREATE TABLE in the audit schema succeeded, want permission denied")
	}
}
