package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/phigate/phigate/policy"
)

func runPolicy(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "eval" {
		return usageError("missing or unknown policy command: want \"phigate policy eval\"")
	}
	fs := newFlagSet("policy eval", stderr)
	dir := fs.String("policy", "rego", "policy bundle: a directory or a .tar.gz file")
	inputPath := fs.String("input", "", "JSON input document (the policy's input), or - for standard input")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: phigate policy eval -policy DIR -input FILE")
		fmt.Fprintln(stderr, "Evaluates "+policy.Query+" for one input document and prints the decision as JSON.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *inputPath == "" {
		return usageError("missing -input FILE")
	}

	data, err := readInput(*inputPath, stdin)
	if err != nil {
		return err
	}
	// Partial documents are handy while writing a rule, so a schema
	// mismatch is a warning; phigate itself always sends complete ones.
	if err := policy.CheckInput(ctx, data); err != nil {
		fmt.Fprintf(stderr, "warning: %s: %v\n", *inputPath, err)
	}
	var in policy.Input
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return fmt.Errorf("decoding input document %s: %w", *inputPath, err)
	}

	src := policy.NewSource(*dir, nil, nil)
	b, _, err := src.Fetch(ctx, "")
	if err != nil {
		return err
	}
	engine, err := policy.Compile(ctx, b, src.String())
	if err != nil {
		return err
	}
	d, err := engine.Decide(ctx, in)
	if err != nil {
		return fmt.Errorf("policy revision %s: %w", engine.Revision(), err)
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Revision string          `json:"policy_revision"`
		Decision policy.Decision `json:"decision"`
	}{engine.Revision(), d})
}
