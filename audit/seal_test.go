package audit

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// testSealKey returns a fixed 32-byte key whose bytes are all fill.
func testSealKey(id string, fill byte) SealKey {
	return SealKey{ID: id, Key: bytes.Repeat([]byte{fill}, SealKeyBytes)}
}

func newTestSealer(t testing.TB, active string, keys ...SealKey) *Sealer {
	t.Helper()
	s, err := NewSealer(keys, active)
	if err != nil {
		t.Fatalf("NewSealer: %v", err)
	}
	return s
}

// sealableRecord returns a numbered decision record with every sealable
// field set to a synthetic value.
func sealableRecord(seq uint64) *Record {
	return &Record{
		Version:         Version,
		Seq:             seq,
		Kind:            KindDecision,
		RequestID:       "req-seal-0001",
		Tenant:          "clinic-a",
		User:            "clinician-0042",
		Action:          "redact",
		Reasons:         []string{"PHI found; masking SSN for a provider without a BAA"},
		PHIFingerprints: []string{"SSN:00112233445566778899aabbccddeeff"},
		FingerprintKey:  "fp-2026",
		Error:           "shadow policy error: example failure",
	}
}

func TestSealRoundTrip(t *testing.T) {
	s := newTestSealer(t, "", testSealKey("k1", 1))
	want := sealableRecord(7)
	rec := sealableRecord(7)

	if err := s.Seal(rec); err != nil {
		t.Fatalf("Seal: %v", err)
	}
	if rec.Sealed == nil || rec.Sealed.KeyID != "k1" {
		t.Fatalf("Sealed = %+v, want an object under key k1", rec.Sealed)
	}
	if len(rec.Sealed.Nonce) != 12 {
		t.Errorf("nonce has %d bytes, want 12", len(rec.Sealed.Nonce))
	}
	line, err := rec.canonical()
	if err != nil {
		t.Fatal(err)
	}
	for _, plain := range []string{"clinician-0042", "masking SSN", "SSN:0011", "fp-2026", "example failure"} {
		if bytes.Contains(line, []byte(plain)) {
			t.Errorf("sealed record still contains %q: %s", plain, line)
		}
	}
	if rec.Tenant != "clinic-a" || rec.Action != "redact" {
		t.Errorf("Seal changed fields it does not seal: tenant %q, action %q", rec.Tenant, rec.Action)
	}

	if err := s.Open(rec); err != nil {
		t.Fatalf("Open: %v", err)
	}
	if !reflect.DeepEqual(rec, want) {
		t.Errorf("opened record =\n%+v\nwant\n%+v", rec, want)
	}
}

func TestSealNoncesDiffer(t *testing.T) {
	s := newTestSealer(t, "", testSealKey("k1", 1))
	a, b := sealableRecord(1), sealableRecord(1)
	if err := s.Seal(a); err != nil {
		t.Fatal(err)
	}
	if err := s.Seal(b); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a.Sealed.Nonce, b.Sealed.Nonce) {
		t.Error("two seals used the same nonce")
	}
	if bytes.Equal(a.Sealed.Ciphertext, b.Sealed.Ciphertext) {
		t.Error("two seals of the same fields gave the same ciphertext")
	}
}

func TestSealLeavesEmptyRecordUnsealed(t *testing.T) {
	s := newTestSealer(t, "", testSealKey("k1", 1))
	rec := &Record{Version: Version, Seq: 3, Kind: KindOutcome, RequestID: "req-1", Status: 200}
	if err := s.Seal(rec); err != nil {
		t.Fatalf("Seal: %v", err)
	}
	if rec.Sealed != nil {
		t.Errorf("Sealed = %+v, want nil for a record without sealable fields", rec.Sealed)
	}
}

func TestSealRejects(t *testing.T) {
	s := newTestSealer(t, "", testSealKey("k1", 1))
	tests := []struct {
		name string
		rec  func() *Record
		want string
	}{
		{name: "no seq", rec: func() *Record { r := sealableRecord(0); return r }, want: "no seq yet"},
		{name: "already sealed", rec: func() *Record {
			r := sealableRecord(2)
			r.Sealed = &Sealed{KeyID: "k1"}
			return r
		}, want: "already sealed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := tt.rec()
			err := s.Seal(rec)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Seal = %v, want an error containing %q", err, tt.want)
			}
			if rec.User != "clinician-0042" {
				t.Error("a failed Seal cleared the user field")
			}
		})
	}
}

func TestOpenFailures(t *testing.T) {
	sealer := newTestSealer(t, "", testSealKey("k1", 1))
	tests := []struct {
		name    string
		opener  *Sealer
		damage  func(r *Record)
		want    string
		wantErr error
	}{
		{
			name:   "wrong key under the same id",
			opener: newTestSealer(t, "", testSealKey("k1", 2)),
			damage: func(*Record) {},
			want:   "do not authenticate under encryption key \"k1\"",
		},
		{
			name:    "unknown key id",
			opener:  newTestSealer(t, "", testSealKey("k2", 1)),
			damage:  func(*Record) {},
			want:    `sealed under encryption key "k1"`,
			wantErr: ErrUnknownSealKey,
		},
		{
			name:   "tampered ciphertext",
			damage: func(r *Record) { r.Sealed.Ciphertext[3] ^= 0x01 },
			want:   "do not authenticate",
		},
		{
			name:   "tampered tag",
			damage: func(r *Record) { r.Sealed.Ciphertext[len(r.Sealed.Ciphertext)-1] ^= 0x80 },
			want:   "do not authenticate",
		},
		{
			name:   "tampered nonce",
			damage: func(r *Record) { r.Sealed.Nonce[0] ^= 0x01 },
			want:   "do not authenticate",
		},
		{
			name:   "short nonce",
			damage: func(r *Record) { r.Sealed.Nonce = r.Sealed.Nonce[:8] },
			want:   "nonce has 8 bytes, want 12",
		},
		{
			name:   "truncated ciphertext",
			damage: func(r *Record) { r.Sealed.Ciphertext = r.Sealed.Ciphertext[:10] },
			want:   "do not authenticate",
		},
		{
			name: "moved to another request",
			damage: func(r *Record) {
				r.RequestID = "req-seal-0002"
			},
			want: "moved from another record",
		},
		{
			name:   "moved to another seq",
			damage: func(r *Record) { r.Seq = 8 },
			want:   "moved from another record",
		},
		{
			name:   "moved to another writer's chain",
			damage: func(r *Record) { r.Writer = "phigate-1" },
			want:   "moved from another record",
		},
		{
			name:   "moved to another kind",
			damage: func(r *Record) { r.Kind = KindShadow },
			want:   "moved from another record",
		},
		{
			name:   "plain field beside sealed",
			damage: func(r *Record) { r.User = "clinician-0099" },
			want:   "both sealed and plain-text",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := sealableRecord(7)
			if err := sealer.Seal(rec); err != nil {
				t.Fatal(err)
			}
			tt.damage(rec)
			opener := tt.opener
			if opener == nil {
				opener = sealer
			}

			err := opener.Open(rec)

			if err == nil {
				t.Fatal("Open succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Open = %q, want it to contain %q", err, tt.want)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Open = %v, want it to wrap %v", err, tt.wantErr)
			}
			if rec.Sealed == nil {
				t.Error("a failed Open cleared Sealed")
			}
		})
	}
}

// A sealed object copied whole into another record of the same log must
// not open there: the additional data binds it to its own record.
func TestSealedObjectMovedBetweenRecords(t *testing.T) {
	s := newTestSealer(t, "", testSealKey("k1", 1))
	first, second := sealableRecord(4), sealableRecord(5)
	second.RequestID = "req-seal-0002"
	second.User = "clinician-0007"
	for _, r := range []*Record{first, second} {
		if err := s.Seal(r); err != nil {
			t.Fatal(err)
		}
	}

	second.Sealed = first.Sealed
	err := s.Open(second)
	if err == nil {
		t.Fatalf("Open of a moved sealed object succeeded, user %q", second.User)
	}
	if !strings.Contains(err.Error(), "record seq 5") {
		t.Errorf("Open = %q, want it to name record seq 5", err)
	}
}

func TestSealKeyRotation(t *testing.T) {
	old, current := testSealKey("k2025", 1), testSealKey("k2026", 2)
	before := newTestSealer(t, "", old)
	rec1 := sealableRecord(1)
	if err := before.Seal(rec1); err != nil {
		t.Fatal(err)
	}

	// The new key is active; the old one stays in the ring for reading.
	after := newTestSealer(t, "k2026", old, current)
	if got := after.ActiveKeyID(); got != "k2026" {
		t.Fatalf("ActiveKeyID = %q, want k2026", got)
	}
	rec2 := sealableRecord(2)
	if err := after.Seal(rec2); err != nil {
		t.Fatal(err)
	}
	if rec2.Sealed.KeyID != "k2026" {
		t.Errorf("new record sealed under %q, want the active key k2026", rec2.Sealed.KeyID)
	}

	for _, rec := range []*Record{rec1, rec2} {
		if err := after.Open(rec); err != nil {
			t.Errorf("Open record seq %d after rotation: %v", rec.Seq, err)
		} else if rec.User != "clinician-0042" {
			t.Errorf("record seq %d opened to user %q", rec.Seq, rec.User)
		}
	}

	// A reader given only the new key cannot open old records, and says
	// which key it lacks.
	onlyNew := newTestSealer(t, "", current)
	rec3 := sealableRecord(3)
	if err := before.Seal(rec3); err != nil {
		t.Fatal(err)
	}
	err := onlyNew.Open(rec3)
	if !errors.Is(err, ErrUnknownSealKey) || !strings.Contains(err.Error(), "k2025") {
		t.Errorf("Open with only the new key = %v, want ErrUnknownSealKey naming k2025", err)
	}
}

func TestNewSealerRejects(t *testing.T) {
	tests := []struct {
		name   string
		keys   []SealKey
		active string
		want   []string
	}{
		{name: "empty keyring", want: []string{"keyring is empty"}},
		{name: "short key", keys: []SealKey{{ID: "k1", Key: make([]byte, 16)}}, want: []string{"encryption key k1 has 16 bytes, want 32"}},
		{name: "empty id", keys: []SealKey{testSealKey("k1", 1), {Key: make([]byte, 32)}}, want: []string{"encryption key 2: id is empty"}},
		{name: "duplicate id", keys: []SealKey{testSealKey("k1", 1), testSealKey("k1", 2)}, want: []string{"k1: id is used twice"}},
		{name: "unknown active", keys: []SealKey{testSealKey("k1", 1)}, active: "k9", want: []string{"active encryption key k9 is not in the keyring"}},
		{
			name: "every problem listed",
			keys: []SealKey{{ID: "a", Key: make([]byte, 31)}, {ID: "b", Key: make([]byte, 33)}},
			want: []string{"encryption key a has 31 bytes", "encryption key b has 33 bytes"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewSealer(tt.keys, tt.active)
			if err == nil {
				t.Fatal("NewSealer succeeded, want an error")
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("NewSealer = %q, want it to contain %q", err, want)
				}
			}
		})
	}
}

func TestDecodeSealKey(t *testing.T) {
	key := bytes.Repeat([]byte{0xa5}, 32)
	tests := []struct {
		name string
		text string
		want string // error substring; empty for success
	}{
		{name: "hex", text: hex.EncodeToString(key)},
		{name: "hex upper case", text: strings.ToUpper(hex.EncodeToString(key))},
		{name: "base64", text: base64.StdEncoding.EncodeToString(key)},
		{name: "base64 without padding", text: base64.RawStdEncoding.EncodeToString(key)},
		{name: "surrounding newline", text: base64.StdEncoding.EncodeToString(key) + "\n"},
		{name: "short base64", text: base64.StdEncoding.EncodeToString(key[:16]), want: "has 16 bytes, want 32"},
		{name: "short hex read as base64", text: hex.EncodeToString(key[:31]), want: "want 32"},
		{name: "not encoded", text: "correct horse battery staple", want: "neither 64 hex digits nor base64"},
		{name: "empty", text: "", want: "has 0 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeSealKey([]byte(tt.text))
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("DecodeSealKey = %v, want an error containing %q", err, tt.want)
				}
				if strings.TrimSpace(tt.text) != "" && strings.Contains(err.Error(), strings.TrimSpace(tt.text)) {
					t.Errorf("error %q repeats the key text", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("DecodeSealKey: %v", err)
			}
			if !bytes.Equal(got, key) {
				t.Errorf("DecodeSealKey = %x, want %x", got, key)
			}
		})
	}
}

func TestGenerateSealKeyDecodes(t *testing.T) {
	a, b := GenerateSealKey(), GenerateSealKey()
	if a == b {
		t.Error("two generated keys are equal")
	}
	if _, err := DecodeSealKey([]byte(a)); err != nil {
		t.Errorf("generated key does not decode: %v", err)
	}
}

// A FileLog with a Sealer writes sealed records that verify without the
// key and open with it.
func TestFileLogSealsRecords(t *testing.T) {
	s := newTestSealer(t, "", testSealKey("k1", 1))
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l, err := OpenFileWithOptions(path, FileOptions{Logger: discardLogger(), Sealer: s})
	if err != nil {
		t.Fatal(err)
	}
	in := sealableRecord(0)
	in.Version = 0
	if err := l.Append(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	if err := l.Append(t.Context(), &Record{Kind: KindOutcome, RequestID: in.RequestID, Status: 200}); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte("clinician-0042")) || bytes.Contains(data, []byte("SSN:0011")) {
		t.Fatalf("log contains a sealed value in plain text:\n%s", data)
	}
	if res, err := VerifyFile(path); err != nil || res.Records != 2 {
		t.Fatalf("VerifyFile = %+v, %v; want 2 records verified without the key", res, err)
	}

	recs := readRecords(t, path)
	if recs[0].Sealed == nil {
		t.Fatal("decision record is not sealed")
	}
	if recs[1].Sealed != nil {
		t.Error("outcome record without sealable fields was sealed")
	}
	if err := s.Open(&recs[0]); err != nil {
		t.Fatalf("Open: %v", err)
	}
	if recs[0].User != "clinician-0042" || recs[0].FingerprintKey != "fp-2026" || len(recs[0].PHIFingerprints) != 1 {
		t.Errorf("opened record = %+v, want the sealed values back", recs[0])
	}
}

func FuzzOpenSealed(f *testing.F) {
	s := newTestSealer(f, "", testSealKey("k1", 1))
	rec := sealableRecord(9)
	if err := s.Seal(rec); err != nil {
		f.Fatal(err)
	}
	valid, err := json.Marshal(rec.Sealed)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid, uint64(9))
	f.Add([]byte(`{"key_id":"k1","nonce":"AAAAAAAAAAAAAAAA","ciphertext":""}`), uint64(9))
	f.Add([]byte(`{"key_id":"k2","nonce":"","ciphertext":"AA=="}`), uint64(1))
	f.Add([]byte(`{}`), uint64(0))
	f.Add([]byte(`{"key_id":"k1","nonce":null,"ciphertext":"!!"}`), uint64(9))

	f.Fuzz(func(t *testing.T, sealedJSON []byte, seq uint64) {
		var sealed Sealed
		if err := json.Unmarshal(sealedJSON, &sealed); err != nil {
			return
		}
		r := sealableRecord(seq)
		setFields(r, sealedFields{})
		r.Sealed = &sealed
		err := s.Open(r)
		if err == nil {
			// Only an object that Seal made for seq 9 authenticates, so
			// success must give back exactly the fields sealed there.
			// The fuzz workers seal with nonces of their own, so the
			// seed's ciphertext is not compared.
			want := sealableRecord(9)
			if seq != 9 || !reflect.DeepEqual(fieldsOf(r), fieldsOf(want)) {
				t.Fatalf("Open accepted a forged sealed object %s for seq %d", sealedJSON, seq)
			}
			return
		}
		if r.Sealed == nil {
			t.Fatal("a failed Open cleared Sealed")
		}
	})
}

func FuzzDecodeSealKey(f *testing.F) {
	f.Add([]byte(strings.Repeat("ab", 32)))
	f.Add([]byte(base64.StdEncoding.EncodeToString(make([]byte, 32))))
	f.Add([]byte(" \n"))
	f.Add([]byte("===="))
	f.Fuzz(func(t *testing.T, text []byte) {
		key, err := DecodeSealKey(text)
		if err == nil && len(key) != SealKeyBytes {
			t.Fatalf("DecodeSealKey returned %d bytes without an error", len(key))
		}
	})
}
