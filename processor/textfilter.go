package processor

import (
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/phigate/phigate/phi"
	"github.com/phigate/phigate/translate"
)

// outputHoldBytes is how many trailing bytes of model output the output
// scanner keeps back while a part is still streaming, because a value that
// ends there, such as a name or a street address, may continue in the next
// event. Identifiers phigate detects are shorter than this, except long
// street addresses, whose tail may then reach the client before the rest
// of the address is seen.
const outputHoldBytes = 64

// outputContextBytes is how much already sent output is kept in front of
// the held text when scanning it, so that cues such as "Patient:" still
// count.
const outputContextBytes = 64

// responseFilter changes model output on its way to the client. It puts
// back the values that pseudonymization replaced in the request. When the
// decision has response_redact, it also masks PHI that the request did
// not contain. It
// implements translate.TextFilter, which calls it for every piece of text
// and tool-call arguments, in order, part by part.
type responseFilter struct {
	pseudo *phi.Pseudonymizer
	// scanner is nil when output is not scanned.
	scanner *phi.Scanner
	mask    func(phi.Type) bool
	// known holds the PHI values of the request, which the output may
	// repeat without being masked: the client sent them.
	known map[string]bool
	parts map[translate.PartKey]*partState
	// masked counts the values masked in the output, by type.
	masked map[string]int
}

type partState struct {
	restorer *phi.StreamRestorer
	// pending is restored output not yet released to the client.
	pending string
	// sent is the tail of what was released, kept as detector context.
	sent string
}

func newResponseFilter(pseudo *phi.Pseudonymizer, scanner *phi.Scanner, maskTypes []string, known map[string]bool) *responseFilter {
	f := &responseFilter{pseudo: pseudo, known: known, parts: map[translate.PartKey]*partState{}, masked: map[string]int{}}
	if scanner != nil && len(maskTypes) > 0 {
		f.scanner = scanner
		set := map[phi.Type]bool{}
		for _, t := range maskTypes {
			set[phi.Type(t)] = true
		}
		f.mask = func(t phi.Type) bool { return set[t] }
	}
	return f
}

func (f *responseFilter) part(key translate.PartKey) *partState {
	st, ok := f.parts[key]
	if !ok {
		st = &partState{}
		if f.pseudo != nil {
			if key.Kind == translate.PartJSON {
				st.restorer = f.pseudo.NewStreamRestorerWith(jsonStringContent)
			} else {
				st.restorer = f.pseudo.NewStreamRestorer()
			}
		}
		f.parts[key] = st
	}
	return st
}

// Next returns the output to send now for the next piece of a part.
func (f *responseFilter) Next(key translate.PartKey, text string) string {
	st := f.part(key)
	if st.restorer != nil {
		text = st.restorer.Next(text)
	}
	if f.scanner == nil {
		return text
	}
	st.pending += text
	return f.release(st, false)
}

// Flush returns whatever the part still holds, at its end.
func (f *responseFilter) Flush(key translate.PartKey) string {
	st := f.part(key)
	var text string
	if st.restorer != nil {
		text = st.restorer.Flush()
	}
	if f.scanner == nil {
		delete(f.parts, key)
		return text
	}
	st.pending += text
	out := f.release(st, true)
	delete(f.parts, key)
	return out
}

// release returns the part of the pending output that can go to the
// client, with new PHI masked. At the end of a part that is all of it.
// Otherwise it is all but the last outputHoldBytes, cut at a space and
// never inside a finding. The scan sees some sent output before the
// pending text, so that cues such as "Patient:" still count.
func (f *responseFilter) release(st *partState, final bool) string {
	if st.pending == "" {
		return ""
	}
	cut := len(st.pending)
	if !final {
		cut = max(0, len(st.pending)-outputHoldBytes)
		if i := strings.LastIndexAny(st.pending[:cut], " \t\n"); i >= 0 {
			cut = i + 1
		} else {
			cut = 0
		}
	}
	if cut == 0 {
		// Nothing can be released yet, so the scan waits for more text.
		return ""
	}

	window := st.sent + st.pending
	offset := len(st.sent)
	findings := f.scanner.Scan(window)
	if !final {
		for _, fd := range findings {
			if fd.Start-offset < cut && fd.End-offset > cut {
				cut = max(0, fd.Start-offset)
			}
		}
	}
	if cut == 0 {
		return ""
	}

	out := st.pending[:cut]
	var selected []phi.Finding
	for _, fd := range findings {
		start, end := fd.Start-offset, fd.End-offset
		if start < 0 || end > cut || !f.mask(fd.Type) || f.known[window[fd.Start:fd.End]] {
			continue
		}
		fd.Start, fd.End = start, end
		selected = append(selected, fd)
		f.masked[string(fd.Type)]++
	}
	if len(selected) > 0 {
		out = phi.Mask(out, selected, nil)
	}

	sent := st.sent + st.pending[:cut]
	if len(sent) > outputContextBytes {
		sent = sent[len(sent)-outputContextBytes:]
		for len(sent) > 0 && !utf8.RuneStart(sent[0]) {
			sent = sent[1:]
		}
	}
	st.sent = sent
	st.pending = st.pending[cut:]
	return out
}

// jsonStringContent returns s escaped for use inside a JSON string,
// without the quotes.
func jsonStringContent(s string) string {
	data, err := json.Marshal(s)
	if err != nil {
		// Marshalling a string cannot fail.
		return s
	}
	return string(data[1 : len(data)-1])
}
