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
	// setPhoneStart is the digits and the bytes '(' to '+' not preceded by
	// a letter or digit.
	setPhoneStart
	// setDateStart is setNumberStart and the uppercase letters not
	// preceded by a letter whose first two bytes, in any case, can open
	// a month or weekday name (see monthNames and weekdayNames).
	setDateStart
	// setPlaceStart is setCapitalStart and the first bytes of characters
	// outside ASCII not preceded by an ASCII letter or digit.
	setPlaceStart
	// setCapitalStart is the uppercase letters not preceded by a letter or
	// digit.
	setCapitalStart
	// setCapitalPair is the positions of setCapitalStart followed by an
	// uppercase letter or a digit, which can open a postcode ("SW1A",
	// "K1A") or a coded identifier ("AB1234563", a VIN).
	setCapitalPair
	// setWordStart is the letters not preceded by a letter or digit.
	setWordStart
	// setLetterStart is the letters not preceded by a letter.
	setLetterStart
	// setCodeStart is every byte '(' to '+', the digits not preceded by
	// a letter or digit, the positions of setCapitalPair, and the letters
	// a to f in either case not preceded by a letter or digit that open a
	// MAC group: the next byte is a hexadecimal digit and the one after it
	// ':' or '-'. A GS1 identifier opens with '('. Of the coded
	// identifiers only a MAC address starts in lowercase or with a
	// capital before a lowercase letter ("Ab:").
	setCodeStart
	// setPostcodeStart is setNumberStart and setCapitalPair.
	setPostcodeStart
	// setNameVisit is the positions not preceded by an ASCII letter or
	// digit that hold an uppercase letter or the first byte of a
	// character outside ASCII. It also holds the lowercase letters not so
	// preceded whose first two bytes can open a name cue such as
	// "patient", "wife" or "said" (see nameCueWords).
	setNameVisit
	// setNameCue is the letters not preceded by a letter or digit whose
	// first two bytes, in any case, can open a name cue (see nameCueWords
	// and relativeCues).
	setNameCue
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
	// triggerMACGroup marks a word start whose first two bytes are
	// hexadecimal digits; the index then tests the third byte.
	triggerMACGroup
	triggerDateWord
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
	for _, names := range monthNames {
		for _, w := range names {
			add(w, triggerDateWord)
		}
	}
	for _, w := range weekdayNames {
		add(w, triggerDateWord)
	}
	// The class 26 of a second byte that is not a letter includes the
	// digits, so a group such as "a1" passes and the index checks the
	// byte itself.
	for a := range 6 {
		for _, b := range []int{0, 1, 2, 3, 4, 5, 26} {
			t[a][b] |= triggerMACGroup
		}
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

	// wordRank holds, for each 64-bit word of the setWordStart bitmap, the
	// number of word starts before it, so that the word starts of the
	// text are numbered in order.
	wordRank []uint32
	// words caches, by that number, the lexicon lookup of the word at
	// each word start (see lookup). A slot is valid in the scan whose
	// generation it holds, so a new build empties the cache without
	// clearing it.
	words      []wordSlot
	generation uint32
}

// inSet reports whether text[i:end] is in set, as inWordSet does, reading
// the cached lookup of the word when ix is not nil.
func (ix *textIndex) inSet(text string, i, end int, set *wordSet) bool {
	return set.mayHold(text[i:end]) && ix.wordSets(text, i, end)&set.bit != 0
}

// wordSlot is one cached lexicon lookup: the entry, with its word-set
// mask, of the word that ends at end.
type wordSlot struct {
	entry      lexEntry
	end        int32
	generation uint32
}

// lookup returns lookupWord(text[i:end]). When i is a word start of the
// index it looks the word up once per scan and then reads the cached
// entry, so that the detectors of names, places and addresses share one
// lookup per word. A request for the same start with another end, such
// as "Smith" of "Smith-Jones", is looked up without the cache.
func (ix *textIndex) lookup(text string, i, end int) lexEntry {
	if slot := ix.slot(text, i, end); slot != nil {
		return slot.entry
	}
	return lookupWord(text[i:end])
}

// wordSets returns lookup(text, i, end).sets.
func (ix *textIndex) wordSets(text string, i, end int) uint64 {
	if slot := ix.slot(text, i, end); slot != nil {
		return slot.entry.sets
	}
	return lookupWord(text[i:end]).sets
}

// slot returns the cache slot of the word text[i:end], filled, or nil
// when the word is not cached: ix is nil, i is not a word start, or the
// slot holds the word at i with another end.
func (ix *textIndex) slot(text string, i, end int) *wordSlot {
	if ix == nil || i >= end || end > 1<<31-1 {
		return nil
	}
	starts := ix.sets[setWordStart]
	k := i >> 6
	bit := uint64(1) << (uint(i) & 63)
	if starts[k]&bit == 0 {
		return nil
	}
	slot := &ix.words[ix.wordRank[k]+uint32(bits.OnesCount64(starts[k]&(bit-1)))]
	if slot.generation != ix.generation {
		slot.entry = lookupWord(text[i:end])
		slot.end, slot.generation = int32(end), ix.generation
	} else if int(slot.end) != end {
		return nil
	}
	return slot
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

// prevLetterStart returns the last position at or before i, and at or
// after from, that is in setLetterStart, or from-1 when there is none.
// Without an index it returns i, so that a caller walks every byte.
func (ix *textIndex) prevLetterStart(text string, i, from int) int {
	if ix == nil || i < from {
		return i
	}
	bitmap := ix.sets[setLetterStart]
	k := i >> 6
	m := bitmap[k] & (2<<(uint(i)&63) - 1)
	for m == 0 {
		k--
		if k < from>>6 {
			return from - 1
		}
		m = bitmap[k]
	}
	return max(k<<6|(63-bits.LeadingZeros64(m)), from-1)
}

// has reports whether position i of text is in set. Without an index it
// returns true, so that a caller tests the position itself.
func (ix *textIndex) has(set byteSet, i int) bool {
	return ix == nil || ix.sets[set][i>>6]&(1<<(uint(i)&63)) != 0
}

// wordEnd returns the end of the run of ASCII letters starting at i, as
// the function wordEnd does, reading the letter bitmap when ix is not nil.
func (ix *textIndex) wordEnd(text string, i int) int {
	if ix != nil && i < len(text) {
		// Most words end inside the 64-byte block they start in. The
		// bits past the end of the text are zero, so the result is at
		// most len(text).
		if m := ^ix.sets[setLetter][i>>6] >> (uint(i) & 63); m != 0 {
			return i + bits.TrailingZeros64(m)
		}
	}
	return ix.wordEndSlow(text, i)
}

// wordEndSlow is wordEnd for a word that reaches the next block or for a
// nil index. It is apart so that the common case compiles inline.
func (ix *textIndex) wordEndSlow(text string, i int) int {
	if ix == nil || i >= len(text) {
		return wordEnd(text, i)
	}
	return ix.runEnd(text, setLetter, i)
}

// alnumEnd returns the end of the run of ASCII letters and digits starting
// at i, as the function alnumEnd does, reading the bitmap when ix is not
// nil.
func (ix *textIndex) alnumEnd(text string, i int) int {
	if ix != nil && i < len(text) {
		if m := ^ix.sets[setAlnum][i>>6] >> (uint(i) & 63); m != 0 {
			return i + bits.TrailingZeros64(m)
		}
	}
	return ix.alnumEndSlow(text, i)
}

// alnumEndSlow is alnumEnd for a run that reaches the next block or for a
// nil index.
func (ix *textIndex) alnumEndSlow(text string, i int) int {
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
	if cap(ix.wordRank) < blocks {
		ix.wordRank = make([]uint32, blocks)
	}
	ix.wordRank = ix.wordRank[:blocks]
	words := uint32(0)

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
		ix.sets[setPhoneStart][block] = (c.digit | c.open) &^ afterAlnum
		ix.sets[setCapitalStart][block] = c.upper &^ afterAlnum
		ix.sets[setPlaceStart][block] = (c.upper | c.lead) &^ afterAlnum
		ix.sets[setWordStart][block] = letter &^ afterAlnum
		ix.wordRank[block] = words
		words += uint32(bits.OnesCount64(letter &^ afterAlnum))
		ix.sets[setLetterStart][block] = letter &^ afterLetter
		// upperOrDigitNext has bit k set when byte k+1 is an uppercase
		// letter or a digit; bit 63 reads the first byte of the next block.
		upperOrDigitNext := (c.upper | c.digit) >> 1
		if p := block*64 + 64; p < len(text) && (isUpper(text[p]) || isDigit(text[p])) {
			upperOrDigitNext |= 1 << 63
		}
		capitalPair := c.upper &^ afterAlnum & upperOrDigitNext
		ix.sets[setCapitalPair][block] = capitalPair
		ix.sets[setPostcodeStart][block] = numberStart | capitalPair

		name, id, address, mac, dateWord := wordTriggerSets(text, block, letter&^afterLetter, afterAlnum)
		ix.sets[setDateStart][block] = numberStart | c.upper&dateWord
		ix.sets[setCodeStart][block] = numberStart | capitalPair | c.open | mac
		ix.sets[setNameVisit][block] = (c.upper|c.lead)&^afterAlnum | name
		ix.sets[setNameCue][block] = name
		ix.sets[setIDCue][block] = id
		ix.sets[setAddressVisit][block] = c.digit | address
	}

	if int(words) > len(ix.words) {
		ix.words = make([]wordSlot, words+words/4)
	}
	ix.clearWords()
}

// clearWords empties the word cache by starting a new generation. When
// the counter wraps, old slots could read as valid, so they are cleared.
func (ix *textIndex) clearWords() {
	ix.generation++
	if ix.generation == 0 {
		clear(ix.words)
		ix.generation = 1
	}
}

// wordTriggerSets looks up the first two bytes of each letter start of
// one block in wordTriggers and returns the bitmaps of the block's
// positions in the name, identifier, address and date-word trigger sets,
// and of the word starts that open a MAC group ("a1:" or "ff-", in either
// case). Name, address and MAC triggers count only at word starts,
// identifier and date-word triggers at every letter start, as their detectors
// visit them.
func wordTriggerSets(text string, block int, letterStarts, afterAlnum uint64) (name, id, address, mac, dateWord uint64) {
	base := block * 64
	for m := letterStarts; m != 0; m &= m - 1 {
		k := bits.TrailingZeros64(m)
		// The classes of prefixClasses, computed in place because this
		// loop runs for every word.
		a, b := (text[base+k]|0x20)-'a', byte(26)
		if p := base + k + 1; p < len(text) && isLetter(text[p]) {
			b = (text[p] | 0x20) - 'a'
		}
		t := wordTriggers[a][b]
		if t == 0 {
			continue
		}
		// Shifts in place of a branch per trigger, because which triggers
		// a word has varies from word to word.
		name |= uint64(t&triggerName) << k
		id |= uint64(t&triggerID) >> 1 << k
		address |= uint64(t&triggerAddress) >> 2 << k
		dateWord |= uint64(t&triggerDateWord) >> 4 << k
		if t&triggerMACGroup != 0 && macGroupAt(text, base+k) {
			mac |= uint64(1) << k
		}
	}
	// Name, address and MAC triggers count only at word starts.
	return name &^ afterAlnum, id, address &^ afterAlnum, mac &^ afterAlnum, dateWord
}

// macGroupAt reports whether text[i:] opens with two hexadecimal digits
// and ':' or '-'.
func macGroupAt(text string, i int) bool {
	return i+2 < len(text) && (text[i+2] == ':' || text[i+2] == '-') && isHex(text[i]) && isHex(text[i+1])
}

// byteClasses holds bitmaps of 64 bytes, with bit k for byte k.
type byteClasses struct {
	digit, upper, lower uint64
	// open is the bytes '(' to '+', which hold the '(' and '+' that open
	// a phone number or a device identifier, and ')' and '*' with them,
	// because one range costs less than two bytes tested apart.
	open uint64
	// lead is the bytes from 0xC0 up, which start a UTF-8 sequence of a
	// character outside ASCII.
	lead uint64
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
		case '(' <= b && b <= '+':
			c.open |= bit
		case b >= 0xC0:
			c.lead |= bit
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
		c.open |= movemask(inRange(w, x, '(', '+')) << k
		if w&highBits != 0 {
			c.lead |= movemask(w&(w<<1)&highBits) << k
		}
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
