package evaluation

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ErrUnknownFormat is returned by Load when a path holds no file in a
// recognized corpus format.
var ErrUnknownFormat = errors.New("no corpus in a known format")

// sniffSize is how much of a file Load reads to recognize its format.
const sniffSize = 64 << 10

// Load reads the corpus or corpora at path, recognizing the format from
// the contents, so that a corpus anywhere on disk loads the same way:
//
//   - a file whose first non-blank line is "===QUERY===" is a value-tagged
//     query corpus;
//   - a file that starts with a JSON array whose objects have "full_text"
//     is a span-annotated corpus;
//   - a file ending in .ndjson whose first line is a JSON object with
//     "resourceType", or a directory holding such files, is one FHIR
//     corpus (all its .ndjson files together, so notes can find their
//     Patient);
//   - any other directory is searched for corpus files and, one level
//     down, for corpus directories, which yields one corpus each.
//
// Each corpus is named after the base name of its directory, or of its
// file when the file was named directly or shares its directory with
// another corpus file.
func Load(path string) ([]Corpus, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("loading corpus: %w", err)
	}
	if !info.IsDir() {
		c, err := loadFile(path, filepath.Base(path))
		if err != nil {
			return nil, err
		}
		if c == nil {
			return nil, fmt.Errorf("loading %s: %w", path, ErrUnknownFormat)
		}
		return []Corpus{c}, nil
	}

	corpora, err := loadDir(path)
	if err != nil {
		return nil, err
	}
	if len(corpora) == 0 {
		entries, err := os.ReadDir(path)
		if err != nil {
			return nil, fmt.Errorf("loading corpus: %w", err)
		}
		for _, e := range entries {
			if !e.IsDir() {
				continue
			}
			sub, err := loadDir(filepath.Join(path, e.Name()))
			if err != nil {
				return nil, err
			}
			corpora = append(corpora, sub...)
		}
	}
	if len(corpora) == 0 {
		return nil, fmt.Errorf("loading %s: %w", path, ErrUnknownFormat)
	}
	return corpora, nil
}

// loadDir returns the corpora whose files lie directly in dir.
func loadDir(dir string) ([]Corpus, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("loading corpus: %w", err)
	}

	var ndjson []string
	var others []Corpus
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if strings.HasSuffix(e.Name(), ".ndjson") {
			if ok, err := isFHIRFile(p); err != nil {
				return nil, err
			} else if ok {
				ndjson = append(ndjson, p)
			}
			continue
		}
		c, err := loadFile(p, e.Name())
		if err != nil {
			return nil, err
		}
		if c != nil {
			others = append(others, c)
		}
	}

	var corpora []Corpus
	if len(ndjson) > 0 {
		c, err := loadFHIR(filepath.Base(dir), ndjson)
		if err != nil {
			return nil, err
		}
		corpora = append(corpora, c)
	}
	if len(others) == 1 && len(ndjson) == 0 {
		others[0] = renamed(others[0], filepath.Base(dir))
	}
	return append(corpora, others...), nil
}

// loadFile loads one file as the corpus name, or returns nil when the file
// is in no known format.
func loadFile(path, name string) (Corpus, error) {
	head, err := readHead(path)
	if err != nil {
		return nil, err
	}

	switch {
	case strings.HasSuffix(path, ".ndjson") && looksFHIR(head):
		return loadFHIR(name, []string{path})
	case looksQueries(head):
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("loading corpus: %w", err)
		}
		defer f.Close()
		queries, err := ReadQueries(f)
		if err != nil {
			return nil, fmt.Errorf("loading %s: %w", path, err)
		}
		return NewQueryCorpus(name, queries), nil
	case looksSpans(head):
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("loading corpus: %w", err)
		}
		defer f.Close()
		samples, err := ReadSpans(f)
		if err != nil {
			return nil, fmt.Errorf("loading %s: %w", path, err)
		}
		return NewSpanCorpus(name, samples), nil
	}
	return nil, nil
}

func loadFHIR(name string, paths []string) (Corpus, error) {
	slices.Sort(paths)
	var resources []FHIRResource
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, fmt.Errorf("loading corpus: %w", err)
		}
		rs, err := ReadFHIR(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("loading %s: %w", p, err)
		}
		resources = append(resources, rs...)
	}
	return NewFHIRCorpus(name, resources), nil
}

func readHead(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("loading corpus: %w", err)
	}
	defer f.Close()

	head, err := io.ReadAll(io.LimitReader(f, sniffSize))
	if err != nil {
		return nil, fmt.Errorf("loading corpus: reading %s: %w", path, err)
	}
	return head, nil
}

func isFHIRFile(path string) (bool, error) {
	head, err := readHead(path)
	if err != nil {
		return false, err
	}
	return looksFHIR(head), nil
}

func looksFHIR(head []byte) bool {
	line, _, _ := bytes.Cut(bytes.TrimSpace(head), []byte("\n"))
	return bytes.HasPrefix(line, []byte("{")) && bytes.Contains(line, []byte(`"resourceType"`))
}

func looksQueries(head []byte) bool {
	line, _, _ := bytes.Cut(bytes.TrimSpace(head), []byte("\n"))
	return string(bytes.TrimSpace(line)) == queryMarker
}

func looksSpans(head []byte) bool {
	head = bytes.TrimSpace(head)
	return bytes.HasPrefix(head, []byte("[")) && bytes.Contains(head, []byte(`"full_text"`))
}

// renamed returns c under another name.
func renamed(c Corpus, name string) Corpus {
	switch c := c.(type) {
	case *SpanCorpus:
		c.name = name
	case *QueryCorpus:
		c.name = name
	case *FHIRCorpus:
		c.name = name
	}
	return c
}
