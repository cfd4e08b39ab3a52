package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/phigate/phigate/config"
	"github.com/phigate/phigate/policy"
)

func runPolicy(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "eval" {
		return usageError("missing or unknown policy command: want \"phigate policy eval\"")
	}
	fs := newFlagSet("policy eval", stderr)
	dir := fs.String("policy", "rego", "policy bundle: a directory or a .tar.gz file")
	inputPath := fs.String("input", "", "JSON input document (the policy's input), or - for standard input")
	publicKey := fs.String("public-key", "", "verify the bundle's signatures (.signatures.json) with this PEM public key, as phigate serve does with policy.verification")
	keyID := fs.String("key-id", "", "key id that the signatures must name (with -public-key)")
	algorithm := fs.String("algorithm", "RS256", "signing algorithm (with -public-key)")
	scope := fs.String("scope", "", "scope that the signatures must carry, if any (with -public-key)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: phigate policy eval -policy DIR|FILE.tar.gz -input FILE [-public-key FILE -key-id ID]")
		fmt.Fprintln(stderr, "Evaluates "+policy.Query+" for one input document and prints the decision as JSON.")
		fmt.Fprintln(stderr, "With -public-key, a bundle whose signatures do not verify is an error, as it is for phigate serve.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *inputPath == "" {
		return usageError("missing -input FILE")
	}

	var verify *config.Verification
	if *publicKey != "" {
		verify = &config.Verification{PublicKeyFile: *publicKey, KeyID: *keyID, Algorithm: *algorithm, Scope: *scope}
	} else if *keyID != "" || *scope != "" {
		return usageError("-key-id and -scope need -public-key")
	}

	data, err := readInput(*inputPath, stdin)
	if err != nil {
		return err
	}
	in, err := decodeInput(ctx, *inputPath, data, stderr)
	if err != nil {
		return err
	}

	verification, err := verificationConfig(verify)
	if err != nil {
		return err
	}
	src := policy.NewSource(*dir, verification, nil)
	b, _, err := src.Fetch(ctx, "")
	if err != nil {
		return err
	}
	if verify != nil {
		fmt.Fprintf(stderr, "%s: signatures verified with key %q\n", src, *keyID)
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

// decodeInput parses an input document, which must be a JSON object.
// Fields the contract does not have are errors. Partial documents are handy
// while writing a rule, so a schema mismatch is only a warning on stderr.
// phigate itself always sends complete ones.
func decodeInput(ctx context.Context, name string, data []byte, stderr io.Writer) (policy.Input, error) {
	var raw any
	if err := json.Unmarshal(data, &raw); err != nil {
		return policy.Input{}, fmt.Errorf("input document %s is not valid JSON: %w", name, err)
	}
	if _, ok := raw.(map[string]any); !ok {
		return policy.Input{}, fmt.Errorf("input document %s is a JSON %s, want an object with request, phi and providers", name, jsonKind(raw))
	}
	if err := policy.CheckInput(ctx, data); err != nil {
		fmt.Fprintf(stderr, "warning: %s: %v\n", name, err)
	}
	var in policy.Input
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return policy.Input{}, fmt.Errorf("decoding input document %s: %w", name, err)
	}
	return in, nil
}

// jsonKind names the JSON type of a value decoded by encoding/json.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	default:
		return "object"
	}
}
