package postgres

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/phigate/phigate/audit"
	"github.com/phigate/phigate/internal/pgtest"
)

// chainsWithCheckpoints writes 12 records for each of writers pod-a and
// pod-b, one at a time, with checkpoints at 5, 10 and 12 records.
func chainsWithCheckpoints(t *testing.T) (*pgtest.Database, *Options) {
	t.Helper()
	db := migrated(t)
	signer, _ := checkpointKeys(t)
	var opts Options
	for _, w := range []string{"pod-a", "pod-b"} {
		opts = storeOptions(t, db, w)
		opts.Signer, opts.CheckpointEvery = signer, 5
		s := openStore(t, opts)
		appendN(t, s, 1, 12)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return db, &opts
}

// rewriteRecord replaces a row's record line and hash column.
func rewriteRecord(conn *pgx.Conn, writer string, seq uint64, line []byte) error {
	rec, err := audit.ParseLine(line)
	if err != nil {
		return err
	}
	_, err = conn.Exec(context.Background(), "UPDATE phigate_audit.records SET record = $1, hash = $2, prev_hash = $3 WHERE writer_id = $4 AND seq = $5",
		line, rec.Hash, rec.PrevHash, writer, int64(seq))
	return err
}

func TestVerifyIntactChains(t *testing.T) {
	db, _ := chainsWithCheckpoints(t)
	_, verifier := checkpointKeys(t)

	results := verifyAll(t, db, VerifyOptions{})
	for _, w := range []string{"pod-a", "pod-b"} {
		res := results[w]
		if res.Damage != nil || res.Records != 12 || res.Checkpoints != 3 {
			t.Errorf("writer %s: %d records, %d checkpoints, damage %v; want 12 intact records and 3 checkpoints", w, res.Records, res.Checkpoints, res.Damage)
		}
	}

	// A key other than the signer's must not verify the checkpoints.
	res := verifyAll(t, db, VerifyOptions{Verifier: verifier, Writer: "pod-a"})
	if len(res) != 1 || res["pod-a"].Damage == nil || !strings.Contains(res["pod-a"].Damage.Reason, "signature") {
		t.Errorf("Verify with another key = %+v, want a signature damage for pod-a only", res)
	}
}

func TestVerifyEmptyStore(t *testing.T) {
	db := migrated(t)
	if results := verifyAll(t, db, VerifyOptions{}); len(results) != 0 {
		t.Errorf("Verify of an empty store = %+v, want no writers", results)
	}
}

// TestVerifyFindsTampering edits the database as its owner with the
// triggers disabled, one kind of damage per case, and checks that Verify
// names the first damaged record of the damaged chain and leaves the other
// chain intact.
func TestVerifyFindsTampering(t *testing.T) {
	tests := []struct {
		name       string
		tamper     func(t *testing.T, db *pgtest.Database)
		writer     string
		wantLine   int
		wantReason string
		// bothDamaged is set when the damage touches both chains.
		bothDamaged bool
	}{
		{
			name: "edited record",
			tamper: func(t *testing.T, db *pgtest.Database) {
				tamper(t, db, `UPDATE phigate_audit.records SET record = convert_to(replace(convert_from(record, 'UTF8'), '"action":"allow"', '"action":"deny"'), 'UTF8') WHERE writer_id = 'pod-a' AND seq = 4`)
			},
			writer: "pod-a", wantLine: 4, wantReason: "hash does not match",
		},
		{
			name: "edited column",
			tamper: func(t *testing.T, db *pgtest.Database) {
				tamper(t, db, `UPDATE phigate_audit.records SET provider = 'openai' WHERE writer_id = 'pod-a' AND seq = 6`)
			},
			writer: "pod-a", wantLine: 6, wantReason: "column provider",
		},
		{
			name: "edited time column",
			tamper: func(t *testing.T, db *pgtest.Database) {
				tamper(t, db, `UPDATE phigate_audit.records SET recorded_at = recorded_at - interval '1 day' WHERE writer_id = 'pod-a' AND seq = 9`)
			},
			writer: "pod-a", wantLine: 9, wantReason: "column recorded_at",
		},
		{
			name: "edited record rehashed",
			tamper: func(t *testing.T, db *pgtest.Database) {
				line := storedChain(t, db, "pod-a")[3]
				forged := relink(t, [][]byte{line}, func(r *audit.Record) { r.Action = "deny" })[0]
				tamperWith(t, db, func(conn *pgx.Conn) error { return rewriteRecord(conn, "pod-a", 4, forged) })
			},
			writer: "pod-a", wantLine: 5, wantReason: "prev_hash",
		},
		{
			name: "deleted record",
			tamper: func(t *testing.T, db *pgtest.Database) {
				tamper(t, db, `DELETE FROM phigate_audit.records WHERE writer_id = 'pod-a' AND seq = 5`)
			},
			writer: "pod-a", wantLine: 5, wantReason: "sequence number is 6, want 5",
		},
		{
			name: "inserted record",
			tamper: func(t *testing.T, db *pgtest.Database) {
				tamper(t, db,
					`UPDATE phigate_audit.records SET seq = seq + 1000 WHERE writer_id = 'pod-a' AND seq >= 7`,
					`UPDATE phigate_audit.records SET seq = seq - 999 WHERE writer_id = 'pod-a' AND seq >= 1007`,
					`INSERT INTO phigate_audit.records SELECT writer_id, 7, hash, prev_hash, recorded_at, request_id, kind, provider, tenant, record FROM phigate_audit.records WHERE writer_id = 'pod-a' AND seq = 3`,
				)
			},
			writer: "pod-a", wantLine: 7, wantReason: "sequence number is 3, want 7",
		},
		{
			name: "reordered records",
			tamper: func(t *testing.T, db *pgtest.Database) {
				tamper(t, db,
					`UPDATE phigate_audit.records SET seq = 1002 WHERE writer_id = 'pod-a' AND seq = 2`,
					`UPDATE phigate_audit.records SET seq = 2 WHERE writer_id = 'pod-a' AND seq = 8`,
					`UPDATE phigate_audit.records SET seq = 8 WHERE writer_id = 'pod-a' AND seq = 1002`,
				)
			},
			writer: "pod-a", wantLine: 2, wantReason: "sequence number is 8, want 2",
		},
		{
			name: "truncated after a checkpoint",
			tamper: func(t *testing.T, db *pgtest.Database) {
				tamper(t, db, `DELETE FROM phigate_audit.records WHERE writer_id = 'pod-a' AND seq > 10`)
			},
			writer: "pod-a", wantLine: 11, wantReason: "cut off the end",
		},
		{
			name: "chain rewritten after an edit",
			tamper: func(t *testing.T, db *pgtest.Database) {
				lines := storedChain(t, db, "pod-a")
				forged := relink(t, lines[6:], func(r *audit.Record) { r.Action = "deny" })
				tamperWith(t, db, func(conn *pgx.Conn) error {
					for i, line := range forged {
						if err := rewriteRecord(conn, "pod-a", uint64(7+i), line); err != nil {
							return err
						}
					}
					return nil
				})
			},
			writer: "pod-a", wantLine: 6, wantReason: "records 6 to 10 do not match the signed checkpoint",
		},
		{
			name: "forged checkpoint",
			tamper: func(t *testing.T, db *pgtest.Database) {
				tamper(t, db, `UPDATE phigate_audit.checkpoints SET tree_size = 4 WHERE writer_id = 'pod-a' AND tree_size = 5`)
			},
			writer: "pod-a", wantReason: "checkpoint 1",
		},
		{
			name: "record moved to another writer",
			tamper: func(t *testing.T, db *pgtest.Database) {
				tamper(t, db, `UPDATE phigate_audit.records SET writer_id = 'pod-b', seq = 13 WHERE writer_id = 'pod-a' AND seq = 12`)
			},
			writer: "pod-b", wantLine: 13, wantReason: "sequence number is 12, want 13", bothDamaged: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, _ := chainsWithCheckpoints(t)
			tt.tamper(t, db)

			results := verifyAll(t, db, VerifyOptions{})

			res := results[tt.writer]
			if res.Damage == nil {
				t.Fatalf("Verify found no damage in writer %s's chain (%d records)", tt.writer, res.Records)
			}
			if tt.wantLine != 0 && res.Damage.Line != tt.wantLine {
				t.Errorf("damage at record %d, want %d (%s)", res.Damage.Line, tt.wantLine, res.Damage.Reason)
			}
			if !strings.Contains(res.Damage.Reason, tt.wantReason) {
				t.Errorf("damage reason = %q, want it to contain %q", res.Damage.Reason, tt.wantReason)
			}
			for w, other := range results {
				if w != tt.writer && !tt.bothDamaged && other.Damage != nil {
					t.Errorf("writer %s's untouched chain has damage: %v", w, other.Damage)
				}
			}
			if tt.bothDamaged {
				if other := results["pod-a"]; other.Damage == nil || !strings.Contains(other.Damage.Reason, "cut off the end") {
					t.Errorf("writer pod-a after losing its last record: damage %v, want records cut off the end", other.Damage)
				}
			}
		})
	}
}

func TestVerifyOneWriter(t *testing.T) {
	db, _ := chainsWithCheckpoints(t)
	tamper(t, db, `DELETE FROM phigate_audit.records WHERE writer_id = 'pod-b' AND seq = 2`)

	results := verifyAll(t, db, VerifyOptions{Writer: "pod-a"})

	if len(results) != 1 || results["pod-a"].Damage != nil {
		t.Errorf("Verify of pod-a only = %+v, want one intact result", results)
	}
	if got := fmt.Sprint(verifyAll(t, db, VerifyOptions{Writer: "pod-b"})["pod-b"].Damage); !strings.Contains(got, "line 2") {
		t.Errorf("Verify of pod-b = %s, want damage at line 2", got)
	}
}
