// Package audit keeps phigate's tamper-evident audit log.
//
// Every request produces a decision record, made durable before the request
// is forwarded, and later an outcome record linked to it by request id, so
// the log is append-only. Records hold PHI types and counts, never values.
//
// Each record carries the hash of the record before it and its own SHA-256
// hash over its canonical encoding, so editing, deleting, inserting or
// reordering records breaks the chain at the first damaged record.
package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
)

// Version is the record encoding version written by this package.
const Version = 1

// Record kinds.
const (
	KindDecision = "decision"
	KindOutcome  = "outcome"
	// KindShadow records a shadow policy's decision where it differs from
	// the active policy's decision for the same request.
	KindShadow = "shadow"
)

// Record is one audit log entry. Field order is part of the canonical
// encoding: changing it changes every hash, so it needs a new Version.
type Record struct {
	Version int `json:"v"`
	// Writer names the chain the record belongs to in a store that several
	// processes write at once, each with its own chain (the PostgreSQL
	// store). The file store leaves it empty.
	Writer string `json:"writer,omitempty"`
	// Seq numbers records from 1 without gaps.
	Seq  uint64 `json:"seq"`
	Kind string `json:"kind"`
	// Time is the UTC time the record was appended, RFC 3339 with
	// nanoseconds.
	Time      string `json:"time"`
	RequestID string `json:"request_id"`

	Tenant string `json:"tenant,omitempty"`
	// User is the subject of the verified JWT, when Envoy forwarded one.
	User              string `json:"user,omitempty"`
	Purpose           string `json:"purpose,omitempty"`
	API               string `json:"api,omitempty"`
	Path              string `json:"path,omitempty"`
	RequestedProvider string `json:"requested_provider,omitempty"`
	Provider          string `json:"provider,omitempty"`
	RequestedModel    string `json:"requested_model,omitempty"`
	Model             string `json:"model,omitempty"`
	Stream            bool   `json:"stream,omitempty"`

	// Action is allow, redact or deny; Reasons are the policy's own words.
	Action         string   `json:"action,omitempty"`
	Reasons        []string `json:"reasons,omitempty"`
	PolicyRevision string   `json:"policy_revision,omitempty"`
	// Template is the policy template that decided, such as "treatment".
	Template string         `json:"template,omitempty"`
	PHITypes map[string]int `json:"phi_types,omitempty"`
	// PHIFingerprints are keyed fingerprints of the distinct PHI values
	// found (see Fingerprinter), under the key FingerprintKey names.
	PHIFingerprints []string `json:"phi_fingerprints,omitempty"`
	FingerprintKey  string   `json:"fingerprint_key,omitempty"`
	RedactedTypes   []string `json:"redacted_types,omitempty"`
	RiskScore       int      `json:"risk_score,omitempty"`
	RequestBytes    int      `json:"request_bytes,omitempty"`
	ForwardedBytes  int      `json:"forwarded_bytes,omitempty"`

	// Outcome fields.
	Status        int `json:"status,omitempty"`
	ResponseBytes int `json:"response_bytes,omitempty"`
	// Token usage as the provider reported it, and the time from the
	// request's arrival to the first response body byte.
	InputTokens      int     `json:"input_tokens,omitempty"`
	OutputTokens     int     `json:"output_tokens,omitempty"`
	CacheReadTokens  int     `json:"cache_read_tokens,omitempty"`
	CacheWriteTokens int     `json:"cache_write_tokens,omitempty"`
	FirstByteMS      float64 `json:"first_byte_ms,omitempty"`
	DurationMS       float64 `json:"duration_ms,omitempty"`
	// OutputPHITypes counts, by type, the PHI values masked in the model's
	// output because the request did not contain them.
	OutputPHITypes map[string]int `json:"output_phi_types,omitempty"`
	// Error names what went wrong when the exchange did not complete.
	Error string `json:"error,omitempty"`

	// Sealed holds User, Reasons, Error, PHIFingerprints and
	// FingerprintKey encrypted, when the store has a Sealer; those fields
	// are then empty. See Sealer.
	Sealed *Sealed `json:"sealed,omitempty"`

	PrevHash string `json:"prev_hash"`
	Hash     string `json:"hash,omitempty"`
}

// canonical returns the encoding that Hash covers: the record as compact
// JSON without its hash field, without HTML escaping, map keys sorted.
func (r *Record) canonical() ([]byte, error) {
	c := *r
	c.Hash = ""
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&c); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// computeHash returns the hex SHA-256 of the record's canonical encoding.
func (r *Record) computeHash() (string, error) {
	data, err := r.canonical()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}
