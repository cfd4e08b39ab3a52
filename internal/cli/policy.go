package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"reflect"
	"strings"

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
	keyID := fs.String("key-id", "default", "id to configure the public key under, as policy.verification.key_id (with -public-key)")
	algorithm := fs.String("algorithm", "RS256", "signing algorithm (with -public-key)")
	scope := fs.String("scope", "", "scope that the signatures must carry, if any (with -public-key)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: phigate policy eval -policy DIR|FILE.tar.gz -input FILE [-public-key FILE]")
		fmt.Fprintln(stderr, "Evaluates "+policy.Query+" for one input document and prints the decision as JSON.")
		fmt.Fprintln(stderr, "With -public-key, a bundle whose signatures do not verify is an error, as it is for phigate serve.")
		fmt.Fprintln(stderr, "An input document without \"risk\" gets the score phigate serve would compute from the bundle's weights.")
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
	} else {
		var stray []string
		fs.Visit(func(f *flag.Flag) {
			if f.Name == "key-id" || f.Name == "algorithm" || f.Name == "scope" {
				stray = append(stray, "-"+f.Name)
			}
		})
		if len(stray) > 0 {
			return usageError("%s given without -public-key", strings.Join(stray, ", "))
		}
	}

	data, err := readInput(*inputPath, stdin)
	if err != nil {
		return err
	}
	doc, err := parseInputObject(*inputPath, data)
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
		fmt.Fprintf(stderr, "%s: signatures verified with the key in %s\n", src, *publicKey)
	}
	engine, err := policy.Compile(ctx, b, src.String())
	if err != nil {
		return err
	}

	if _, ok := doc["risk"]; !ok {
		if withRisk, score, ok := addRisk(engine, doc); ok {
			data = withRisk
			fmt.Fprintf(stderr, "%s: no risk in the input; computed score %d from the bundle's weights\n", *inputPath, score)
		}
	}
	in, err := decodeInput(ctx, *inputPath, data, stderr)
	if err != nil {
		return err
	}
	d, err := engine.Decide(ctx, in)
	if errors.Is(err, policy.ErrInvalidInput) {
		return fmt.Errorf("input document %s: %w", *inputPath, err)
	}
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

// parseInputObject parses an input document, which must be a JSON object.
func parseInputObject(name string, data []byte) (map[string]any, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("input document %s is empty", name)
	}
	var raw any
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("input document %s is not valid JSON: %w", name, err)
	}
	doc, ok := raw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("input document %s is a JSON %s, expected an object with request, phi and providers", name, jsonKind(raw))
	}
	return doc, nil
}

// addRisk sets doc's risk to the score phigate serve computes for it
// (from the bundle's weights, the tenant's where it has its own) and
// returns the document encoded again with the score. It reports false,
// and leaves doc alone, when doc has fields of the wrong type: decoding
// the whole document reports those.
func addRisk(engine *policy.Engine, doc map[string]any) ([]byte, int, bool) {
	encoded, err := json.Marshal(doc)
	if err != nil {
		return nil, 0, false
	}
	var in policy.Input
	if err := json.Unmarshal(encoded, &in); err != nil {
		return nil, 0, false
	}
	requested := in.Providers[in.Request.RequestedProvider]
	risk := engine.RiskModelFor(in.Request.Tenant).Score(in.PHI, in.Health, requested.BAA)
	doc["risk"] = risk
	withRisk, err := json.Marshal(doc)
	if err != nil {
		delete(doc, "risk")
		return nil, 0, false
	}
	return withRisk, risk.Score, true
}

// decodeInput decodes an input document. Fields the contract does not
// have, and fields of the wrong type, are errors. Partial documents are
// handy while writing a rule, so a document that only lacks fields gets a
// schema warning on stderr and is evaluated. phigate itself always sends
// complete ones.
func decodeInput(ctx context.Context, name string, data []byte, stderr io.Writer) (policy.Input, error) {
	var in policy.Input
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		if typeErr, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
			return policy.Input{}, fmt.Errorf("input document %s: %s is a JSON %s, expected %s", name, typeErr.Field, typeErr.Value, jsonTypeOf(typeErr.Type))
		}
		return policy.Input{}, fmt.Errorf("decoding input document %s: %w", name, err)
	}
	if err := policy.CheckInput(ctx, data); err != nil {
		fmt.Fprintf(stderr, "warning: %s: %v\n", name, err)
	}
	return in, nil
}

// jsonTypeOf names the JSON type that decodes into a Go type, with an
// article, for messages.
func jsonTypeOf(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	default:
		return t.String()
	}
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
