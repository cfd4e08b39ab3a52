package postgres

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// These tests need no database.

func TestSpoolCutsTornLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "spool.jsonl")
	if err := os.WriteFile(path, []byte("one\ntwo\nhalf a li"), 0o600); err != nil {
		t.Fatal(err)
	}

	s, lines, err := openSpool(path, 1<<20, discardLogger())
	if err != nil {
		t.Fatalf("openSpool: %v", err)
	}
	defer s.close()

	if got := string(bytes.Join(lines, []byte("|"))); got != "one|two" {
		t.Errorf("lines = %q, want one|two", got)
	}
	data, _ := os.ReadFile(path)
	if string(data) != "one\ntwo\n" || s.size != int64(len(data)) {
		t.Errorf("spool after open = %q (size %d), want the torn line cut off", data, s.size)
	}
}

func TestSpoolAppendReadReset(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dir", "spool.jsonl")
	s, _, err := openSpool(path, 20, discardLogger())
	if err != nil {
		t.Fatalf("openSpool: %v", err)
	}
	defer s.close()

	if err := s.append([][]byte{[]byte("aaa"), []byte("bbb")}); err != nil {
		t.Fatalf("append: %v", err)
	}
	if err := s.append([][]byte{[]byte("ccc")}); err != nil {
		t.Fatalf("append: %v", err)
	}
	err = s.append([][]byte{[]byte("dddddddd")})
	if !errors.Is(err, ErrSpoolFull) {
		t.Fatalf("append past the maximum = %v, want ErrSpoolFull", err)
	}
	if s.size != 12 {
		t.Errorf("size after a rejected append = %d, want 12", s.size)
	}

	first, next, err := s.read(0, 2)
	if err != nil {
		t.Fatal(err)
	}
	rest, end, err := s.read(next, 10)
	if err != nil {
		t.Fatal(err)
	}
	if string(bytes.Join(first, []byte("|"))) != "aaa|bbb" || string(bytes.Join(rest, []byte("|"))) != "ccc" || end != s.size {
		t.Errorf("read = %q then %q ending at %d, want aaa|bbb then ccc ending at %d", first, rest, end, s.size)
	}

	if err := s.reset(); err != nil {
		t.Fatal(err)
	}
	if info, _ := os.Stat(path); !s.empty() || info.Size() != 0 {
		t.Errorf("after reset: empty %v, file size %d; want an empty file", s.empty(), info.Size())
	}
}

func TestSpoolLockedByOneProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "spool.jsonl")
	s, _, err := openSpool(path, 1<<20, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()

	_, _, err = openSpool(path, 1<<20, discardLogger())
	if err == nil || !strings.Contains(err.Error(), "another process is using it") {
		t.Errorf("second openSpool = %v, want a lock error", err)
	}
}

func FuzzOpenSpool(f *testing.F) {
	f.Add([]byte(""))
	f.Add([]byte("one\ntwo\n"))
	f.Add([]byte("one\ntwo"))
	f.Add([]byte("\n\n\r\n"))
	f.Add([]byte(`{"v":1,"writer":"pod-a","seq":1}` + "\n" + `{"v":1`))

	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "spool.jsonl")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		s, lines, err := openSpool(path, 1<<20, discardLogger())
		if err != nil {
			t.Fatalf("openSpool: %v", err)
		}
		defer s.close()

		complete := data[:bytes.LastIndexByte(data, '\n')+1]
		var joined []byte
		for _, l := range lines {
			joined = append(append(joined, l...), '\n')
		}
		if !bytes.Equal(joined, complete) {
			t.Fatalf("lines rejoin to %q, want the complete lines %q", joined, complete)
		}
		if s.size != int64(len(complete)) {
			t.Fatalf("size = %d, want %d", s.size, len(complete))
		}
		read, end, err := s.read(0, len(lines)+1)
		if err != nil || end != s.size || len(read) != len(lines) {
			t.Fatalf("read = %d lines to %d, %v; want %d lines to %d", len(read), end, err, len(lines), s.size)
		}
	})
}
