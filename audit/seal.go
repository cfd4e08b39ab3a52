package audit

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Field encryption. A few record fields can identify a person indirectly:
// the user id, the policy's free-text reasons, a free-text error, and the
// PHI fingerprints, which an attacker holding the fingerprint key could
// test guesses against. A Sealer encrypts these fields together with
// AES-256-GCM into the record's Sealed object before the record's hash is
// computed. The hash chain and checkpoints therefore cover the ciphertext,
// and verification never needs the encryption key.
//
// The additional authenticated data binds each ciphertext to its record's
// version, writer, seq, kind and request id, so a sealed object copied
// into another record fails to open.

// SealKeyBytes is the length of an encryption key: AES-256 takes 32 bytes.
const SealKeyBytes = 32

// sealNonceBytes is the GCM nonce length. Nonces are random, so one key
// must seal at most 2^32 records to keep the chance of a repeated nonce
// negligible (the limit Go's crypto/cipher.NewGCMWithRandomNonce states).
const sealNonceBytes = 12

// sealAADPrefix starts the additional authenticated data, so that a
// ciphertext made for another purpose under the same key never opens as a
// record's fields.
const sealAADPrefix = "phigate audit sealed fields v1\n"

// ErrUnknownSealKey is returned by Open for a record sealed under a key id
// that the Sealer does not hold. The error names the key id.
var ErrUnknownSealKey = errors.New("unknown encryption key")

// Sealed is the encrypted form of a record's sealed fields. Nonce and
// Ciphertext are base64 in JSON.
type Sealed struct {
	// KeyID names the key that sealed the fields.
	KeyID string `json:"key_id"`
	Nonce []byte `json:"nonce"`
	// Ciphertext is the AES-256-GCM encryption of the fields as JSON,
	// with the 16-byte authentication tag at its end.
	Ciphertext []byte `json:"ciphertext"`
}

// sealedFields is the plaintext of a Sealed object. Its JSON names match
// the record's own, so an opened record reads like one never sealed.
type sealedFields struct {
	User            string   `json:"user,omitempty"`
	Reasons         []string `json:"reasons,omitempty"`
	PHIFingerprints []string `json:"phi_fingerprints,omitempty"`
	FingerprintKey  string   `json:"fingerprint_key,omitempty"`
	Error           string   `json:"error,omitempty"`
}

func (f *sealedFields) empty() bool {
	return f.User == "" && len(f.Reasons) == 0 && len(f.PHIFingerprints) == 0 && f.FingerprintKey == "" && f.Error == ""
}

// fieldsOf returns the sealable fields of r.
func fieldsOf(r *Record) sealedFields {
	return sealedFields{User: r.User, Reasons: r.Reasons, PHIFingerprints: r.PHIFingerprints, FingerprintKey: r.FingerprintKey, Error: r.Error}
}

// setFields sets the sealable fields of r to f.
func setFields(r *Record, f sealedFields) {
	r.User, r.Reasons, r.PHIFingerprints, r.FingerprintKey, r.Error = f.User, f.Reasons, f.PHIFingerprints, f.FingerprintKey, f.Error
}

// SealKey is one encryption key of a keyring.
type SealKey struct {
	// ID is stored in every record the key seals, so that the right key
	// opens it after the active key has changed.
	ID  string
	Key []byte
}

// Sealer seals and opens the sealed fields of records with a keyring: one
// active key seals new records, and every key in the ring opens the
// records it sealed. It is safe for concurrent use.
type Sealer struct {
	active string
	keys   map[string]cipher.AEAD
}

// NewSealer returns a Sealer for a keyring. activeID names the key that
// seals new records; when empty, the first key does. Every key must be
// SealKeyBytes long and ids must be distinct and non-empty. Errors name key
// ids, never key bytes.
func NewSealer(keys []SealKey, activeID string) (*Sealer, error) {
	if len(keys) == 0 {
		return nil, errors.New("audit encryption keyring is empty: it needs at least the active key")
	}
	if activeID == "" {
		activeID = keys[0].ID
	}

	s := &Sealer{active: activeID, keys: make(map[string]cipher.AEAD, len(keys))}
	var errs []error
	for i, k := range keys {
		if k.ID == "" {
			errs = append(errs, fmt.Errorf("encryption key %d: id is empty", i+1))
			continue
		}
		if _, dup := s.keys[k.ID]; dup {
			errs = append(errs, fmt.Errorf("encryption key %s: id is used twice", k.ID))
			continue
		}
		if len(k.Key) != SealKeyBytes {
			errs = append(errs, fmt.Errorf("encryption key %s has %d bytes, want %d", k.ID, len(k.Key), SealKeyBytes))
			continue
		}
		block, err := aes.NewCipher(k.Key)
		if err != nil {
			errs = append(errs, fmt.Errorf("encryption key %s: %w", k.ID, err))
			continue
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			errs = append(errs, fmt.Errorf("encryption key %s: %w", k.ID, err))
			continue
		}
		s.keys[k.ID] = aead
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if _, ok := s.keys[activeID]; !ok {
		return nil, fmt.Errorf("active encryption key %s is not in the keyring", activeID)
	}
	return s, nil
}

// ActiveKeyID returns the id of the key that seals new records.
func (s *Sealer) ActiveKeyID() string { return s.active }

// Seal encrypts r's user, reasons, error, PHI fingerprints and
// fingerprint key id into r.Sealed under the active key and clears those
// fields. A store calls it after setting r's Version, Writer, Seq, Kind
// and RequestID, which the ciphertext is bound to, and before computing
// r's hash (before Link). A record with none of the sealed fields set is
// left unsealed.
func (s *Sealer) Seal(r *Record) error {
	if r.Sealed != nil {
		return fmt.Errorf("record seq %d is already sealed", r.Seq)
	}
	if r.Seq == 0 {
		return errors.New("record has no seq yet: seal it after the store numbers it")
	}
	fields := fieldsOf(r)
	if fields.empty() {
		return nil
	}

	plaintext, err := json.Marshal(&fields)
	if err != nil {
		return fmt.Errorf("encoding sealed fields: %w", err)
	}
	nonce := make([]byte, sealNonceBytes)
	// crypto/rand.Read never returns an error since Go 1.24; it crashes
	// the program instead if the system's random source fails.
	_, _ = rand.Read(nonce)
	aead := s.keys[s.active]
	r.Sealed = &Sealed{
		KeyID:      s.active,
		Nonce:      nonce,
		Ciphertext: aead.Seal(nil, nonce, plaintext, sealAAD(r)),
	}
	setFields(r, sealedFields{})
	return nil
}

// Open decrypts r.Sealed back into r's fields and clears r.Sealed. A
// record without Sealed is left as it is. An opened record no longer
// matches its hash, so verify the log, not opened records.
//
// Open returns an error wrapping ErrUnknownSealKey when the keyring lacks
// the record's key, and an error when the ciphertext does not
// authenticate: the wrong key under a reused id, an edited ciphertext, or
// a sealed object moved from another record.
func (s *Sealer) Open(r *Record) error {
	if r.Sealed == nil {
		return nil
	}
	if plain := fieldsOf(r); !plain.empty() {
		return fmt.Errorf("record seq %d has both sealed and plain-text user, reasons, error or fingerprint fields", r.Seq)
	}

	fields, err := s.openFields(r)
	if err != nil {
		return err
	}
	setFields(r, fields)
	r.Sealed = nil
	return nil
}

// openFields decrypts and decodes r.Sealed without changing r.
func (s *Sealer) openFields(r *Record) (sealedFields, error) {
	sealed := r.Sealed
	aead, ok := s.keys[sealed.KeyID]
	if !ok {
		return sealedFields{}, fmt.Errorf("record seq %d is sealed under encryption key %q: %w; add that key to the keyring", r.Seq, sealed.KeyID, ErrUnknownSealKey)
	}
	if len(sealed.Nonce) != aead.NonceSize() {
		return sealedFields{}, fmt.Errorf("record seq %d: sealed nonce has %d bytes, want %d", r.Seq, len(sealed.Nonce), aead.NonceSize())
	}
	plaintext, err := aead.Open(nil, sealed.Nonce, sealed.Ciphertext, sealAAD(r))
	if err != nil {
		return sealedFields{}, fmt.Errorf("record seq %d: sealed fields do not authenticate under encryption key %q: the ciphertext was edited, moved from another record, or the key is not the one that sealed it", r.Seq, sealed.KeyID)
	}

	var fields sealedFields
	dec := json.NewDecoder(bytes.NewReader(plaintext))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&fields); err != nil {
		return sealedFields{}, fmt.Errorf("record seq %d: decoding sealed fields: %w", r.Seq, err)
	}
	if fields.empty() {
		return sealedFields{}, fmt.Errorf("record seq %d: sealed fields are empty", r.Seq)
	}
	return fields, nil
}

// sealAAD returns the additional authenticated data for r: the fields
// that place the record in its log, as JSON.
func sealAAD(r *Record) []byte {
	aad, err := json.Marshal(struct {
		Version   int    `json:"v"`
		Writer    string `json:"writer,omitempty"`
		Seq       uint64 `json:"seq"`
		Kind      string `json:"kind"`
		RequestID string `json:"request_id"`
	}{r.Version, r.Writer, r.Seq, r.Kind, r.RequestID})
	if err != nil {
		// Marshalling ints and strings cannot fail.
		panic(err)
	}
	return append([]byte(sealAADPrefix), aad...)
}

// DecodeSealKey decodes an encryption key as stored in an environment
// variable or file: 32 bytes as 64 hex digits or as standard base64
// (with or without padding). Surrounding white space is ignored. Errors
// never include the key text.
func DecodeSealKey(text []byte) ([]byte, error) {
	s := strings.TrimSpace(string(text))
	if len(s) == 2*SealKeyBytes {
		if key, err := hex.DecodeString(s); err == nil {
			return key, nil
		}
	}
	enc := base64.StdEncoding
	if !strings.HasSuffix(s, "=") {
		enc = base64.RawStdEncoding
	}
	key, err := enc.DecodeString(s)
	if err != nil {
		return nil, errors.New("encryption key is neither 64 hex digits nor base64: create one with `phigate audit keygen -encryption`")
	}
	if len(key) != SealKeyBytes {
		return nil, fmt.Errorf("encryption key has %d bytes, want %d: create one with `phigate audit keygen -encryption`", len(key), SealKeyBytes)
	}
	return key, nil
}

// GenerateSealKey returns a new random encryption key, base64 encoded.
func GenerateSealKey() string {
	key := make([]byte, SealKeyBytes)
	_, _ = rand.Read(key)
	return base64.StdEncoding.EncodeToString(key)
}
