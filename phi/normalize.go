package phi

import (
	"sort"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Normalization lets every detector see through common obfuscation of PHI
// while keeping findings in the caller's byte offsets. Before detectors
// run, Scanner.Scan maps the text to a view in which:
//
//   - decimal digits of any script (Arabic-Indic, Devanagari, full-width,
//     mathematical) become ASCII digits;
//   - full-width ASCII forms become ASCII, and the compatibility characters
//     of a few blocks (superscripts, circled numbers, letterlike symbols
//     such as "№", ligatures, mathematical letters) take their NFKC form;
//   - Cyrillic and Greek letters that look like Latin ones become Latin,
//     but only inside words whose other letters are Latin or look-alikes,
//     so Russian or Greek prose is left alone;
//   - dashes become '-', spaces become ' ', typographic quotes become
//     ASCII quotes and the division slash becomes '/';
//   - format characters (zero-width spaces and joiners, bidirectional
//     controls, the soft hyphen, the byte order mark), variation
//     selectors and enclosing marks are removed, as are combining marks
//     that follow an ASCII character;
//   - Unicode tag characters become the ASCII they encode, because they
//     hide text from a reader but not from a model;
//   - JSON string escapes are decoded ("\n" becomes a line break, "\u0039"
//     becomes "9", "\"" becomes a quote), so an escape never glues two
//     tokens together.
//
// Text that is ASCII and holds no backslash, the common case, is scanned
// as it is, without allocating. So is any text in which nothing needs to
// change, such as prose with accented letters.

// normView is the normalized view of a text and the map from the view's
// bytes back to the original text.
type normView struct {
	text string
	// segs tile the view in order. Each covers view bytes
	// [out, next segment's out) and comes from original bytes
	// [src, srcEnd).
	segs    []normSegment
	srcText string
}

// normSegment is one run of the view. An identity segment was copied byte
// for byte, so offsets inside it map one to one. Any other segment is the
// replacement for one original character or escape, and each of its bytes
// maps to the whole original span.
type normSegment struct {
	out, src, srcEnd int
	identity         bool
}

// needsNormalizing returns the index of the first byte that may need
// normalizing (a non-ASCII byte or a backslash), or -1.
func needsNormalizing(text string) int {
	i := 0
	for ; i+8 <= len(text); i += 8 {
		w := load8(text, i)
		// A byte is non-ASCII when its top bit is set. A byte equals '\\'
		// (0x5c) when it is zero after XOR, found with the usual
		// has-zero-byte test.
		x := w ^ 0x5c5c5c5c5c5c5c5c
		if w&0x8080808080808080 != 0 || (x-0x0101010101010101)&^x&0x8080808080808080 != 0 {
			break
		}
	}
	for ; i < len(text); i++ {
		if c := text[i]; c >= utf8.RuneSelf || c == '\\' {
			return i
		}
	}
	return -1
}

// normalize returns the normalized view of text, or nil when the view
// would equal text.
func normalize(text string) *normView {
	first := needsNormalizing(text)
	if first < 0 {
		return nil
	}
	b := normBuilder{src: text, scratch: make([]byte, 0, 32)}
	b.run(first)
	if b.out == nil {
		return nil
	}
	b.flushIdentity(len(text))
	return &normView{text: string(b.out), segs: b.segs, srcText: text}
}

// normBuilder builds a view. It allocates nothing until the first change,
// so text that needs no change costs one pass.
type normBuilder struct {
	src  string
	out  []byte
	segs []normSegment
	// copied is the end of the original text already in out, or the start
	// of the pending identity run.
	copied int
	// lastASCII reports whether the last byte in the view is ASCII, which
	// decides whether a combining mark is removed.
	lastASCII bool
	// wordEnd and wordLatin cache the look-alike decision for the word
	// that ends at wordEnd.
	wordEnd   int
	wordLatin bool
	scratch   []byte
}

func (b *normBuilder) run(i int) {
	b.lastASCII = i > 0
	for i < len(b.src) {
		c := b.src[i]
		if c < utf8.RuneSelf && c != '\\' {
			b.lastASCII = true
			i++
			continue
		}
		if c == '\\' {
			i = b.escape(i)
			continue
		}
		r, size := utf8.DecodeRuneInString(b.src[i:])
		if r == utf8.RuneError && size == 1 {
			b.lastASCII = false
			i++
			continue
		}
		lookalike := b.latinWord(i)
		b.replace(i, i+size, r, lookalike, false)
		i += size
	}
}

// replace folds the rune r that spans original bytes [start, end) and
// records the result. escaped reports that the original bytes are a JSON
// escape, so the rune must be written even when it folds to itself.
func (b *normBuilder) replace(start, end int, r rune, lookalike, escaped bool) {
	out, action := b.foldRune(r, lookalike)
	switch action {
	case foldKeep:
		if escaped {
			b.emit(start, end, utf8.AppendRune(b.scratch[:0], r))
			return
		}
		b.lastASCII = r < utf8.RuneSelf
	case foldDrop:
		b.emit(start, end, nil)
	default:
		b.emit(start, end, out)
	}
}

type foldAction int

const (
	foldKeep foldAction = iota
	foldDrop
	foldReplace
)

// foldRune returns the replacement for r. lookalike reports whether a
// Cyrillic or Greek look-alike of a Latin letter should become Latin.
func (b *normBuilder) foldRune(r rune, lookalike bool) ([]byte, foldAction) {
	if f, ok := simpleFold(r, b.lastASCII); ok {
		if f < 0 {
			return nil, foldDrop
		}
		return utf8.AppendRune(b.scratch[:0], f), foldReplace
	}
	if lookalike {
		if l, ok := latinLookalikes[r]; ok {
			return append(b.scratch[:0], l), foldReplace
		}
	}
	if !inCompatibilityBlock(r) {
		return nil, foldKeep
	}

	var buf [utf8.UTFMax]byte
	n := utf8.EncodeRune(buf[:], r)
	nfkc := norm.NFKC.Append(b.scratch[:0], buf[:n]...)
	if string(nfkc) == string(buf[:n]) {
		return nil, foldKeep
	}
	// Fold the NFKC result once more, so that a non-breaking hyphen,
	// whose NFKC form is U+2010, still becomes '-'.
	folded := make([]byte, 0, len(nfkc))
	for _, fr := range string(nfkc) {
		if f, ok := simpleFold(fr, true); ok {
			if f >= 0 {
				folded = utf8.AppendRune(folded, f)
			}
			continue
		}
		folded = utf8.AppendRune(folded, fr)
	}
	if len(folded) == 0 {
		return nil, foldDrop
	}
	return folded, foldReplace
}

// simpleFold returns the fold of r from the fixed tables, -1 for a
// character to remove, or ok false when the tables leave r alone.
// afterASCII reports whether the previous character in the view is ASCII.
func simpleFold(r rune, afterASCII bool) (rune, bool) {
	switch {
	case r < utf8.RuneSelf:
		return 0, false
	case 0xE0020 <= r && r <= 0xE007E:
		return r - 0xE0000, true
	case 0xFF01 <= r && r <= 0xFF5E:
		return r - 0xFEE0, true
	case r == 0x2028 || r == 0x2029 || r == 0x85:
		return '\n', true
	case isInvisible(r):
		return -1, true
	case unicode.Is(unicode.Me, r):
		return -1, true
	case unicode.Is(unicode.Mn, r):
		if afterASCII {
			return -1, true
		}
		return 0, false
	case unicode.Is(unicode.Zs, r):
		return ' ', true
	case unicode.Is(unicode.Pd, r), r == 0x2212, r == 0x2796, r == 0x02D7, r == 0x2043:
		return '-', true
	case r == 0x2018 || r == 0x2019 || r == 0x201B || r == 0x2032:
		return '\'', true
	case r == 0x201C || r == 0x201D || r == 0x201F || r == 0x2033:
		return '"', true
	case r == 0x2215 || r == 0x29F8:
		return '/', true
	}
	if d := digitValue(r); d >= 0 {
		return '0' + rune(d), true
	}
	return 0, false
}

// isInvisible reports whether r renders as nothing: format characters
// (category Cf, such as U+200B-U+200F, U+2060 and U+FEFF, the soft hyphen
// and the bidirectional controls), variation selectors, the combining
// grapheme joiner and the Hangul filler characters.
func isInvisible(r rune) bool {
	switch {
	case 0xFE00 <= r && r <= 0xFE0F, 0xE0100 <= r && r <= 0xE01EF:
		return true
	case r == 0x034F, r == 0x115F, r == 0x1160, r == 0x3164, r == 0xFFA0:
		return true
	}
	return unicode.Is(unicode.Cf, r)
}

// digitValue returns the value of r when it is a decimal digit (category
// Nd) of any script, or -1. Unicode encodes each script's digits 0-9 as a
// contiguous run starting at zero, and every Nd range in package unicode
// is a whole number of such runs, so the value is the offset mod 10.
func digitValue(r rune) int {
	if r < utf8.RuneSelf || !unicode.Is(unicode.Nd, r) {
		return -1
	}
	for _, rg := range unicode.Nd.R16 {
		if rune(rg.Lo) <= r && r <= rune(rg.Hi) {
			return int(r-rune(rg.Lo)) % 10
		}
	}
	for _, rg := range unicode.Nd.R32 {
		if rune(rg.Lo) <= r && r <= rune(rg.Hi) {
			return int(r-rune(rg.Lo)) % 10
		}
	}
	return -1
}

// inCompatibilityBlock reports whether r lies in a block whose NFKC
// compatibility forms matter for detection. The blocks are Latin-1
// superscripts and fractions, general punctuation with super- and
// subscripts, letterlike symbols, number forms, enclosed alphanumerics,
// CJK compatibility, alphabetic presentation forms, small and half-width
// forms, and the mathematical alphanumeric symbols. Limiting NFKC to
// these blocks keeps other scripts at table-lookup cost.
func inCompatibilityBlock(r rune) bool {
	switch {
	case 0xA0 <= r && r <= 0xBF, 0x2000 <= r && r <= 0x24FF, 0x3200 <= r && r <= 0x33FF:
		return true
	case 0xFB00 <= r && r <= 0xFB06, 0xFE30 <= r && r <= 0xFFEF:
		return true
	case 0x1D400 <= r && r <= 0x1D7FF, 0x1F100 <= r && r <= 0x1F1FF:
		return true
	}
	return false
}

// latinLookalikes maps Cyrillic and Greek letters to the Latin letters
// they are drawn like in common fonts.
var latinLookalikes = map[rune]byte{
	// Cyrillic capitals and small letters.
	'А': 'A', 'В': 'B', 'Е': 'E', 'К': 'K', 'М': 'M', 'Н': 'H', 'О': 'O',
	'Р': 'P', 'С': 'C', 'Т': 'T', 'У': 'Y', 'Х': 'X', 'Ѕ': 'S', 'І': 'I',
	'Ј': 'J', 'Ү': 'Y', 'Ԛ': 'Q', 'Ԝ': 'W',
	'а': 'a', 'е': 'e', 'о': 'o', 'р': 'p', 'с': 'c', 'у': 'y', 'х': 'x',
	'ѕ': 's', 'і': 'i', 'ј': 'j', 'ԁ': 'd', 'һ': 'h', 'ӏ': 'l', 'ԛ': 'q',
	'ԝ': 'w',
	// Greek capitals and small letters.
	'Α': 'A', 'Β': 'B', 'Ε': 'E', 'Ζ': 'Z', 'Η': 'H', 'Ι': 'I', 'Κ': 'K',
	'Μ': 'M', 'Ν': 'N', 'Ο': 'O', 'Ρ': 'P', 'Τ': 'T', 'Υ': 'Y', 'Χ': 'X',
	'ο': 'o', 'ν': 'v', 'ι': 'i', 'α': 'a', 'κ': 'k', 'ρ': 'p', 'υ': 'u',
	// Latin letters outside ASCII drawn like ASCII ones.
	'ı': 'i', 'ȷ': 'j',
}

// latinWord reports whether the word around original offset i is written
// with Latin letters and look-alikes only, so look-alikes in it may be
// folded. A word is a run of letters, digits, marks and invisible
// characters. The decision is cached until the end of the word, which
// keeps the cost linear.
func (b *normBuilder) latinWord(i int) bool {
	if i < b.wordEnd {
		return b.wordLatin
	}
	r, _ := utf8.DecodeRuneInString(b.src[i:])
	if _, ok := latinLookalikes[r]; !ok {
		return false
	}

	start := i
	for start > 0 {
		pr, size := utf8.DecodeLastRuneInString(b.src[:start])
		if !isWordRune(pr) {
			break
		}
		start -= size
	}
	end := i
	latin := true
	for end < len(b.src) {
		wr, size := utf8.DecodeRuneInString(b.src[end:])
		if !isWordRune(wr) {
			break
		}
		end += size
	}
	for _, wr := range b.src[start:end] {
		if wr >= utf8.RuneSelf && unicode.IsLetter(wr) {
			if _, ok := latinLookalikes[wr]; !ok {
				latin = false
				break
			}
		}
	}
	b.wordEnd, b.wordLatin = end, latin
	return latin
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.M, r) || isInvisible(r)
}

// escape handles the backslash at i. A JSON escape is decoded and
// recorded; any other backslash is kept. It returns the offset after the
// bytes it consumed.
func (b *normBuilder) escape(i int) int {
	if i+1 >= len(b.src) {
		b.lastASCII = true
		return i + 1
	}
	var r rune
	end := i + 2
	switch b.src[i+1] {
	case '"', '\\', '/':
		r = rune(b.src[i+1])
	case 'n':
		r = '\n'
	case 'r':
		r = '\r'
	case 't':
		r = '\t'
	case 'b', 'f':
		r = ' '
	case 'u':
		r, end = decodeUnicodeEscape(b.src, i)
		if end < 0 {
			b.lastASCII = true
			return i + 1
		}
	default:
		// Not an escape: the backslash is kept, and the next byte is
		// handled on its own.
		b.lastASCII = true
		return i + 1
	}

	switch {
	case r == '\n' || r == '\r' || r == '\t':
	case r < 0x20 || r == 0x7f:
		r = ' '
	}
	if r < utf8.RuneSelf {
		b.emit(i, end, append(b.scratch[:0], byte(r)))
		return end
	}
	b.replace(i, end, r, true, true)
	return end
}

// decodeUnicodeEscape decodes the "\uXXXX" escape at i, joining a UTF-16
// surrogate pair written as two escapes. It returns the rune and the end
// of the escape, or end -1 when the escape is malformed or a lone
// surrogate.
func decodeUnicodeEscape(s string, i int) (rune, int) {
	r := hex4(s, i+2)
	if r < 0 {
		return 0, -1
	}
	end := i + 6
	if r < 0xD800 || r > 0xDFFF {
		return r, end
	}
	if r >= 0xDC00 || end+6 > len(s) || s[end] != '\\' || s[end+1] != 'u' {
		return 0, -1
	}
	low := hex4(s, end+2)
	if low < 0xDC00 || low > 0xDFFF {
		return 0, -1
	}
	return 0x10000 + (r-0xD800)<<10 + (low - 0xDC00), end + 6
}

// hex4 parses four hexadecimal digits at i, or returns -1.
func hex4(s string, i int) rune {
	if i+4 > len(s) {
		return -1
	}
	var r rune
	for k := i; k < i+4; k++ {
		c := s[k]
		var v byte
		switch {
		case isDigit(c):
			v = c - '0'
		case 'a' <= c && c <= 'f':
			v = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			v = c - 'A' + 10
		default:
			return -1
		}
		r = r<<4 | rune(v)
	}
	return r
}

// emit records that original bytes [start, end) become out in the view.
// An empty out removes them. The original bytes since the last change are
// copied first as one identity segment.
func (b *normBuilder) emit(start, end int, out []byte) {
	if b.out == nil {
		b.out = make([]byte, 0, len(b.src)+8)
	}
	b.flushIdentity(start)
	if len(out) > 0 {
		b.segs = append(b.segs, normSegment{out: len(b.out), src: start, srcEnd: end})
		b.out = append(b.out, out...)
		b.lastASCII = out[len(out)-1] < utf8.RuneSelf
	}
	b.copied = end
}

// flushIdentity copies original bytes [b.copied, upTo) to the view.
func (b *normBuilder) flushIdentity(upTo int) {
	if upTo <= b.copied {
		return
	}
	b.segs = append(b.segs, normSegment{out: len(b.out), src: b.copied, srcEnd: upTo, identity: true})
	b.out = append(b.out, b.src[b.copied:upTo]...)
	b.copied = upTo
}

// segmentAt returns the index of the segment that holds view byte o, which
// must be in range.
func (v *normView) segmentAt(o int) int {
	return sort.Search(len(v.segs), func(k int) bool { return v.segs[k].out > o }) - 1
}

// start maps a view offset where a span starts to the original offset of
// the first byte of the character it comes from.
func (v *normView) start(o int) int {
	if o >= len(v.text) {
		return len(v.srcText)
	}
	seg := v.segs[v.segmentAt(o)]
	if !seg.identity {
		return seg.src
	}
	return runeStart(v.srcText, seg.src+o-seg.out)
}

// end maps a view offset where a span ends (exclusive) to the original
// offset just past the character that the span's last byte comes from.
func (v *normView) end(o int) int {
	if o <= 0 {
		return v.start(0)
	}
	seg := v.segs[v.segmentAt(o-1)]
	if !seg.identity {
		return seg.srcEnd
	}
	return runeEnd(v.srcText, seg.src+o-seg.out)
}

// mapFindings rewrites the spans of findings, which are view offsets, as
// original offsets.
func (v *normView) mapFindings(findings []Finding) {
	for k := range findings {
		f := &findings[k]
		if f.Start < 0 || f.End <= f.Start || f.End > len(v.text) {
			continue
		}
		f.Start, f.End = v.start(f.Start), v.end(f.End)
	}
}

// runeStart moves p back to the start of the character that contains it.
// Invalid bytes count as characters of one byte, as in a range loop.
func runeStart(s string, p int) int {
	if p <= 0 || p >= len(s) {
		return p
	}
	for k := p; k >= 0 && k > p-utf8.UTFMax; k-- {
		if utf8.RuneStart(s[k]) {
			_, size := utf8.DecodeRuneInString(s[k:])
			if k+size > p {
				return k
			}
			return p
		}
	}
	return p
}

// runeEnd moves p forward to the end of the character that contains
// byte p-1.
func runeEnd(s string, p int) int {
	if p <= 0 || p >= len(s) {
		return p
	}
	k := runeStart(s, p-1)
	_, size := utf8.DecodeRuneInString(s[k:])
	return max(p, k+size)
}
