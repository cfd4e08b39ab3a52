package translate

import (
	"encoding/json"
	"strings"
	"testing"
)

// restoreFilter is a test double for pseudonym restoration. It replaces the
// placeholder "[NAME_1]" with a synthetic name, and keeps back any text from
// an unclosed "[" because the next delta may complete a placeholder.
type restoreFilter struct {
	held    map[PartKey]string
	flushes map[PartKey]int
	seen    map[PartKey]bool
}

const (
	placeholder  = "[NAME_1]"
	restoredName = `Pat "Example"` // the quotes test JSON escaping
)

func newRestoreFilter() *restoreFilter {
	return &restoreFilter{held: map[PartKey]string{}, flushes: map[PartKey]int{}, seen: map[PartKey]bool{}}
}

func (f *restoreFilter) Next(key PartKey, text string) string {
	if f.flushes[key] > 0 && !f.seen[key] {
		f.flushes[key] = 0 // a part reopened after a flush starts over
	}
	f.seen[key] = true
	s := f.held[key] + text
	cut := len(s)
	if i := strings.LastIndexByte(s, '['); i >= 0 && !strings.Contains(s[i:], "]") {
		cut = i
	}
	f.held[key] = s[cut:]
	return restore(key, s[:cut])
}

func (f *restoreFilter) Flush(key PartKey) string {
	f.flushes[key]++
	f.seen[key] = false
	s := f.held[key]
	delete(f.held, key)
	return restore(key, s)
}

func restore(key PartKey, s string) string {
	name := restoredName
	if key.Kind == PartJSON {
		quoted, _ := json.Marshal(restoredName)
		name = string(quoted[1 : len(quoted)-1])
	}
	return strings.ReplaceAll(s, placeholder, name)
}

// checkFlushed fails unless every part the filter saw was flushed once and
// nothing is still held.
func (f *restoreFilter) checkFlushed(t *testing.T) {
	t.Helper()
	for key, seen := range f.seen {
		if seen {
			t.Errorf("part %+v was never flushed", key)
		}
	}
	for key, n := range f.flushes {
		if n > 1 {
			t.Errorf("part %+v was flushed %d times", key, n)
		}
	}
	if len(f.held) != 0 {
		t.Errorf("filter still holds %d parts", len(f.held))
	}
}
