package audit

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/transparency-dev/merkle/rfc6962"
)

func TestLinkMatchesFileLog(t *testing.T) {
	lines := writeLog(t, 3)
	first, err := ParseLine([]byte(lines[0]))
	if err != nil {
		t.Fatalf("ParseLine of a FileLog line: %v", err)
	}
	at, err := time.Parse(time.RFC3339Nano, first.Time)
	if err != nil {
		t.Fatal(err)
	}

	rec := sampleRecord(1)
	line, err := Link(rec, 1, "", at)
	if err != nil {
		t.Fatalf("Link: %v", err)
	}
	if string(line) != lines[0] {
		t.Errorf("Link line =\n%s\nwant the FileLog line\n%s", line, lines[0])
	}
}

func TestLinkedChainVerifies(t *testing.T) {
	var log bytes.Buffer
	prev := ""
	now := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	for i := 1; i <= 4; i++ {
		rec := sampleRecord(i)
		rec.Writer = "pod-a"
		line, err := Link(rec, uint64(i), prev, now)
		if err != nil {
			t.Fatal(err)
		}
		log.Write(append(line, '\n'))
		prev = rec.Hash
	}

	res, err := Verify(&log)
	if err != nil || res.Records != 4 {
		t.Errorf("Verify of linked records = %+v, %v; want 4 intact", res, err)
	}
}

func TestParseLineRejectsDamage(t *testing.T) {
	good := writeLog(t, 1)[0]
	tests := []struct {
		name string
		line string
		want string
	}{
		{name: "edited", line: strings.Replace(good, `"clinic-a"`, `"clinic-b"`, 1), want: "hash does not match"},
		{name: "not JSON", line: good[:20], want: "does not decode"},
		{name: "unknown field", line: strings.Replace(good, `{"v":1,`, `{"v":1,"extra":1,`, 1), want: "does not decode"},
		{name: "spaces", line: strings.Replace(good, `{"v":1,`, `{"v": 1,`, 1), want: "not in canonical encoding"},
		{name: "version", line: strings.Replace(good, `{"v":1,`, `{"v":7,`, 1), want: "unsupported record version 7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseLine([]byte(tt.line))
			if !errors.Is(err, ErrInvalidLine) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseLine = %v, want ErrInvalidLine containing %q", err, tt.want)
			}
		})
	}
}

func TestMerkleTreeLeafHashMatchesLine(t *testing.T) {
	lines := writeLog(t, 5)
	byLine, byHash := NewMerkleTree(), NewMerkleTree()
	for _, l := range lines {
		byLine.Append([]byte(l))
		if err := byHash.AppendLeafHash(rfc6962.DefaultHasher.HashLeaf([]byte(l))); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(byLine.t.root(), byHash.t.root()) || byLine.Size() != 5 {
		t.Error("trees built from lines and from leaf hashes differ")
	}
	if err := byHash.AppendLeafHash([]byte("short")); err == nil {
		t.Error("AppendLeafHash of a 5-byte hash succeeded, want an error")
	}
}

func FuzzParseLine(f *testing.F) {
	for _, l := range writeLog(f, 2) {
		f.Add([]byte(l))
	}
	f.Add([]byte(`{"v":1,"writer":"pod-a","seq":1,"kind":"decision","time":"","request_id":"","prev_hash":""}`))
	f.Add([]byte(""))

	f.Fuzz(func(t *testing.T, line []byte) {
		rec, err := ParseLine(line)
		if err != nil {
			if !errors.Is(err, ErrInvalidLine) {
				t.Fatalf("ParseLine error %v does not wrap ErrInvalidLine", err)
			}
			return
		}
		again, err := rec.canonicalWithHash()
		if err != nil || !bytes.Equal(again, line) {
			t.Fatalf("accepted line %q does not re-encode to itself", line)
		}
	})
}
