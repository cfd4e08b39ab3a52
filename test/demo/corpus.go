package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/phigate/phigate/test/harness"
)

// loadCorpus reads a corpus directory: queries.txt in the clinician-query
// format, or Synthea FHIR NDJSON files.
func loadCorpus(dir string) ([]prompt, error) {
	if info, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("corpus %s does not exist (make reads a relative path from the repository root): want a directory with queries.txt or Synthea NDJSON files", dir)
	} else if err != nil {
		return nil, fmt.Errorf("corpus %s: %w", dir, err)
	} else if !info.IsDir() {
		return nil, fmt.Errorf("corpus %s is not a directory", dir)
	}
	if _, err := os.Stat(filepath.Join(dir, "queries.txt")); err == nil {
		return loadQueries(filepath.Join(dir, "queries.txt"))
	}
	if _, err := os.Stat(filepath.Join(dir, "DocumentReference.000.ndjson")); err == nil {
		return loadSynthea(dir)
	}
	return nil, fmt.Errorf("corpus %s: want queries.txt or Synthea NDJSON (DocumentReference.000.ndjson)", dir)
}

// loadQueries reads blocks of "===QUERY===", one line of text,
// "===PHI_TAGS===" and one JSON tag per line.
func loadQueries(path string) ([]prompt, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening corpus: %w", err)
	}
	defer f.Close()

	var prompts []prompt
	var cur *prompt
	inTags := false
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "===QUERY===":
			prompts = append(prompts, prompt{API: "openai", Negative: true})
			cur = &prompts[len(prompts)-1]
			cur.Name = fmt.Sprintf("query %d", len(prompts))
			inTags = false
		case line == "===PHI_TAGS===":
			inTags = true
		case cur == nil || strings.TrimSpace(line) == "":
		case inTags:
			var tag struct {
				Type  string `json:"identifier_type"`
				Value string `json:"value"`
			}
			if err := json.Unmarshal([]byte(line), &tag); err != nil {
				return nil, fmt.Errorf("%s: invalid tag line in %s: %w", path, cur.Name, err)
			}
			cur.Values = append(cur.Values, tag.Value)
			cur.Kinds = append(cur.Kinds, tag.Type)
			cur.Negative = false
		default:
			if cur.Text != "" {
				cur.Text += "\n"
			}
			cur.Text += line
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading corpus: %w", err)
	}
	return prompts, nil
}

// loadSynthea turns each clinical note into a summarisation request, with
// its patient's name, birth date and identifiers as the known PHI values.
func loadSynthea(dir string) ([]prompt, error) {
	type known struct{ value, kind string }
	patients := map[string][]known{}
	err := eachLine(filepath.Join(dir, "Patient.000.ndjson"), func(line []byte) error {
		var p struct {
			ID   string `json:"id"`
			Name []struct {
				Family string   `json:"family"`
				Given  []string `json:"given"`
			} `json:"name"`
			BirthDate  string `json:"birthDate"`
			Identifier []struct {
				Value string `json:"value"`
			} `json:"identifier"`
		}
		if err := json.Unmarshal(line, &p); err != nil {
			return err
		}
		var values []known
		for _, n := range p.Name {
			values = append(values, known{n.Family, "family name"})
			for _, g := range n.Given {
				values = append(values, known{g, "given name"})
			}
		}
		values = append(values, known{p.BirthDate, "birth date"})
		for _, id := range p.Identifier {
			values = append(values, known{id.Value, "identifier"})
		}
		patients["Patient/"+p.ID] = values
		return nil
	})
	if err != nil {
		return nil, err
	}

	var prompts []prompt
	err = eachLine(filepath.Join(dir, "DocumentReference.000.ndjson"), func(line []byte) error {
		var doc struct {
			Subject struct {
				Reference string `json:"reference"`
			} `json:"subject"`
			Content []struct {
				Attachment struct {
					Data string `json:"data"`
				} `json:"attachment"`
			} `json:"content"`
		}
		if err := json.Unmarshal(line, &doc); err != nil {
			return err
		}
		if len(doc.Content) == 0 {
			return nil
		}
		note, err := base64.StdEncoding.DecodeString(doc.Content[0].Attachment.Data)
		if err != nil {
			return fmt.Errorf("decoding note: %w", err)
		}
		text := string(note)
		p := prompt{
			Name: fmt.Sprintf("note %d", len(prompts)+1),
			API:  "openai",
			Text: "Summarise this clinical note for a handover:\n\n" + text,
		}
		for _, k := range patients[doc.Subject.Reference] {
			if k.value != "" && strings.Contains(text, k.value) {
				p.Values = append(p.Values, k.value)
				p.Kinds = append(p.Kinds, k.kind)
			}
		}
		prompts = append(prompts, p)
		return nil
	})
	return prompts, err
}

func eachLine(path string, fn func([]byte) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("opening corpus: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	n := 0
	for sc.Scan() {
		n++
		if err := fn(sc.Bytes()); err != nil {
			return fmt.Errorf("%s line %d: %w", path, n, err)
		}
	}
	return sc.Err()
}

// runCorpus replays a corpus twice: with the default registry, where PHI
// is rerouted to the BAA-covered provider, and without one, where PHI is
// redacted before it reaches the provider that has no BAA. Either way the
// figure that matters is how many known PHI values reached that provider.
func runCorpus(ctx context.Context, out io.Writer, opts harness.Options, prompts []prompt, keep bool) error {
	withPHI, negatives, values := 0, 0, 0
	for _, p := range prompts {
		if p.Negative {
			negatives++
		}
		if len(p.Values) > 0 {
			withPHI++
			values += len(p.Values)
		}
	}
	fmt.Fprintf(out, "== Replaying %d requests (%d with known PHI values, %d values in all; %d known PHI-free)\n", len(prompts), withPHI, values, negatives)

	for _, noBAA := range []bool{false, true} {
		opts.NoBAAProvider = noBAA
		s, err := replay(ctx, opts, prompts)
		if err != nil {
			return err
		}

		counts := map[string]int{}
		leakedByKind, valuesByKind := map[string]int{}, map[string]int{}
		leaked, negativesTouched := 0, 0
		for _, r := range s.results {
			counts[r.record.Action+" → "+r.reached]++
			for i, v := range r.prompt.Values {
				valuesByKind[r.prompt.Kinds[i]]++
				if r.reached == "openai" && strings.Contains(string(r.body), v) {
					leaked++
					leakedByKind[r.prompt.Kinds[i]]++
				}
			}
			if r.prompt.Negative && (r.record.Action != "allow" || r.reached != "openai") {
				negativesTouched++
			}
		}

		if noBAA {
			fmt.Fprintln(out, "\n-- Registry without openai-baa (PHI must be redacted for openai)")
		} else {
			fmt.Fprintln(out, "\n-- Default registry (PHI rerouted to openai-baa)")
		}
		tw := tabwriter.NewWriter(out, 2, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "ACTION → REACHED\tREQUESTS")
		for _, k := range slices.Sorted(maps.Keys(counts)) {
			fmt.Fprintf(tw, "%s\t%d\n", k, counts[k])
		}
		tw.Flush()
		fmt.Fprintf(out, "known PHI values that reached openai (no BAA): %d of %d (%.1f%%)\n", leaked, values, pct(leaked, values))
		if leaked > 0 {
			tw := tabwriter.NewWriter(out, 2, 8, 2, ' ', 0)
			fmt.Fprintln(tw, "  KIND\tREACHED OPENAI\tOF")
			for _, k := range slices.Sorted(maps.Keys(valuesByKind)) {
				fmt.Fprintf(tw, "  %s\t%d\t%d\n", k, leakedByKind[k], valuesByKind[k])
			}
			tw.Flush()
		}
		if negatives > 0 {
			fmt.Fprintf(out, "PHI-free requests rerouted or redacted: %d of %d (%.1f%%)\n", negativesTouched, negatives, pct(negativesTouched, negatives))
		} else {
			fmt.Fprintln(out, "PHI-free requests: none in this corpus")
		}
		if err := s.report(out, keep); err != nil {
			return err
		}
	}
	return nil
}

func pct(n, d int) float64 {
	if d == 0 {
		return 0
	}
	return 100 * float64(n) / float64(d)
}
