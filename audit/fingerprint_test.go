package audit

import (
	"bytes"
	"strings"
	"testing"
)

func testFingerprinter(t *testing.T, id string, key byte) *Fingerprinter {
	t.Helper()
	f, err := NewFingerprinter(id, bytes.Repeat([]byte{key}, MinFingerprintKeyBytes))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestFingerprintMatchesFormatting(t *testing.T) {
	f := testFingerprinter(t, "k1", 7)
	tests := []struct {
		name  string
		typ   string
		a, b  string
		equal bool
	}{
		{"SSN dashes and spaces", "SSN", "999-12-3456", "999 12 3456", true},
		{"phone punctuation", "PHONE", "(555) 010-4477", "555.010.4477", true},
		{"MRN case", "MRN", "ab-00123", "AB00123", true},
		{"name case and spacing", "NAME", "Jane  Roe", "jane roe", true},
		{"different names", "NAME", "Jane Roe", "Jane Doe", false},
		{"name punctuation kept", "NAME", "O'Brien", "OBrien", false},
		{"different SSNs", "SSN", "999-12-3456", "999-12-3457", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			same := f.Fingerprint(tc.typ, tc.a) == f.Fingerprint(tc.typ, tc.b)
			if same != tc.equal {
				t.Errorf("fingerprints equal = %v, want %v", same, tc.equal)
			}
		})
	}
}

func TestFingerprintKeyedAndTyped(t *testing.T) {
	k1, k2 := testFingerprinter(t, "k1", 1), testFingerprinter(t, "k2", 2)

	if k1.Fingerprint("SSN", "999-12-3456") == k2.Fingerprint("SSN", "999-12-3456") {
		t.Error("two keys gave the same fingerprint")
	}
	if k1.Fingerprint("SSN", "123") == k1.Fingerprint("MRN", "123") {
		t.Error("the same value under two types gave the same fingerprint")
	}
	fp := k1.Fingerprint("SSN", "999-12-3456")
	if !strings.HasPrefix(fp, "SSN:") || len(fp) != len("SSN:")+32 {
		t.Errorf("fingerprint %q, want SSN: and 32 hex digits", fp)
	}
	if strings.Contains(fp, "999") {
		t.Errorf("fingerprint %q contains the value", fp)
	}
}

func TestNewFingerprinterRejectsShortKey(t *testing.T) {
	if _, err := NewFingerprinter("k1", []byte("short")); err == nil {
		t.Error("NewFingerprinter accepted a 5-byte key")
	}
	if _, err := NewFingerprinter("", bytes.Repeat([]byte{1}, 32)); err == nil {
		t.Error("NewFingerprinter accepted an empty key id")
	}
}
