package phi

import "math/bits"

// byteSet names a set of positions in a text at which a detector's scan
// can start a finding, defined by the byte at the position and the one
// before it. With an index, a detector loop visits only the positions of
// its set. The set is only a way to skip positions: the loop body still
// rejects every position it does not want, as when it visits every byte
// without an index. So a set may be wider than what the detector accepts.
// It may leave out a position only where the body would move on without
// reporting anything and without jumping over a position of the set,
// which TestScanMatchesReference and FuzzScanReference check.
//
// "Preceded" below means by the byte before the position; the first
// position of a text is preceded by nothing.
type byteSet uint8

const (
	setLetter byteSet = iota
	setAlnum
	// setNumberStart is the digits not preceded by a letter or digit.
	setNumberStart
	// setPhoneStart is the digits, '(' and '+' not preceded by a letter
	// or digit.
	setPhoneStart
	// setDateStart is setNumberStart and the uppercase letters not
	// preceded by a letter.
	setDateStart
	// setCapitalStart is the uppercase letters not preceded by a letter or
	// digit.
	setCapitalStart
	// setWordStart is the letters not preceded by a letter or digit.
	setWordStart
	// setLetterStart is the letters not preceded by a letter.
	setLetterStart
	// setDigitUpper is the digits and the uppercase letters.
	setDigitUpper
	// setDigitWordStart is the digits and the letters not preceded by a
	// letter or digit.
	setDigitWordStart
	// setCodeStart is every '(' and the digits, uppercase letters and
	// lowercase letters a to f not preceded by a letter or digit. Of the
	// coded identifiers only a MAC address starts in lowercase, and then
	// with a hexadecimal digit.
	setCodeStart
	// setNameVisit is the uppercase letters not preceded by a letter or
	// digit, and the lowercase letters not so preceded whose first two
	// bytes can open a name cue such as "patient", "wife" or "said" (see
	// nameCueWords).
	setNameVisit
	// setIDCue is the letters not preceded by a letter whose first two
	// bytes can open an identifier label (see idCuesByPrefix).
	setIDCue
	// setAddressVisit is the digits and the letters not preceded by a
	// letter or digit whose first two bytes can open a box, a unit or an
	// "address" label (see addressWords).
	setAddressVisit
	numByteSets
)

// Word triggers: bits of wordTriggers that put a word start in a set
// of words chosen by its first two bytes.
const (
	triggerName uint8 = 1 << iota
	triggerID
	triggerAddress
)

// wordTriggers holds, for the lowercased first letter of a word and the
// class of its second byte (its lowercased letter, or 26 for any byte that
// is not an ASCII letter), the trigger bits of the sets that the word
// start belongs to. The classes are those of prefixClasses, so a set is
// exactly the words whose first two bytes match a listed word's, which is
// wider than the list: "pa" admits "patient" and "pain".
var wordTriggers = func() (t [26][27]uint8) {
	add := func(word string, trigger uint8) {
		a, b := prefixClasses(word, 0)
		t[a][b] |= trigger
	}
	for _, w := range nameCueWords {
		add(w, triggerName)
	}
	for _, w := range relativeCues.members {
		add(w, triggerName)
	}
	for a := range idCuesByPrefix {
		for b := range idCuesByPrefix[a] {
			if len(idCuesByPrefix[a][b]) > 0 {
				t[a][b] |= triggerID
			}
		}
	}
	for _, w := range addressWords {
		add(w, triggerAddress)
	}
	return t
}()

// textIndex records, for one text, which positions belong to each byteSet,
// as one bitmap per set. Building it is one pass over the text, eight bytes
// at a time. A detector then moves from candidate to candidate with
// next, at the cost of one bit scan per 64 bytes without candidates,
// where walking the text costs a test per byte and per detector.
//
// A nil *textIndex is valid: next then returns every position, so the
// detector walks every byte, as it does when it runs alone through its
// Detect method.
type textIndex struct {
	// sets holds one bitmap per byteSet, with bit k%64 of word k/64 set
	// when byte k of the text is in the set.
	sets [numByteSets][]uint64
	// backing is the memory of all bitmaps, which build reuses.
	backing []uint64
}

// next returns the position of the first byte at or after i that is in
// set, or len(text) when there is none. It returns i when i >= len(text)
// or when ix is nil. ix must have been built for text.
func (ix *textIndex) next(text string, set byteSet, i int) int {
	if ix == nil || i >= len(text) {
		return i
	}
	bitmap := ix.sets[set]
	k := i >> 6
	m := bitmap[k] &^ (1<<(uint(i)&63) - 1)
	for m == 0 {
		k++
		if k >= len(bitmap) {
			return len(text)
		}
		m = bitmap[k]
	}
	return k<<6 | bits.TrailingZeros64(m)
}

// wordEnd returns the end of the run of ASCII letters starting at i, as
// the function wordEnd does, reading the letter bitmap when ix is not nil.
func (ix *textIndex) wordEnd(text string, i int) int {
	if ix == nil || i >= len(text) {
		return wordEnd(text, i)
	}
	return ix.runEnd(text, setLetter, i)
}

// alnumEnd returns the end of the run of ASCII letters and digits starting
// at i, as the function alnumEnd does, reading the bitmap when ix is not
// nil.
func (ix *textIndex) alnumEnd(text string, i int) int {
	if ix == nil || i >= len(text) {
		return alnumEnd(text, i)
	}
	return ix.runEnd(text, setAlnum, i)
}

// runEnd returns the position of the first byte at or after i, which must
// be inside text, that is not in set, or len(text).
func (ix *textIndex) runEnd(text string, set byteSet, i int) int {
	bitmap := ix.sets[set]
	k := i >> 6
	m := ^bitmap[k] &^ (1<<(uint(i)&63) - 1)
	for m == 0 {
		k++
		if k >= len(bitmap) {
			return len(text)
		}
		m = ^bitmap[k]
	}
	// Past the end of the text the bitmap is zero, so the first position
	// outside the set is at most len(text).
	return min(k<<6|bits.TrailingZeros64(m), len(text))
}

// build indexes text, reusing the memory of an earlier build.
func (ix *textIndex) build(text string) {
	blocks := (len(text) + 63) / 64
	if len(ix.backing) < blocks*int(numByteSets) {
		ix.backing = make([]uint64, blocks*int(numByteSets))
	}
	for s := range ix.sets {
		ix.sets[s] = ix.backing[s*blocks : (s+1)*blocks : (s+1)*blocks]
	}

	// carryAlnum and carryLetter tell whether the last byte of the
	// previous block is a letter or digit, and a letter.
	var carryAlnum, carryLetter uint64
	for block := range blocks {
		var c byteClasses
		if chunk := text[block*64:]; len(chunk) >= 64 {
			c = classify64(chunk)
		} else {
			c = classifyTail(chunk)
		}
		letter := c.upper | c.lower
		alnum := c.digit | letter
		afterAlnum := alnum<<1 | carryAlnum
		afterLetter := letter<<1 | carryLetter
		carryAlnum, carryLetter = alnum>>63, letter>>63

		numberStart := c.digit &^ afterAlnum
		ix.sets[setLetter][block] = letter
		ix.sets[setAlnum][block] = alnum
		ix.sets[setNumberStart][block] = numberStart
		ix.sets[setPhoneStart][block] = (c.digit | c.paren | c.plus) &^ afterAlnum
		ix.sets[setDateStart][block] = numberStart | c.upper&^afterLetter
		ix.sets[setCapitalStart][block] = c.upper &^ afterAlnum
		ix.sets[setWordStart][block] = letter &^ afterAlnum
		ix.sets[setLetterStart][block] = letter &^ afterLetter
		ix.sets[setDigitUpper][block] = c.digit | c.upper
		ix.sets[setDigitWordStart][block] = c.digit | alnum&^afterAlnum
		ix.sets[setCodeStart][block] = (c.digit|c.upper|c.lowerHex)&^afterAlnum | c.paren

		name, id, address := wordTriggerSets(text, block, letter&^afterLetter, afterAlnum)
		ix.sets[setNameVisit][block] = c.upper&^afterAlnum | name
		ix.sets[setIDCue][block] = id
		ix.sets[setAddressVisit][block] = c.digit | address
	}
}

// wordTriggerSets looks up the first two bytes of each letter start of
// one block in wordTriggers and returns the bitmaps of the block's
// positions in the name, identifier and address trigger sets. Name and
// address triggers count only at word starts, identifier triggers at every
// letter start, as their detectors visit them.
func wordTriggerSets(text string, block int, letterStarts, afterAlnum uint64) (name, id, address uint64) {
	base := block * 64
	for m := letterStarts; m != 0; m &= m - 1 {
		k := bits.TrailingZeros64(m)
		a, b := prefixClasses(text, base+k)
		t := wordTriggers[a][b]
		if t == 0 {
			continue
		}
		bit := uint64(1) << k
		if t&triggerID != 0 {
			id |= bit
		}
		if afterAlnum&bit != 0 {
			continue
		}
		if t&triggerName != 0 {
			name |= bit
		}
		if t&triggerAddress != 0 {
			address |= bit
		}
	}
	return name, id, address
}

// byteClasses holds bitmaps of 64 bytes, with bit k for byte k.
type byteClasses struct {
	digit, upper, lower uint64
	// lowerHex is the lowercase letters a to f.
	lowerHex    uint64
	paren, plus uint64
}

// classifyTail is classify64 for the last block of a text when it is
// shorter than 64 bytes.
func classifyTail(chunk string) byteClasses {
	var c byteClasses
	for k := 0; k < len(chunk); k++ {
		b := chunk[k]
		bit := uint64(1) << k
		switch {
		case isDigit(b):
			c.digit |= bit
		case isUpper(b):
			c.upper |= bit
		case isLower(b):
			c.lower |= bit
			if b <= 'f' {
				c.lowerHex |= bit
			}
		case b == '(':
			c.paren |= bit
		case b == '+':
			c.plus |= bit
		}
	}
	return c
}

// load8 returns the eight bytes of s at i as a little-endian word. The
// compiler turns the expression into one load.
func load8(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

const (
	lowBits  = 0x0101010101010101
	highBits = 0x8080808080808080
)

// classify64 classifies the first 64 bytes of chunk, eight at a time.
func classify64(chunk string) byteClasses {
	var c byteClasses
	chunk = chunk[:64]
	for k := 0; k < 64; k += 8 {
		w := load8(chunk, k)
		// With the top bits cleared, adding a per-byte constant cannot
		// carry into the next byte, and inRange drops bytes of 0x80 and
		// above.
		x := w &^ highBits
		c.digit |= movemask(inRange(w, x, '0', '9')) << k
		c.upper |= movemask(inRange(w, x, 'A', 'Z')) << k
		c.lower |= movemask(inRange(w, x, 'a', 'z')) << k
		c.lowerHex |= movemask(inRange(w, x, 'a', 'f')) << k
		c.paren |= movemask(inRange(w, x, '(', '(')) << k
		c.plus |= movemask(inRange(w, x, '+', '+')) << k
	}
	return c
}

// inRange returns the top bit of each byte of v that lies in [lo, hi],
// cleared for bytes whose original value in w is not ASCII. Every byte of
// v must be below 0x80, and lo above 0.
func inRange(w, v uint64, lo, hi byte) uint64 {
	atLeastLo := v + lowBits*uint64(0x80-lo)
	aboveHi := v + lowBits*uint64(0x7f-hi)
	return atLeastLo &^ aboveHi &^ w & highBits
}

// movemask gathers the top bit of each byte of m into bits 0 to 7.
func movemask(m uint64) uint64 {
	return (m >> 7) * 0x0102040810204080 >> 56
}
