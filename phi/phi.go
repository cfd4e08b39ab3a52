// Package phi finds protected health information (PHI) in text.
//
// A Scanner runs a set of Detectors over one text, merges their findings
// into non-overlapping spans and returns them in text order. Detectors know
// nothing of JSON or of the LLM APIs: callers extract the texts a vendor
// would read and scan each one.
//
// Findings carry byte offsets into the scanned string, never copies of the
// values, so that callers can count, mask or fingerprint PHI without keeping
// it around.
package phi

import (
	"slices"
	"strings"
	"sync"
)

// Type names a kind of identifier. The names are stable: they appear in
// policy input, audit records, metrics labels and mask placeholders.
type Type string

// The identifier types. Most follow the HIPAA Safe Harbor categories; NPI is
// typed apart because it identifies a clinician, not a patient.
const (
	TypeName      Type = "NAME"
	TypeDate      Type = "DATE"
	TypePhone     Type = "PHONE"
	TypeFax       Type = "FAX"
	TypeEmail     Type = "EMAIL"
	TypeSSN       Type = "SSN"
	TypeMRN       Type = "MRN"
	TypeAddress   Type = "ADDRESS"
	TypeZIP       Type = "ZIP"
	TypeURL       Type = "URL"
	TypeIPAddress Type = "IP_ADDRESS"
	TypeLocation  Type = "LOCATION"
	TypeHealthID  Type = "HEALTH_PLAN_ID"
	TypeAccount   Type = "ACCOUNT"
	TypeLicense   Type = "LICENSE"
	TypeNPI       Type = "NPI"
	TypeOtherID   Type = "OTHER_ID"

	// TypeVehicleID is a vehicle identifier: a VIN or a licence plate.
	TypeVehicleID Type = "VEHICLE_ID"
	// TypeDeviceID is a device identifier or serial number: a serial
	// number after a label, a GS1 unique device identifier, an IMEI or a
	// MAC address.
	TypeDeviceID Type = "DEVICE_ID"
)

// Finding is one span of text that a detector judged to be PHI.
type Finding struct {
	Type Type
	// Start and End are byte offsets into the scanned text, End exclusive.
	Start, End int
	// Confidence is the detector's estimate, from 0 to 1, that the span is
	// PHI of this type.
	Confidence float64
	// Detector is the Name of the detector that reported the span.
	Detector string
}

// Len returns the span length in bytes.
func (f Finding) Len() int { return f.End - f.Start }

// Detector reports PHI spans in a text.
//
// Detect appends its findings to dst and returns the extended slice, so a
// Scanner can reuse one buffer for all detectors. Findings may overlap each
// other and findings of other detectors; the Scanner resolves overlaps.
// Implementations must be safe for concurrent use and must not retain text.
type Detector interface {
	Name() string
	Detect(text string, dst []Finding) []Finding
}

// Scanner runs detectors over texts. The zero value finds nothing; use
// NewScanner or DefaultScanner.
type Scanner struct {
	detectors []Detector
}

// originalTextDetector is implemented by detectors that must read the
// text exactly as given, such as FHIRDetector, which parses JSON whose
// escapes normalization would decode.
type originalTextDetector interface {
	scansOriginalText()
}

// NewScanner returns a Scanner that runs the given detectors in order.
func NewScanner(detectors ...Detector) *Scanner {
	return &Scanner{detectors: slices.Clone(detectors)}
}

// Scan returns the PHI spans in text, sorted by Start and non-overlapping
// (see Resolve for the rule that picks between overlapping findings).
// After resolving, every other occurrence of a word of a NAME finding
// that no finding covers is reported as a NAME too (see repeatNames).
//
// Detectors read a normalized view of text in which look-alike digits and
// letters, Unicode dashes and spaces, invisible characters and JSON
// escapes are folded (see normalize). Each finding is mapped back to the
// original bytes, from the first byte of the first character it covers to
// the last byte of the last one. Text that is ASCII without backslashes
// is scanned as it is.
//
// The view is indexed once (see textIndex), so that each detector of this
// package visits only the positions where its findings can start. The
// result is the same as running each detector's Detect over the whole
// view. The index and the buffer of unresolved findings are reused across
// calls, so Scan itself allocates only the returned slice and, for text
// that needs normalizing, the view.
func (s *Scanner) Scan(text string) []Finding {
	if len(s.detectors) == 0 {
		return nil
	}
	view := normalize(text)
	scanned := text
	if view != nil {
		scanned = view.text
	}

	scratch := scanScratchPool.Get().(*scanScratch)
	scratch.index.build(scanned)
	found := scratch.resolve(s.detect(text, view, &scratch.index, scratch.findings[:0]))
	// The findings buffer is free again: resolve left its result in
	// scratch.sorted.
	if more := repeatNames(text, found, scratch.findings[:0]); more != nil {
		found = scratch.resolve(more)
	}
	var out []Finding
	if len(found) > 0 {
		out = slices.Clone(found)
	}
	scanScratchPool.Put(scratch)
	return out
}

// detect runs every detector and returns their findings, unresolved, in
// offsets of text. view is the normalized view of text, or nil when text
// is scanned as it is, and ix indexes the view, or is nil to make each
// detector walk every byte.
func (s *Scanner) detect(text string, view *normView, ix *textIndex, found []Finding) []Finding {
	scanned := text
	if view != nil {
		scanned = view.text
	}

	for _, d := range s.detectors {
		if _, ok := d.(originalTextDetector); ok {
			continue
		}
		if id, ok := d.(indexedDetector); ok {
			found = id.detectIndexed(scanned, ix, found)
		} else {
			found = d.Detect(scanned, found)
		}
	}
	if view != nil {
		view.mapFindings(found)
	}

	for _, d := range s.detectors {
		if _, ok := d.(originalTextDetector); ok {
			found = d.Detect(text, found)
		}
	}
	return found
}

// indexedDetector is implemented by the detectors of this package whose
// scan can skip, with a textIndex of the text, to the positions where a
// finding may start. With a nil index detectIndexed walks every byte, as
// Detect does, and finds the same.
type indexedDetector interface {
	detectIndexed(text string, ix *textIndex, dst []Finding) []Finding
}

// scanScratch is the working memory of one Scan call.
type scanScratch struct {
	index    textIndex
	findings []Finding
	// keys and sorted are the memory of resolve's sort.
	keys   []uint64
	sorted []Finding
}

// resolve is Resolve reusing the scratch memory. It sorts by Start through
// keys that pack each finding's Start and index, which costs less than
// sorting the findings themselves. The result lies in a scratch buffer,
// valid until the scratch is used again.
func (sc *scanScratch) resolve(findings []Finding) []Finding {
	findings = slices.DeleteFunc(findings, func(f Finding) bool { return f.End <= f.Start || f.Start < 0 })
	sc.findings = findings[:0]
	if len(findings) < 2 || len(findings) >= 1<<24 {
		return Resolve(findings)
	}
	sc.keys = sc.keys[:0]
	for k, f := range findings {
		sc.keys = append(sc.keys, uint64(f.Start)<<24|uint64(k))
	}
	slices.Sort(sc.keys)
	sc.sorted = sc.sorted[:0]
	for _, key := range sc.keys {
		sc.sorted = append(sc.sorted, findings[key&(1<<24-1)])
	}
	return resolveSorted(sc.sorted)
}

// scanScratchPool keeps scanScratch values between Scan calls. A pool may
// drop its values at any garbage collection, so the memory of a rare large
// text is not kept for long.
var scanScratchPool = sync.Pool{New: func() any { return new(scanScratch) }}

// Resolve sorts findings by position and removes overlaps. Where two
// findings overlap, the longer one wins, then the one with the higher
// confidence, then the earlier one. Exact ties go to the smaller Type, then
// Detector, so the result does not depend on the input order. Findings with
// empty or inverted spans are dropped. The input slice is reordered in place
// and its backing array reused.
//
// Findings are first split into clusters that overlap each other
// transitively. Findings in different clusters cannot overlap, so each
// cluster is resolved alone, and the cost grows with the square of the
// largest cluster, not of the whole input.
func Resolve(findings []Finding) []Finding {
	findings = slices.DeleteFunc(findings, func(f Finding) bool { return f.End <= f.Start || f.Start < 0 })
	if len(findings) < 2 {
		return findings
	}
	slices.SortFunc(findings, func(a, b Finding) int { return a.Start - b.Start })
	return resolveSorted(findings)
}

// resolveSorted is Resolve for findings with valid spans sorted by Start.
func resolveSorted(findings []Finding) []Finding {
	out := findings[:0]
	for start := 0; start < len(findings); {
		end, maxEnd := start+1, findings[start].End
		for end < len(findings) && findings[end].Start < maxEnd {
			maxEnd = max(maxEnd, findings[end].End)
			end++
		}
		kept := resolveCluster(findings[start:end])
		// kept lies at or after len(out), so the copy only moves it left.
		out = append(out, kept...)
		start = end
	}
	return out
}

// resolveCluster ranks the findings best first, moves each one that
// overlaps no better one to the front, and returns that front sorted by
// position.
func resolveCluster(cluster []Finding) []Finding {
	if len(cluster) == 1 {
		return cluster
	}
	slices.SortFunc(cluster, compareRank)
	n := 0
	for i, f := range cluster {
		overlaps := false
		for _, k := range cluster[:n] {
			if f.Start < k.End && k.Start < f.End {
				overlaps = true
				break
			}
		}
		if !overlaps {
			cluster[n], cluster[i] = cluster[i], cluster[n]
			n++
		}
	}
	kept := cluster[:n]
	slices.SortFunc(kept, func(a, b Finding) int { return a.Start - b.Start })
	return kept
}

// compareRank orders findings best first for Resolve.
func compareRank(a, b Finding) int {
	if a.Len() != b.Len() {
		return b.Len() - a.Len()
	}
	if a.Confidence != b.Confidence {
		if a.Confidence > b.Confidence {
			return -1
		}
		return 1
	}
	if a.Start != b.Start {
		return a.Start - b.Start
	}
	if c := strings.Compare(string(a.Type), string(b.Type)); c != 0 {
		return c
	}
	return strings.Compare(a.Detector, b.Detector)
}

// Placeholder returns the mask that replaces a value of type t, for example
// "[PHI:SSN]". Placeholders contain no JSON-special characters, so masking
// inside a JSON string keeps it valid.
func Placeholder(t Type) string {
	return "[PHI:" + string(t) + "]"
}

// Mask returns text with every finding whose type is selected replaced by
// its Placeholder. A nil selector masks every finding. Bytes outside the
// masked spans are copied unchanged. Findings must be sorted and
// non-overlapping, as Scan returns them.
func Mask(text string, findings []Finding, selected func(Type) bool) string {
	var b strings.Builder
	last := 0
	for _, f := range findings {
		if selected != nil && !selected(f.Type) {
			continue
		}
		if f.Start < last || f.End > len(text) {
			continue
		}
		if b.Len() == 0 {
			b.Grow(len(text))
		}
		b.WriteString(text[last:f.Start])
		b.WriteString(Placeholder(f.Type))
		last = f.End
	}
	if last == 0 {
		return text
	}
	b.WriteString(text[last:])
	return b.String()
}

// Counts returns the number of findings of each type.
func Counts(findings []Finding) map[Type]int {
	counts := make(map[Type]int)
	for _, f := range findings {
		counts[f.Type]++
	}
	return counts
}
