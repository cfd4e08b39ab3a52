package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// writeLog writes a log of n records and returns its lines, without
// newlines.
func writeLog(t testing.TB, n int) []string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l := openLog(t, path)
	appendRecords(t, l, 1, n)
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

func joinLines(lines []string) string {
	return strings.Join(lines, "\n") + "\n"
}

// replaceOnce replaces old with new in s and fails the test unless old
// occurs exactly once.
func replaceOnce(t *testing.T, s, old, new string) string {
	t.Helper()
	if n := strings.Count(s, old); n != 1 {
		t.Fatalf("line contains %q %d times, want once", old, n)
	}
	return strings.Replace(s, old, new, 1)
}

func TestVerifyIntactLog(t *testing.T) {
	lines := writeLog(t, 10)
	res, err := Verify(strings.NewReader(joinLines(lines)))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if res.Records != 10 {
		t.Errorf("Records = %d, want 10", res.Records)
	}
	if !strings.Contains(lines[9], `"hash":"`+res.LastHash+`"`) {
		t.Errorf("LastHash %q is not the hash of the last line", res.LastHash)
	}
}

func TestVerifyEmptyLog(t *testing.T) {
	res, err := Verify(strings.NewReader(""))
	if err != nil {
		t.Fatalf("Verify of an empty log: %v", err)
	}
	if res.Records != 0 || res.LastHash != "" {
		t.Errorf("Verify of an empty log = %+v, want zero records and no hash", res)
	}
}

func TestVerifyDamage(t *testing.T) {
	tests := []struct {
		name       string
		damage     func(t *testing.T, lines []string) string
		wantLine   int
		wantReason string
	}{
		{
			name: "edited field",
			damage: func(t *testing.T, lines []string) string {
				lines[3] = replaceOnce(t, lines[3], `"tenant":"clinic-a"`, `"tenant":"clinic-b"`)
				return joinLines(lines)
			},
			wantLine:   4,
			wantReason: "hash does not match",
		},
		{
			name: "edited field rehashed",
			damage: func(t *testing.T, lines []string) string {
				lines[3] = rehash(t, replaceOnce(t, lines[3], `"action":"allow"`, `"action":"deny"`))
				return joinLines(lines)
			},
			wantLine:   5,
			wantReason: "prev_hash",
		},
		{
			name: "edited version",
			damage: func(t *testing.T, lines []string) string {
				lines[6] = replaceOnce(t, lines[6], `{"v":1,`, `{"v":2,`)
				return joinLines(lines)
			},
			wantLine:   7,
			wantReason: "unsupported record version 2",
		},
		{
			name: "deleted record",
			damage: func(t *testing.T, lines []string) string {
				return joinLines(slices.Delete(lines, 4, 5))
			},
			wantLine:   5,
			wantReason: "sequence number is 6, want 5",
		},
		{
			name: "deleted first record",
			damage: func(t *testing.T, lines []string) string {
				return joinLines(lines[1:])
			},
			wantLine:   1,
			wantReason: "sequence number is 2, want 1",
		},
		{
			name: "inserted copy",
			damage: func(t *testing.T, lines []string) string {
				return joinLines(slices.Insert(lines, 6, lines[2]))
			},
			wantLine:   7,
			wantReason: "sequence number is 3, want 7",
		},
		{
			name: "duplicated record",
			damage: func(t *testing.T, lines []string) string {
				return joinLines(slices.Insert(lines, 3, lines[2]))
			},
			wantLine:   4,
			wantReason: "sequence number is 3, want 4",
		},
		{
			name: "swapped records",
			damage: func(t *testing.T, lines []string) string {
				lines[1], lines[7] = lines[7], lines[1]
				return joinLines(lines)
			},
			wantLine:   2,
			wantReason: "sequence number is 8, want 2",
		},
		{
			name: "swapped neighbours",
			damage: func(t *testing.T, lines []string) string {
				lines[4], lines[5] = lines[5], lines[4]
				return joinLines(lines)
			},
			wantLine:   5,
			wantReason: "sequence number is 6, want 5",
		},
		{
			name: "torn last line",
			damage: func(t *testing.T, lines []string) string {
				last := lines[9]
				lines[9] = last[:len(last)/2]
				return strings.Join(lines, "\n")
			},
			wantLine:   10,
			wantReason: "does not decode",
		},
		{
			name: "torn last line with newline",
			damage: func(t *testing.T, lines []string) string {
				last := lines[9]
				lines[9] = last[:len(last)/2]
				return joinLines(lines)
			},
			wantLine:   10,
			wantReason: "does not decode",
		},
		{
			name: "unknown field",
			damage: func(t *testing.T, lines []string) string {
				lines[5] = replaceOnce(t, lines[5], `{"v":1,`, `{"v":1,"patient":"Jane Roe",`)
				return joinLines(lines)
			},
			wantLine:   6,
			wantReason: "unknown field",
		},
		{
			name: "extra spaces",
			damage: func(t *testing.T, lines []string) string {
				lines[2] = replaceOnce(t, lines[2], `{"v":1,"seq":3,`, `{"v": 1, "seq": 3, `)
				return joinLines(lines)
			},
			wantLine:   3,
			wantReason: "not in canonical encoding",
		},
		{
			name: "trailing value",
			damage: func(t *testing.T, lines []string) string {
				lines[8] += ` {}`
				return joinLines(lines)
			},
			wantLine:   9,
			wantReason: "not in canonical encoding",
		},
		{
			name: "CRLF line ends",
			damage: func(t *testing.T, lines []string) string {
				return strings.ReplaceAll(joinLines(lines), "\n", "\r\n")
			},
			wantLine:   1,
			wantReason: "not in canonical encoding",
		},
		{
			name: "blank line",
			damage: func(t *testing.T, lines []string) string {
				return joinLines(slices.Insert(lines, 5, ""))
			},
			wantLine:   6,
			wantReason: "does not decode",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			damaged := tt.damage(t, writeLog(t, 10))

			res, err := Verify(strings.NewReader(damaged))
			var damage *Damage
			if !errors.As(err, &damage) {
				t.Fatalf("Verify = %v, want a *Damage error", err)
			}
			if damage.Line != tt.wantLine {
				t.Errorf("Damage.Line = %d, want %d (reason: %s)", damage.Line, tt.wantLine, damage.Reason)
			}
			if !strings.Contains(damage.Reason, tt.wantReason) {
				t.Errorf("Damage.Reason = %q, want it to contain %q", damage.Reason, tt.wantReason)
			}
			if res.Records != tt.wantLine-1 {
				t.Errorf("Records = %d, want %d records verified before the damage", res.Records, tt.wantLine-1)
			}
			if want := fmt.Sprintf("line %d: ", tt.wantLine); !strings.HasPrefix(damage.Error(), want) {
				t.Errorf("Damage.Error() = %q, want it to start with %q", damage.Error(), want)
			}
		})
	}
}

// TestVerifyTailTruncation shows what the chain cannot catch on its own:
// removing records from the end leaves a valid log. Callers detect it by
// comparing LastHash or Records with a value kept elsewhere.
func TestVerifyTailTruncation(t *testing.T) {
	lines := writeLog(t, 10)
	full, err := Verify(strings.NewReader(joinLines(lines)))
	if err != nil {
		t.Fatalf("Verify of the full log: %v", err)
	}

	cut, err := Verify(strings.NewReader(joinLines(lines[:9])))
	if err != nil {
		t.Fatalf("Verify of the truncated log: %v", err)
	}
	if cut.Records != 9 {
		t.Errorf("Records = %d, want 9", cut.Records)
	}
	if cut.LastHash == full.LastHash {
		t.Error("LastHash is the same after removing the last record, want it to change")
	}
}

func TestVerifyFileMissing(t *testing.T) {
	_, err := VerifyFile(filepath.Join(t.TempDir(), "missing.jsonl"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("VerifyFile of a missing file = %v, want os.ErrNotExist", err)
	}
	var damage *Damage
	if errors.As(err, &damage) {
		t.Errorf("VerifyFile of a missing file returned *Damage %v, want a read error", damage)
	}
}

// rehash recomputes the hash of an edited line, as someone forging a
// record would.
func rehash(t *testing.T, line string) string {
	t.Helper()
	var rec Record
	if err := json.Unmarshal([]byte(line), &rec); err != nil {
		t.Fatalf("decoding edited line: %v", err)
	}
	hash, err := rec.computeHash()
	if err != nil {
		t.Fatal(err)
	}
	rec.Hash = hash
	out, err := rec.canonicalWithHash()
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func FuzzVerify(f *testing.F) {
	lines := writeLog(f, 3)
	f.Add([]byte(joinLines(lines)))
	f.Add([]byte(strings.Join(lines, "\n")))
	f.Add([]byte(joinLines([]string{lines[1], lines[0]})))
	f.Add([]byte(""))
	f.Add([]byte("\n\n"))
	f.Add([]byte(`{"v":1,"seq":1,"phi_types":{"NAME":1},"prev_hash":""}` + "\n"))
	f.Add([]byte(`{"v":1,"seq":1}{"v":1}` + "\r\n"))

	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := Verify(bytes.NewReader(data))

		lineCount := bytes.Count(data, []byte{'\n'})
		if len(data) > 0 && data[len(data)-1] != '\n' {
			lineCount++
		}
		// A log whose first records were archived starts with an anchor
		// line, which is not a record.
		anchorLines := 0
		if res.Archived > 0 {
			anchorLines = 1
		}
		var damage *Damage
		switch {
		case err == nil:
			if res.Records != lineCount-anchorLines {
				t.Fatalf("Verify passed %d records in %d lines", res.Records, lineCount)
			}
		case errors.As(err, &damage):
			if damage.Line < 1 || damage.Line > lineCount {
				t.Fatalf("Damage.Line = %d, outside the %d lines", damage.Line, lineCount)
			}
			if res.Records != damage.Line-1-anchorLines {
				t.Fatalf("Records = %d with damage on line %d, want %d", res.Records, damage.Line, damage.Line-1-anchorLines)
			}
		}
	})
}
