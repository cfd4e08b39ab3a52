package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/phigate/phigate/phi"
	"github.com/phigate/phigate/phi/evaluation"
)

// scanFinding is one finding as `phigate scan --format json` prints it. It
// carries offsets, never the matched text.
type scanFinding struct {
	File       string  `json:"file"`
	Type       string  `json:"type"`
	Start      int     `json:"start"`
	End        int     `json:"end"`
	Confidence float64 `json:"confidence"`
	Detector   string  `json:"detector"`
}

func runScan(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("scan", stderr)
	format := fs.String("format", "text", "output format of the findings list: text or json")
	redact := fs.Bool("redact", false, "print the input with every PHI span replaced by [PHI:TYPE], all other bytes unchanged, instead of listing findings")
	var ev evalFlags
	fs.StringVar(&ev.corpus, "eval", "", "score detection on the corpus or corpora at this `path` (a file, a corpus directory, or a directory of corpus directories) instead of scanning files")
	fs.StringVar(&ev.predictions, "predictions", "", "with -eval: score the findings in this JSON `file`, made by another tool on the texts from -export-texts, instead of running the scanner")
	fs.StringVar(&ev.exportTexts, "export-texts", "", "with -eval: write the texts that -eval scans, as JSON, to this `file` and score nothing")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: phigate scan [flags] FILE... | -")
		fmt.Fprintln(stderr, "       phigate scan -eval CORPUS [-format json] [-predictions FILE | -export-texts FILE]")
		fmt.Fprintln(stderr, "Lists the PHI found in each file (or standard input for -): type, byte offsets, detector.")
		fmt.Fprintln(stderr, "With -eval, prints detection figures per PHI type and the scan throughput for each corpus.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *format != "text" && *format != "json" {
		return usageError("invalid -format %q: want text or json", *format)
	}
	if ev.corpus != "" {
		if *redact || fs.NArg() > 0 {
			return usageError("-eval takes no FILE arguments and no -redact")
		}
		return runEval(ev, *format, stdout)
	}
	if ev.predictions != "" || ev.exportTexts != "" {
		return usageError("-predictions and -export-texts need -eval CORPUS")
	}
	if *redact && *format == "json" {
		return usageError("-redact prints the masked text, so it takes no -format json")
	}
	files := fs.Args()
	if len(files) == 0 {
		return usageError("no input: name one or more files, or - for standard input")
	}

	scanner := phi.DefaultScanner()
	all := []scanFinding{}
	for _, name := range files {
		data, err := readInput(name, stdin)
		if err != nil {
			return err
		}
		text := string(data)
		findings := scanner.Scan(text)
		if *redact {
			if _, err := io.WriteString(stdout, phi.Mask(text, findings, nil)); err != nil {
				return fmt.Errorf("writing output: %w", err)
			}
			continue
		}
		for _, f := range findings {
			sf := scanFinding{File: name, Type: string(f.Type), Start: f.Start, End: f.End, Confidence: f.Confidence, Detector: f.Detector}
			if *format == "json" {
				all = append(all, sf)
				continue
			}
			fmt.Fprintf(stdout, "%s:%d-%d\t%s\t%s\t%.2f\n", sf.File, sf.Start, sf.End, sf.Type, sf.Detector, sf.Confidence)
		}
	}
	if *format == "json" && !*redact {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(all); err != nil {
			return fmt.Errorf("writing output: %w", err)
		}
	}
	return nil
}

func readInput(name string, stdin io.Reader) ([]byte, error) {
	if name == "-" {
		data, err := io.ReadAll(stdin)
		if err != nil {
			return nil, fmt.Errorf("reading standard input: %w", err)
		}
		return data, nil
	}
	data, err := os.ReadFile(name)
	if err != nil {
		if strings.HasPrefix(name, "-") {
			return nil, fmt.Errorf("reading input: %w (flags go before the file names)", err)
		}
		return nil, fmt.Errorf("reading input: %w", err)
	}
	return data, nil
}

// evalFlags holds the flags of `phigate scan -eval`.
type evalFlags struct {
	corpus      string
	predictions string
	exportTexts string
}

// runEval loads the corpora at ev.corpus and prints one report per corpus:
// the default scanner's figures, or those of the predictions file.
func runEval(ev evalFlags, format string, stdout io.Writer) error {
	corpora, err := evaluation.Load(ev.corpus)
	if err != nil {
		return err
	}

	if ev.exportTexts != "" {
		return writeTexts(ev.exportTexts, corpora)
	}

	var pf *evaluation.PredictionsFile
	if ev.predictions != "" {
		f, err := os.Open(ev.predictions)
		if err != nil {
			return fmt.Errorf("reading predictions: %w", err)
		}
		pf, err = evaluation.ReadPredictions(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("reading %s: %w", ev.predictions, err)
		}
	}

	reports := []*evaluation.Report{}
	for _, c := range corpora {
		r, err := evaluateCorpus(c, pf)
		if err != nil {
			return err
		}
		if r == nil {
			continue
		}
		r.Path = ev.corpus
		reports = append(reports, r)
	}
	if len(reports) == 0 {
		return fmt.Errorf("predictions in %s match no corpus at %s: check that they were made from its -export-texts output", ev.predictions, ev.corpus)
	}

	if format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(reports); err != nil {
			return fmt.Errorf("writing output: %w", err)
		}
		return nil
	}
	for i, r := range reports {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		if err := printReport(stdout, r); err != nil {
			return fmt.Errorf("writing output: %w", err)
		}
	}
	return nil
}

// evaluateCorpus scores one corpus. With a predictions file it returns nil
// when the file has no entry for the corpus, so that one file may cover a
// subset of the corpora.
func evaluateCorpus(c evaluation.Corpus, pf *evaluation.PredictionsFile) (*evaluation.Report, error) {
	if pf == nil {
		pred, tp := evaluation.Run(c, phi.DefaultScanner())
		r, err := c.Score(pred)
		if err != nil {
			return nil, fmt.Errorf("scoring %s: %w", c.Name(), err)
		}
		r.Tool = "phigate"
		r.Throughput = tp
		return r, nil
	}

	pred, seconds, ok, err := pf.For(c.Name())
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, nil
	}
	r, err := c.Score(pred)
	if err != nil {
		return nil, fmt.Errorf("scoring %s predictions of %s: %w", pf.Tool, c.Name(), err)
	}
	r.Tool = pf.Tool
	r.Throughput = evaluation.NewThroughput(r.Bytes, seconds)
	return r, nil
}

func writeTexts(path string, corpora []evaluation.Corpus) error {
	data, err := json.Marshal(evaluation.Texts(corpora))
	if err != nil {
		return fmt.Errorf("encoding texts: %w", err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("writing texts: %w", err)
	}
	return nil
}

// printReport writes one corpus report as aligned text tables.
func printReport(w io.Writer, r *evaluation.Report) error {
	fmt.Fprintf(w, "corpus %s (%s), tool %s: %d documents, %d bytes, %.2f MB/s\n",
		r.Corpus, r.Kind, r.Tool, r.Documents, r.Bytes, r.Throughput.MBPerSecond)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	var footer string
	switch {
	case r.Spans != nil:
		printSpanScore(tw, r.Spans)
		footer = "excluded gold spans: " + formatCounts(r.Spans.Excluded)
	case r.Queries != nil:
		printQueryScore(tw, r.Queries)
		footer = "findings on hard negatives: " + formatCounts(r.Queries.FalseFindings)
	case r.FHIR != nil:
		printFHIRScore(tw, r.FHIR)
		if n := r.FHIR.Notes; n.UnknownPatient > 0 || n.Undecodable > 0 {
			footer = fmt.Sprintf("notes without a known patient: %d, undecodable attachments: %d", n.UnknownPatient, n.Undecodable)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if footer != "" {
		_, err := fmt.Fprintln(w, footer)
		return err
	}
	return nil
}

func printSpanScore(tw *tabwriter.Writer, s *evaluation.SpanScore) {
	fmt.Fprintln(tw, "type\tgold\trecall any\trecall type\tbyte recall\tpredicted\tprecision any\tprecision type\tF1 any\tF1 type")
	row := func(t evaluation.SpanTypeScore) {
		fmt.Fprintf(tw, "%s\t%d\t%.3f\t%.3f\t%.3f\t%d\t%.3f\t%.3f\t%.3f\t%.3f\n",
			t.Type, t.Gold, t.RecallAny, t.RecallExact, t.ByteRecall, t.Predicted, t.PrecisionAny, t.PrecisionExact, t.F1Any, t.F1Exact)
	}
	for _, t := range s.Types {
		row(t)
	}
	row(s.Overall)
}

func printQueryScore(tw *tabwriter.Writer, s *evaluation.QueryScore) {
	fmt.Fprintln(tw, "tag type\tphigate type\ttags\tleaked\tleak rate")
	for _, t := range append(s.Types, s.Overall) {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.3f\n", t.Type, t.Phigate, t.Tags, t.Leaked, t.LeakRate)
	}
	fmt.Fprintf(tw, "PHI queries fully masked\t\t%d/%d\t\t%.3f\n", s.FullyMasked, s.PHIQueries, s.FullyRate)
	fmt.Fprintf(tw, "hard negatives over-redacted\t\t%d/%d\t\t%.3f\n", s.OverRedacted, s.HardNegatives, s.OverRedactedRate)
}

func printFHIRScore(tw *tabwriter.Writer, s *evaluation.FHIRScore) {
	fmt.Fprintln(tw, "field\tvalues\tfound compact\tfound indented\tfound both\trate")
	for _, f := range append(s.Fields, s.Overall) {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%.3f\n", f.Kind, f.Values, f.FoundCompact, f.FoundIndented, f.Found, f.Rate)
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "note item\tnotes with it\tall masked\toccurrences\tmasked\trate")
	for _, it := range s.Notes.Items {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%.3f\n", it.Kind, it.Notes, it.NotesMasked, it.Occurrences, it.Masked, it.Rate)
	}
	fmt.Fprintf(tw, "every item\t%d\t%d\t\t\t%.3f\n", s.Notes.Notes, s.Notes.Passed, s.Notes.PassRate)
}

// formatCounts returns "A 3, B 1" in key order, or "none".
func formatCounts(counts map[string]int) string {
	if len(counts) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, counts[k]))
	}
	return strings.Join(parts, ", ")
}
