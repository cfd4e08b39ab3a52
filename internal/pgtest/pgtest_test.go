package pgtest

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { os.Exit(Main(m, Options{})) }

func TestServerStopAndResume(t *testing.T) {
	db := NewDatabase(t)
	srv := db.Server()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	conn, err := pgx.Connect(ctx, db.OwnerDSN())
	if err != nil {
		t.Fatalf("connecting as the owner: %v", err)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE kept (n int); INSERT INTO kept VALUES (7)"); err != nil {
		t.Fatalf("creating a table: %v", err)
	}
	conn.Close(ctx)

	if err := srv.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if _, err := pgx.Connect(ctx, db.OwnerDSN()); err == nil {
		t.Fatal("connecting to a stopped server succeeded")
	}
	if err := srv.Resume(); err != nil {
		t.Fatalf("Resume: %v", err)
	}

	conn, err = pgx.Connect(ctx, db.OwnerDSN())
	if err != nil {
		t.Fatalf("connecting after Resume: %v", err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT n FROM kept").Scan(&n); err != nil {
		t.Fatalf("reading the table after Resume: %v", err)
	}
	if n != 7 {
		t.Errorf("kept row = %d, want 7", n)
	}
}

func TestSocketDSN(t *testing.T) {
	db := NewDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	conn, err := pgx.Connect(ctx, db.Server().SocketDSN(db.Owner, db.Name))
	if err != nil {
		t.Fatalf("connecting over the unix socket: %v", err)
	}
	defer conn.Close(ctx)
	var user string
	if err := conn.QueryRow(ctx, "SELECT current_user").Scan(&user); err != nil {
		t.Fatal(err)
	}
	if user != db.Owner {
		t.Errorf("current_user = %q, want %q", user, db.Owner)
	}
}
