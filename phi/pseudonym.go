package phi

import (
	"crypto/rand"
	"strconv"
	"strings"
	"sync"
)

// Pseudonymizer replaces PHI values with numbered placeholders for one
// request and puts the values back into the response. Within one
// Pseudonymizer each distinct value of a type gets one placeholder, so a
// model can still tell that two mentions are the same person: "Jane Roe"
// becomes "[NAME_1]" every time, "John Roe" "[NAME_2]", an SSN "[SSN_1]".
//
// Placeholders are unambiguous: each one is a whole token from '[' to the
// next ']', and Restore replaces only whole tokens that it issued, so
// "[NAME_1]" never matches inside "[NAME_12]". When a request text already
// contains a string of the placeholder form, the Pseudonymizer switches to
// placeholders that carry a random marker, "[NAME_1_k3x9qa]", chosen so
// that it occurs in no text it has seen. Placeholders contain no
// JSON-special characters, provided Type names contain none of '[', ']',
// '"' and '\\' (the package's types do not).
//
// A Pseudonymizer holds PHI in memory for the life of one request and must
// not be shared between requests. Its methods are safe for concurrent use.
type Pseudonymizer struct {
	mu sync.Mutex
	// marker is empty for the plain form "[NAME_1]", or the random marker
	// of the form "[NAME_1_marker]".
	marker        string
	byValue       map[pseudonymKey]string
	byPlaceholder map[string]string
	counts        map[Type]int
	// maxLen is the length of the longest placeholder issued.
	maxLen int
}

type pseudonymKey struct {
	typ   Type
	value string
}

// NewPseudonymizer returns a Pseudonymizer for one request. inputs are the
// texts of the request; the placeholder form is chosen so that none of
// them contains a string of that form. Passing every text of the request
// here, not only the one being replaced, guarantees that Restore never
// mistakes text the client wrote for a placeholder.
func NewPseudonymizer(inputs ...string) *Pseudonymizer {
	p := &Pseudonymizer{
		byValue:       make(map[pseudonymKey]string),
		byPlaceholder: make(map[string]string),
		counts:        make(map[Type]int),
	}
	for _, text := range inputs {
		p.avoidCollision(text)
	}
	return p
}

// avoidCollision switches to a new random marker when text contains a
// string of the current placeholder form. Placeholders issued before keep
// their form, so a value seen again maps to the same placeholder.
//
// NOTE: a text first seen by Apply, after placeholders were issued, may
// already contain one of them verbatim; Restore then turns that text into
// the value too. NewPseudonymizer with every input avoids this.
func (p *Pseudonymizer) avoidCollision(text string) {
	if !p.collides(text) {
		return
	}
	for {
		marker := randomMarker()
		if !strings.Contains(text, marker) && marker != p.marker {
			p.marker = marker
			return
		}
	}
}

// collides reports whether text contains a string of the current form.
func (p *Pseudonymizer) collides(text string) bool {
	if p.marker != "" {
		return strings.Contains(text, p.marker)
	}
	for off := 0; off < len(text); {
		k := strings.IndexByte(text[off:], '[')
		if k < 0 {
			return false
		}
		i := off + k + 1
		off = i
		j := i
		for j < len(text) && (isUpper(text[j]) || text[j] == '_') {
			j++
		}
		if j-i < 2 || text[j-1] != '_' {
			continue
		}
		n := digitsAt(text, j)
		if n > 0 && j+n < len(text) && text[j+n] == ']' {
			return true
		}
	}
	return false
}

// markerAlphabet is lowercase so a marker never reads as part of a type.
const markerAlphabet = "abcdefghijkmnpqrstuvwxyz23456789"

func randomMarker() string {
	var b [6]byte
	// crypto/rand.Read is documented to never return an error (Go 1.24+).
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = markerAlphabet[int(b[i])%len(markerAlphabet)]
	}
	return string(b[:])
}

// placeholder returns the placeholder of value, issuing the next number of
// its type on first use. The caller holds p.mu.
func (p *Pseudonymizer) placeholder(typ Type, value string) string {
	key := pseudonymKey{typ, value}
	if ph, ok := p.byValue[key]; ok {
		return ph
	}
	p.counts[typ]++
	var b strings.Builder
	b.WriteByte('[')
	b.WriteString(string(typ))
	b.WriteByte('_')
	b.WriteString(strconv.Itoa(p.counts[typ]))
	if p.marker != "" {
		b.WriteByte('_')
		b.WriteString(p.marker)
	}
	b.WriteByte(']')
	ph := b.String()
	p.byValue[key] = ph
	p.byPlaceholder[ph] = value
	p.maxLen = max(p.maxLen, len(ph))
	return ph
}

// Apply returns text with every finding whose type is selected replaced by
// its placeholder. A nil selector replaces every finding. Findings must be
// sorted and non-overlapping, as Scanner.Scan returns them. As in Mask, a
// finding that overlaps the previous one or lies outside text is skipped.
func (p *Pseudonymizer) Apply(text string, findings []Finding, selected func(Type) bool) string {
	p.mu.Lock()
	defer p.mu.Unlock()

	p.avoidCollision(text)
	var b strings.Builder
	last := 0
	for _, f := range findings {
		if selected != nil && !selected(f.Type) {
			continue
		}
		if f.Start < last || f.End > len(text) || f.End <= f.Start {
			continue
		}
		if b.Len() == 0 {
			b.Grow(len(text))
		}
		b.WriteString(text[last:f.Start])
		b.WriteString(p.placeholder(f.Type, text[f.Start:f.End]))
		last = f.End
	}
	if last == 0 {
		return text
	}
	b.WriteString(text[last:])
	return b.String()
}

// Restore returns text with every placeholder this Pseudonymizer issued
// replaced by its original value, byte for byte. Other bracketed text is
// copied unchanged.
func (p *Pseudonymizer) Restore(text string) string {
	return p.RestoreWith(text, nil)
}

// RestoreWith is Restore with each original value passed through encode
// before it is inserted, such as JSON string escaping for placeholders
// inside a tool call's JSON arguments. A nil encode inserts values as they
// are.
func (p *Pseudonymizer) RestoreWith(text string, encode func(string) string) string {
	p.mu.Lock()
	defer p.mu.Unlock()

	if len(p.byPlaceholder) == 0 {
		return text
	}
	var b strings.Builder
	last := 0
	for off := 0; off < len(text); {
		k := strings.IndexByte(text[off:], '[')
		if k < 0 {
			break
		}
		i := off + k
		off = i + 1
		end := min(len(text), i+p.maxLen)
		j := strings.IndexByte(text[i:end], ']')
		if j < 0 {
			continue
		}
		value, ok := p.byPlaceholder[text[i:i+j+1]]
		if !ok {
			continue
		}
		if b.Len() == 0 {
			b.Grow(len(text))
		}
		b.WriteString(text[last:i])
		if encode != nil {
			value = encode(value)
		}
		b.WriteString(value)
		last = i + j + 1
		off = last
	}
	if last == 0 {
		return text
	}
	b.WriteString(text[last:])
	return b.String()
}

// PartialPlaceholderLen returns how many bytes at the end of chunk could
// be the start of a placeholder this Pseudonymizer issued. A streaming
// caller holds back that many bytes and puts them in front of the next
// chunk, so a placeholder split between chunks is still restored. It is 0
// when chunk ends outside any placeholder.
func (p *Pseudonymizer) PartialPlaceholderLen(chunk string) int {
	p.mu.Lock()
	defer p.mu.Unlock()

	if p.maxLen == 0 {
		return 0
	}
	from := max(0, len(chunk)-p.maxLen+1)
	k := strings.LastIndexByte(chunk[from:], '[')
	if k < 0 {
		return 0
	}
	suffix := chunk[from+k:]
	for ph := range p.byPlaceholder {
		if len(ph) > len(suffix) && strings.HasPrefix(ph, suffix) {
			return len(suffix)
		}
	}
	return 0
}

// StreamRestorer restores placeholders in a response that arrives in
// chunks, such as server-sent events, holding back only the bytes that
// could begin a placeholder split across chunks.
type StreamRestorer struct {
	p       *Pseudonymizer
	encode  func(string) string
	pending string
}

// NewStreamRestorer returns a StreamRestorer that restores p's
// placeholders.
func (p *Pseudonymizer) NewStreamRestorer() *StreamRestorer {
	return &StreamRestorer{p: p}
}

// NewStreamRestorerWith returns a StreamRestorer that inserts values
// through encode, as RestoreWith does.
func (p *Pseudonymizer) NewStreamRestorerWith(encode func(string) string) *StreamRestorer {
	return &StreamRestorer{p: p, encode: encode}
}

// Next returns the restored text of chunk, with any held-back bytes of the
// previous chunk in front, minus the bytes at its end that could begin a
// placeholder.
func (s *StreamRestorer) Next(chunk string) string {
	text := s.pending + chunk
	hold := s.p.PartialPlaceholderLen(text)
	s.pending = text[len(text)-hold:]
	return s.p.RestoreWith(text[:len(text)-hold], s.encode)
}

// Flush returns the held-back bytes, restored, at the end of the stream.
func (s *StreamRestorer) Flush() string {
	out := s.p.RestoreWith(s.pending, s.encode)
	s.pending = ""
	return out
}
