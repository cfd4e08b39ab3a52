package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/phigate/phigate/phi"
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
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: phigate scan [flags] FILE... | -")
		fmt.Fprintln(stderr, "Lists the PHI found in each file (or standard input for -): type, byte offsets, detector.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *format != "text" && *format != "json" {
		return usageError("invalid -format %q: want text or json", *format)
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
		return nil, fmt.Errorf("reading input: %w", err)
	}
	return data, nil
}
