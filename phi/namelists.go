package phi

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"sync"
	"unicode"
	"unicode/utf8"
	"unsafe"
)

// lexiconData is the gzip-compressed name and town list that
// phi/internal/lexgen builds from US Census 1990 name frequencies, the
// name lists of the mimesis package and GeoNames places. Its format is a
// "#section" line followed by one lowercase entry a line for the sections
// first, last, city, town and common. See data/README.md for the order
// within each section, the sources and the licences.
//
//go:embed data/lexicon.txt.gz
var lexiconData []byte

// lexEntry is the lexicon data of one lowercase word or, for towns, one
// phrase. A rank
// is the 1-based position in its frequency-ordered list, and 0 means the
// entry is not in that list.
type lexEntry struct {
	// firstRank and lastRank up to firstCensusNames and lastCensusNames
	// rank US Census names by frequency; higher ranks are names of other
	// origins, in alphabetical order.
	firstRank int32
	lastRank  int32
	// cityRank ranks US places by population, townRank places elsewhere.
	cityRank int32
	townRank int32
	// common marks a word that an English dictionary lists in lowercase
	// ("rose", "will", "mobile"), so alone it is weak evidence of a name.
	common bool
	// cityPrefix marks the first word of a town name of several words
	// ("san" of "san francisco").
	cityPrefix bool
	// sets is the mask of the word sets (see wordSet) that hold the word,
	// as inWordSet tests it. lookupWord sets it for the word looked up.
	sets uint64
}

// in reports whether the entry's word is in set.
func (e lexEntry) in(set *wordSet) bool { return e.sets&set.bit != 0 }

// The number of Census names at the head of the first and last sections.
const (
	firstCensusNames = 5163
	lastCensusNames  = 40000
)

func (e lexEntry) isFirst() bool { return e.firstRank > 0 }

// isCensusName reports whether the entry is a US Census given name or
// surname, which the lists rank by frequency.
func (e lexEntry) isCensusName() bool {
	return e.firstRank > 0 && e.firstRank <= firstCensusNames || e.lastRank > 0 && e.lastRank <= lastCensusNames
}

// isPlace reports whether the entry is a town, in the US or elsewhere.
func (e lexEntry) isPlace() bool { return e.cityRank > 0 || e.townRank > 0 }

func (e lexEntry) isLast() bool { return e.lastRank > 0 }
func (e lexEntry) isName() bool { return e.firstRank > 0 || e.lastRank > 0 }

// lexicon is decoded on first use, not at package init, so that programs
// that import phi without scanning pay nothing. A server calls Preload at
// start so that its first request does not pay for the decoding.
var lexicon = sync.OnceValue(decodeLexicon)

// Preload decodes the embedded name and town lexicon now instead of on the
// first scan that reads it. It is safe to call more than once and from
// several goroutines, and calls after the first return at once. Decoding takes
// tens of milliseconds (see docs/benchmarks.md).
func Preload() { lexicon() }

// lexTable is the decoded lexicon: an open-addressing hash table from the
// 64-bit hash of a lowercase entry (see lexHash) to its lexEntry. It keeps
// no strings, so building it allocates two slices and looking a word up
// hashes the word once and probes one array.
//
// NOTE: a slot keeps the top 40 bits of the hash, so two different words
// whose hashes agree in those bits and meet in a probe sequence share an
// entry. With about 160,000 entries in 262,144 slots, the chance that a
// given unlisted word reads as listed is about 1 in 10^12 per lookup.
type lexTable struct {
	// slots holds, in each slot, the top 40 bits of an entry's hash and
	// the index of the entry in entries in the low 24 bits, or 0 for an
	// empty slot. A probe so reads eight bytes a slot.
	slots   []uint64
	entries []lexEntry
	mask    uint64
}

// lexIndexBits is the number of low bits of a slot that hold the index of
// an entry.
const lexIndexBits = 24

// find returns the index in entries of the entry whose hash is h, or 0,
// the index of the zero entry, when there is none.
func (t *lexTable) find(h uint64) uint32 {
	key := h &^ (1<<lexIndexBits - 1)
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		slot := t.slots[i]
		if slot == 0 {
			return 0
		}
		if slot&^(1<<lexIndexBits-1) == key {
			return uint32(slot & (1<<lexIndexBits - 1))
		}
	}
}

// ref returns the entry whose hash is h, adding a zero entry when there
// is none. The table must have a free slot.
func (t *lexTable) ref(h uint64) *lexEntry {
	key := h &^ (1<<lexIndexBits - 1)
	i := h & t.mask
	for t.slots[i] != 0 && t.slots[i]&^(1<<lexIndexBits-1) != key {
		i = (i + 1) & t.mask
	}
	if t.slots[i] == 0 {
		t.slots[i] = key | uint64(len(t.entries))
		t.entries = append(t.entries, lexEntry{})
	}
	return &t.entries[t.slots[i]&(1<<lexIndexBits-1)]
}

// lexHash hashes the ASCII-lowercased bytes of s, eight at a time: each
// word of eight bytes is lowercased at once, mixed in with a multiply and
// a shift, and the length is mixed in last. Bytes from 0x80 up are hashed
// as they are, so a caller lowercases letters outside ASCII first. It
// never returns 0, which marks an empty slot of lexTable.
func lexHash(s string) uint64 {
	h, _ := lexHashASCII(s)
	return h
}

// lexHashBytes returns lexHash of the bytes b, without copying them.
func lexHashBytes(b []byte) uint64 {
	if len(b) == 0 {
		return lexHash("")
	}
	return lexHash(unsafe.String(&b[0], len(b)))
}

// lexHashASCII returns lexHash(s) and whether s is ASCII.
func lexHashASCII(s string) (uint64, bool) {
	h := uint64(0x243f6a8885a308d3)
	n := len(s)
	var seen uint64
	for ; len(s) >= 8; s = s[8:] {
		w := load8(s, 0)
		seen |= w
		h = lexMix(h, lowerWord(w))
	}
	if len(s) > 0 {
		var w uint64
		for k := len(s) - 1; k >= 0; k-- {
			w = w<<8 | uint64(s[k])
		}
		seen |= w
		h = lexMix(h, lowerWord(w))
	}
	return lexMix(h, uint64(n)) | 1<<63, seen&highBits == 0
}

// lexMix mixes the word w into the hash h.
func lexMix(h, w uint64) uint64 {
	h = (h ^ w) * 0x9e3779b97f4a7c15
	return h ^ h>>29
}

// lowerWord lowercases the ASCII capitals among the eight bytes of w.
func lowerWord(w uint64) uint64 {
	upper := inRange(w, w&^highBits, 'A', 'Z')
	return w | upper>>2
}

// lexiconSlots is the size of the table, a power of two that keeps it
// at most about 60% full.
const lexiconSlots = 1 << 18

// decodeLexicon decompresses lexiconData and builds its table. It reads
// the text in place, so the only allocations are the decompressed bytes
// and the table.
func decodeLexicon() *lexTable {
	zr, err := gzip.NewReader(bytes.NewReader(lexiconData))
	if err != nil {
		panic("phi: embedded lexicon is corrupt: " + err.Error())
	}
	var buf bytes.Buffer
	buf.Grow(4 << 20)
	if _, err := buf.ReadFrom(zr); err != nil {
		panic("phi: embedded lexicon is corrupt: " + err.Error())
	}

	t := &lexTable{
		slots: make([]uint64, lexiconSlots),
		// Entry 0 is the zero entry that find returns for unlisted words.
		entries: make([]lexEntry, 1, 164000),
		mask:    lexiconSlots - 1,
	}
	var section string
	var rank int32
	for data := buf.Bytes(); len(data) > 0; {
		line := data
		if nl := bytes.IndexByte(data, '\n'); nl >= 0 {
			line, data = data[:nl], data[nl+1:]
		} else {
			data = nil
		}
		if len(line) == 0 {
			continue
		}
		if line[0] == '#' {
			section, rank = string(line[1:]), 0
			continue
		}
		rank++
		if len(t.entries) >= lexiconSlots*6/10 {
			panic("phi: lexicon table is full: raise lexiconSlots")
		}
		e := t.ref(lexHashBytes(line))
		switch section {
		case "first":
			e.firstRank = rank
		case "last":
			e.lastRank = rank
		case "city", "town":
			if section == "city" {
				e.cityRank = rank
			} else {
				e.townRank = rank
			}
			if sp := bytes.IndexByte(line, ' '); sp > 0 {
				// ref may grow entries, which moves e, so e is not
				// used after this.
				t.ref(lexHashBytes(line[:sp])).cityPrefix = true
			}
		case "common":
			e.common = true
		}
	}

	// The members of the word sets join the table, so that one lookup
	// returns a word's entry and its sets together.
	for k, w := range wordSetTable.words {
		if w == "" {
			continue
		}
		if len(t.entries) >= lexiconSlots*6/10 {
			panic("phi: lexicon table is full: raise lexiconSlots")
		}
		t.ref(lexHash(w)).sets |= wordSetTable.masks[k]
	}
	return t
}

// lookupWord returns the lexicon entry of word in any case, with the mask
// of the word sets that hold word, as inWordSet tests it. An ASCII word is
// hashed as it is. A word with letters outside ASCII is lowercased as
// Unicode letters into a stack buffer first ("Šárka", "ÅSA"), and its mask
// is computed apart, because word sets ignore only ASCII case.
func lookupWord(word string) lexEntry {
	if len(word) > 32 || len(word) == 0 {
		return lexEntry{}
	}
	t := lexicon()
	if h, ascii := lexHashASCII(word); ascii {
		e := t.entries[t.find(h)]
		if len(word) > 24 || !isLetter(word[0]) {
			e.sets = 0
		}
		return e
	}

	var buf [32]byte
	n := 0
	for i := 0; i < len(word); {
		c := word[i]
		if c < utf8.RuneSelf {
			buf[n] = c
			n++
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(word[i:])
		lr := unicode.ToLower(r)
		if n+utf8.RuneLen(lr) > len(buf) {
			return lexEntry{}
		}
		n += utf8.EncodeRune(buf[n:], lr)
		i += size
	}
	e := t.entries[t.find(lexHashBytes(buf[:n]))]
	e.sets = 0
	if len(word) <= 24 && isLetter(word[0]) {
		e.sets = wordSetMask(word)
	}
	return e
}

// lookupPhrase returns the lexicon entry of the words text[start:end],
// lowercased as lookupWord does and with each run of spaces read as one
// space.
func lookupPhrase(text string, start, end int) lexEntry {
	var buf [48]byte
	n := 0
	for i := start; i < end; {
		c := text[i]
		if c == ' ' && n > 0 && buf[n-1] == ' ' {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			if n == len(buf) {
				return lexEntry{}
			}
			buf[n] = lower(c)
			n++
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		lr := unicode.ToLower(r)
		if n+utf8.RuneLen(lr) > len(buf) {
			return lexEntry{}
		}
		n += utf8.EncodeRune(buf[n:], lr)
		i += size
	}
	t := lexicon()
	return t.entries[t.find(lexHashBytes(buf[:n]))]
}

// wordSet is a set of lowercase words. The members of every wordSet live
// in one hash table, wordSetTable, that maps a word to a bitmask of the
// sets holding it, so a set is a bit of that mask. A filter by first
// letter and length sits in front of the table, so that most words that
// are not members cost two array reads instead of a hash.
type wordSet struct {
	// bit is the set's bit in the masks of wordSetTable.
	bit uint64
	// members lists the words, for callers that derive tables from a set.
	members []string
	// lengths has bit n of entry c set when a member of length n (31 for
	// longer ones) starts with letter c.
	lengths [26]uint32
	// seconds has bit secondLetterBit(w) of entry c set when a member w
	// starts with letter c. It rejects words that pass lengths but
	// cannot be members, before the table hashes them.
	seconds [26]uint32
}

// wordSetSlots is the size of wordSetTable, a power of two at least twice
// the number of distinct members of all sets.
const wordSetSlots = 1 << 12

// wordSetTable is an open-addressing hash table, keyed by wordSetHash,
// of the members of every wordSet. newWordSet fills it while the package
// variables are initialized, and it is only read afterwards.
var wordSetTable struct {
	words [wordSetSlots]string
	masks [wordSetSlots]uint64
	sets  int
	used  int
}

// newWordSet returns a set of the given lowercase words. It panics when
// more than 64 sets are made or wordSetTable fills, both programming
// errors found by any test.
func newWordSet(words ...string) *wordSet {
	t := &wordSetTable
	if t.sets == 64 {
		panic("phi: more than 64 word sets")
	}
	s := &wordSet{bit: 1 << t.sets, members: words}
	t.sets++
	for _, w := range words {
		i := wordSetHash(w) & (wordSetSlots - 1)
		for t.words[i] != "" && t.words[i] != w {
			i = (i + 1) & (wordSetSlots - 1)
		}
		if t.words[i] == "" {
			if t.used++; t.used > wordSetSlots/2 {
				panic("phi: word sets hold more words than wordSetTable is sized for")
			}
			t.words[i] = w
		}
		t.masks[i] |= s.bit
		if c := w[0]; isLower(c) {
			s.lengths[c-'a'] |= 1 << min(len(w), 31)
			s.seconds[c-'a'] |= secondLetterBit(w)
		}
	}
	return s
}

// wordSetHash is FNV-1a, 32 bits, over the ASCII-lowercased bytes of word.
func wordSetHash(word string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(word); i++ {
		h ^= uint32(lower(word[i]))
		h *= 16777619
	}
	return h
}

// inWordSet reports whether word, in any ASCII case, is in set. Words
// longer than 24 bytes or not starting with a letter are never in a set.
func inWordSet(set *wordSet, word string) bool {
	return set.mayHold(word) && wordSetMask(word)&set.bit != 0
}

// mayHold reports whether word passes the filter by first letter, length
// and second letter of set, which every member passes. It reads two
// arrays, so it saves a lookup for most words that are not members.
func (set *wordSet) mayHold(word string) bool {
	if len(word) == 0 || len(word) > 24 {
		return false
	}
	// Setting bit 0x20 lowercases a letter and maps no other byte onto
	// 'a' to 'z', as isLetter does, so first < 26 tests for a letter.
	first := (word[0] | 0x20) - 'a'
	if first >= 26 {
		return false
	}
	second := byte(26)
	if len(word) > 1 {
		if b := (word[1] | 0x20) - 'a'; b < 26 {
			second = b
		}
	}
	return set.lengths[first]&(1<<len(word)) != 0 && set.seconds[first]&(1<<second) != 0
}

// wordSetMask returns the bitmask of the sets that hold word in any ASCII
// case, or 0.
func wordSetMask(word string) uint64 {
	t := &wordSetTable
	for i := wordSetHash(word) & (wordSetSlots - 1); t.words[i] != ""; i = (i + 1) & (wordSetSlots - 1) {
		if equalFold(word, t.words[i]) {
			return t.masks[i]
		}
	}
	return 0
}

// secondLetterBit returns bit b for a word whose second byte is the
// letter 'a'+b in any ASCII case, and bit 26 for a shorter word or another
// second byte.
func secondLetterBit(word string) uint32 {
	if len(word) > 1 && isLetter(word[1]) {
		return 1 << (lower(word[1]) - 'a')
	}
	return 1 << 26
}

// notNameWords are capitalized words that name lists contain but clinical
// text uses otherwise: eponyms of diseases, signs and scores, months and
// weekdays, and drug or product words. A word here is a name only after an
// explicit cue such as "Mr." or "Patient name:".
var notNameWords = newWordSet(
	// Eponyms.
	"addison", "alzheimer", "alzheimers", "apgar", "asperger", "babinski",
	"barr", "barre", "barrett", "bowen", "brugada",
	"burkitt", "chaddock", "charcot", "cheyne", "christmas", "colles",
	"conn", "cooley", "crohn", "crohns", "cushing", "danlos", "down",
	"dupuytren", "ehlers", "epstein", "ewing", "fallot", "ferriman",
	"foley", "gallwey", "gaucher", "gilbert", "glasgow", "gleason", "graves",
	"guillain", "hashimoto", "hodgkin", "holter", "horner", "huntington",
	"kaposi", "kawasaki", "klinefelter", "korsakoff", "lewy", "ludwig",
	"lyme", "marfan", "meniere", "paget", "parkinson",
	"parkinsons", "pott", "raynaud", "reiter", "reye", "rutherford",
	"sjogren", "stevens", "swan", "ganz", "tay", "sachs",
	"tourette", "wegener", "wernicke", "whipple",
	"willebrand", "wilms", "wilson", "wolff", "duke", "framingham",
	"child", "pugh", "ranson", "mallampati", "hess", "spetzler", "friedewald", "cockcroft", "gault", "trendelenburg",
	"doppler", "gram", "kernig", "brudzinski", "homan", "homans", "lachman",
	"mcmurray", "phalen", "tinel", "finkelstein", "romberg", "valsalva",
	"heimlich", "epley", "dix", "hallpike", "sengstaken", "blakemore",
	"kruskal", "wallis", "student", "bonferroni", "levine", "beck",
	// Months and weekdays.
	"january", "february", "march", "april", "may", "june", "july",
	"august", "september", "october", "november", "december", "monday",
	"tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
	// Ethnicity, nationality and place words.
	"african", "american", "hispanic", "latino", "latina", "asian",
	"caucasian", "native", "pacific", "islander",
	"jewish", "english", "spanish", "french", "german", "chinese",
	"japanese", "korean", "indian", "european", "christian", "muslim",
	"north", "south", "east", "west", "central", "general", "memorial",
	"regional", "community", "county", "city", "state", "saint", "university",
	// Clinical words that also appear in name lists.
	"care", "health", "medical", "clinic", "hospital", "center", "mercy",
	"grace", "hope", "faith", "angel", "sterling", "baptist", "methodist",
	"presbyterian", "lutheran", "providence", "trinity", "temple",
	"major", "minor", "acute", "chronic", "stage", "grade", "type",
	"score", "risk", "index", "scale", "test", "trial", "study",
	"guidelines", "guideline", "protocol", "therapy", "treatment",
	"insulin", "aspirin", "heparin", "warfarin", "lasix", "coumadin",
	"tylenol", "advil", "motrin", "norco", "xanax", "valium", "ativan",
	"humira", "enbrel", "eliquis", "xarelto", "ozempic", "jardiance",
	"keytruda", "lantus", "humalog", "zoloft", "prozac", "lexapro",
	"celexa", "paxil", "wellbutrin", "lipitor", "crestor", "zocor",
	"norvasc", "synthroid", "plavix", "brilinta", "entresto", "farxiga",
	"trulicity", "victoza", "mounjaro", "dupixent", "stelara", "remicade",
	"rituxan", "herceptin", "avastin", "opdivo", "narcan", "suboxone",
	"bengal", "rose", "ringer", "ringers", "hartmann", "hank",
	"doctor", "nurse", "provider", "physician", "surgeon", "attending",
	"resident", "fellow", "intern", "chief", "director", "manager",
	"emergency", "urgent", "primary", "family", "internal", "medicine",
	"mental", "behavioral", "public", "global", "world", "national",
	"federal", "royal", "union", "liberty", "independence", "freedom",
	"victory", "summer", "winter", "spring", "autumn", "fall",
	"mini", "modified", "revised", "new", "old", "young", "early", "late",
	"best", "current", "latest", "recent", "updated", "preferred",
	"recommended", "management", "effectiveness", "efficacy",
	"prognosis", "comparison", "difference", "approach", "dosage",
	"contraindications", "recommendations", "options", "considering",
	"please", "which", "what", "how", "can", "is", "are",
)

// eponymFollowers are words after a capitalized word that make it an
// eponym or a named instrument, not a person: "Wells score",
// "Chaddock reflex", "Graves disease".
var eponymFollowers = newWordSet(
	"disease", "diseases", "syndrome", "syndromes", "sign", "signs",
	"reflex", "score", "scores", "criteria", "scale", "classification",
	"test", "tests", "maneuver", "manoeuvre", "palsy", "lymphoma",
	"sarcoma", "tumor", "tumour", "ulcer", "ulcers", "esophagus",
	"phenomenon", "node", "nodes", "fracture", "procedure", "operation",
	"catheter", "tube", "formula", "equation", "rule", "rules", "study",
	"trial", "protocol", "index", "staging", "stage", "grade", "type",
	"triad", "law", "effect", "disorder", "anomaly", "deformity",
	"contracture", "encephalopathy", "dementia", "chorea", "angina",
	"thyroiditis", "method", "position", "incision", "repair", "shunt",
	"solution", "lactate", "stain", "cells", "cell", "body", "bodies",
	"virus", "infection", "coefficient", "correlation", "curve",
	"questionnaire", "inventory", "assessment", "model", "wort",
)
