package audit

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// MinFingerprintKeyBytes is the shortest fingerprint key accepted. Short
// PHI such as an SSN has few possible values, so the key is what keeps a
// fingerprint from being reversed by trying them all.
const MinFingerprintKeyBytes = 32

// Fingerprinter computes keyed fingerprints of PHI values, so that an
// auditor holding the key can find every record that disclosed one value
// (one patient's SSN, say) without the log storing the value itself.
//
// A fingerprint is "TYPE:" and the first 16 bytes, in hex, of
// HMAC-SHA-256(key, TYPE + 0x00 + canonical value). The canonical form
// ignores formatting that does not change the value: case and spacing
// for every type, and all but letters and digits for identifiers, so
// "999-12-3456" and "999 12 3456" match.
type Fingerprinter struct {
	keyID string
	key   []byte
}

// NewFingerprinter returns a Fingerprinter for a key and its id. The id is
// stored in each record so that keys can rotate while old records stay
// searchable with the old key.
func NewFingerprinter(keyID string, key []byte) (*Fingerprinter, error) {
	if keyID == "" {
		return nil, errors.New("fingerprint key id is empty")
	}
	if len(key) < MinFingerprintKeyBytes {
		return nil, fmt.Errorf("fingerprint key %s has %d bytes, want at least %d", keyID, len(key), MinFingerprintKeyBytes)
	}
	return &Fingerprinter{keyID: keyID, key: append([]byte(nil), key...)}, nil
}

// KeyID returns the id of the key.
func (f *Fingerprinter) KeyID() string { return f.keyID }

// Fingerprint returns the fingerprint of value as PHI of type phiType.
func (f *Fingerprinter) Fingerprint(phiType, value string) string {
	mac := hmac.New(sha256.New, f.key)
	mac.Write([]byte(phiType))
	mac.Write([]byte{0})
	mac.Write([]byte(canonicalValue(phiType, value)))
	return phiType + ":" + hex.EncodeToString(mac.Sum(nil)[:16])
}

// canonicalValue lowercases and collapses spacing; for identifier types it
// keeps only letters and digits.
func canonicalValue(phiType, value string) string {
	identifier := true
	switch phiType {
	case "NAME", "ADDRESS", "LOCATION", "EMAIL", "URL", "DATE":
		identifier = false
	}
	var b strings.Builder
	space := false
	for _, r := range strings.ToLower(value) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
		case identifier:
		case unicode.IsSpace(r):
			space = true
		default:
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
		}
	}
	return b.String()
}
