package translate

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
)

// A span is the byte range of one JSON value in a document.
type span struct{ start, end int }

// findSpans returns the byte spans of the values whose paths are in want.
// A path is the keys and array indices from the root joined by dots, such
// as "choices.0.delta.content". Finding spans lets an edit replace one value
// and keep every other byte of the document, so that key order, number
// formatting and fields this package does not know reach the client as the
// provider sent them.
func findSpans(doc []byte, want map[string]bool) (map[string]span, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()

	type frame struct {
		array bool
		key   string
		index int
		// open is the path and start of a wanted container that began here.
		openPath  string
		openStart int
	}
	var stack []frame
	found := map[string]span{}
	expectKey := false
	path := func() string {
		parts := make([]string, 0, len(stack))
		for _, f := range stack {
			if f.array {
				parts = append(parts, strconv.Itoa(f.index))
			} else {
				parts = append(parts, f.key)
			}
		}
		return strings.Join(parts, ".")
	}
	endValue := func() {
		if len(stack) == 0 {
			return
		}
		top := &stack[len(stack)-1]
		if top.array {
			top.index++
		} else {
			expectKey = true
		}
	}

	for {
		before := int(dec.InputOffset())
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, invalid("$", "not valid JSON")
		}
		end := int(dec.InputOffset())
		start := skipSeparators(doc, before)

		if expectKey {
			expectKey = false
			if d, ok := tok.(json.Delim); ok && d == '}' {
				closed := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				if closed.openPath != "" {
					found[closed.openPath] = span{closed.openStart, end}
				}
				endValue()
				continue
			}
			stack[len(stack)-1].key = tok.(string)
			continue
		}

		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{', '[':
				f := frame{array: v == '['}
				if p := path(); len(stack) > 0 && want[p] {
					f.openPath, f.openStart = p, start
				}
				stack = append(stack, f)
				expectKey = v == '{'
			case ']':
				closed := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				if closed.openPath != "" {
					found[closed.openPath] = span{closed.openStart, end}
				}
				endValue()
			}
		default:
			if len(stack) > 0 {
				if p := path(); want[p] {
					found[p] = span{start, end}
				}
			}
			endValue()
		}
	}
	if len(stack) != 0 {
		return nil, invalid("$", "not valid JSON")
	}
	return found, nil
}

// skipSeparators returns the offset of the first byte at or after i that is
// not whitespace, a comma or a colon: the start of the next token.
func skipSeparators(doc []byte, i int) int {
	for i < len(doc) {
		switch doc[i] {
		case ' ', '\t', '\r', '\n', ',', ':':
			i++
		default:
			return i
		}
	}
	return i
}

// spliceEdit replaces the value at span with value.
type spliceEdit struct {
	at    span
	value []byte
}

// splice returns doc with each edit applied. Edits must not overlap.
func splice(doc []byte, edits []spliceEdit) []byte {
	if len(edits) == 0 {
		return doc
	}
	slices.SortFunc(edits, func(a, b spliceEdit) int { return a.at.start - b.at.start })
	var out bytes.Buffer
	out.Grow(len(doc))
	last := 0
	for _, e := range edits {
		out.Write(doc[last:e.at.start])
		out.Write(e.value)
		last = e.at.end
	}
	out.Write(doc[last:])
	return out.Bytes()
}
