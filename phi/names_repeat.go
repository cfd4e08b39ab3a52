package phi

import (
	"slices"
	"strings"
)

// A name found once in a text names the same person wherever else it
// occurs, even where no cue surrounds it: "Faina D. Yefremova's tales"
// then "early Yefremova", or "my name is borna jerković but everyone
// calls me borna". repeatNames marks those other occurrences.

// maxRepeatedNameWords bounds how many distinct name words one text
// propagates, so that the extra cost stays linear in the text length
// with a small factor. A text with more distinct names is rare and still
// has each name found where its own cues are.
const maxRepeatedNameWords = 16

// minRepeatedNameLen is the shortest name word, in bytes, that is
// propagated. Shorter words ("Al", "Bo") are too often parts of other
// words or abbreviations.
const minRepeatedNameLen = 3

// repeatedNameDetector is the Detector of the findings that repeatNames
// adds.
const repeatedNameDetector = "name_repeated"

// repeatNames returns dst with the resolved findings of text and a NAME
// finding for every other whole-word occurrence, with the same bytes, of
// each word of their NAME findings, or nil when there is no such
// occurrence. resolved must be sorted and free of overlaps, as Resolve
// returns it. An occurrence that overlaps a finding is skipped, so the
// result needs sorting but no further resolving. A word that an English
// dictionary lists ("Will", "Young", "brown") is not propagated, because
// its other occurrences are more often the word than the name.
func repeatNames(text string, resolved, dst []Finding) []Finding {
	var words [maxRepeatedNameWords]string
	n := 0
	for _, f := range resolved {
		if n == len(words) {
			break
		}
		if f.Type != TypeName || f.End > len(text) {
			continue
		}
		for i := f.Start; i < f.End && n < len(words); {
			if !isNameWordByte(text[i]) {
				i++
				continue
			}
			end := i
			for end < f.End && isNameWordByte(text[end]) {
				end++
			}
			word := text[i:end]
			i = end
			if len(word) < minRepeatedNameLen || isDigit(word[0]) || slices.Contains(words[:n], word) || containsDigit(word) || lookupWord(word).common {
				continue
			}
			words[n] = word
			n++
		}
	}

	added := false
	for _, word := range words[:n] {
		for from := 0; from < len(text); {
			at := strings.Index(text[from:], word)
			if at < 0 {
				break
			}
			start := from + at
			end := start + len(word)
			from = end
			if start > 0 && isNameWordByte(text[start-1]) || end < len(text) && isNameWordByte(text[end]) || overlapsFinding(resolved, start, end) {
				continue
			}
			if !added {
				dst = append(dst, resolved...)
				added = true
			}
			dst = append(dst, Finding{Type: TypeName, Start: start, End: end, Confidence: confNameSingle, Detector: repeatedNameDetector})
		}
	}
	if !added {
		return nil
	}
	return dst
}

// isNameWordByte reports whether c may be part of a name word: an ASCII
// letter or digit, or any byte of a character outside ASCII.
func isNameWordByte(c byte) bool {
	return isAlnum(c) || c >= 0x80
}

// overlapsFinding reports whether text[start:end] overlaps a finding of
// sorted, which is sorted by Start and free of overlaps.
func overlapsFinding(sorted []Finding, start, end int) bool {
	k, _ := slices.BinarySearchFunc(sorted, end, func(f Finding, pos int) int { return f.Start - pos })
	// sorted[k-1] is the last finding that starts before end.
	return k > 0 && sorted[k-1].End > start
}
