// Package policy evaluates the Rego bundle that decides what happens to each
// request: allow it, redact it or deny it, and which provider receives it.
//
// The package knows nothing of gRPC or Envoy. Callers build an Input, call
// Decide and act on the Decision. A decision that the bundle leaves
// undefined, or that does not have the documented shape, is an error, which
// callers must treat as a deny.
package policy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/rego"
)

// Query is the Rego query phigate evaluates for every request.
const Query = "data.phigate.decision"

// Actions a decision may take.
const (
	ActionAllow  = "allow"
	ActionRedact = "redact"
	ActionDeny   = "deny"
)

// Input is the document the policy sees as `input`. It carries PHI types,
// counts and confidences, never PHI values.
type Input struct {
	Request   RequestInfo         `json:"request"`
	PHI       PHISummary          `json:"phi"`
	Risk      Risk                `json:"risk"`
	Providers map[string]Provider `json:"providers"`
}

// RequestInfo describes the request as the client sent it.
type RequestInfo struct {
	API       string `json:"api"`
	Format    string `json:"format"`
	Method    string `json:"method"`
	Path      string `json:"path"`
	Model     string `json:"model"`
	Stream    bool   `json:"stream"`
	BodyValid bool   `json:"body_valid"`
	// BodyError says why the body did not parse; it names a position,
	// never body content.
	BodyError         string            `json:"body_error,omitempty"`
	Attachments       int               `json:"attachments"`
	RequestedProvider string            `json:"requested_provider"`
	Tenant            string            `json:"tenant"`
	Purpose           string            `json:"purpose"`
	Headers           map[string]string `json:"headers"`
}

// PHISummary counts the PHI found in the texts of a request.
type PHISummary struct {
	Total int            `json:"total"`
	Types map[string]int `json:"types"`
	// MaxConfidence is the highest detector confidence seen for each type.
	MaxConfidence map[string]float64 `json:"max_confidence"`
	// Fields lists the JSON paths of the texts that contained PHI.
	Fields []string `json:"fields"`
}

// Risk is a score from 0 to 100 of how identifying the request is.
type Risk struct {
	Score int `json:"score"`
}

// Provider is the registry entry as the policy sees it.
type Provider struct {
	Name              string   `json:"name"`
	Cluster           string   `json:"cluster"`
	Format            string   `json:"format"`
	BAA               bool     `json:"baa"`
	ZeroDataRetention bool     `json:"zero_data_retention"`
	Default           bool     `json:"default"`
	Regions           []string `json:"regions"`
	Models            []string `json:"models"`
}

// Decision is the policy's answer for one request.
type Decision struct {
	Action string `json:"action"`
	// Provider names the registry entry that receives the request; it is
	// required unless Action is deny.
	Provider string `json:"provider,omitempty"`
	// Model, when set, replaces the model the client asked for.
	Model  string  `json:"model,omitempty"`
	Redact *Redact `json:"redact,omitempty"`
	// Reasons explain the decision to the client (in deny responses) and to
	// auditors. They must not contain PHI; the policy never sees any.
	Reasons []string `json:"reasons"`
	// Status is the HTTP status of a deny response, 403 when unset.
	Status int `json:"status,omitempty"`
	// Headers are added to the request forwarded upstream.
	Headers map[string]string `json:"headers,omitempty"`
}

// Redact says which PHI types to remove and how.
type Redact struct {
	Types    []string `json:"types"`
	Operator string   `json:"operator"`
}

// Engine evaluates one loaded bundle. It is safe for concurrent use.
type Engine struct {
	query    rego.PreparedEvalQuery
	revision string
}

// Load compiles the bundle in dir: every .rego file except *_test.rego,
// and every .json, .yaml or .yml data file, as `opa` would load the
// directory. OPA places a data file's content at the path of its directory,
// whatever the file's name.
func Load(ctx context.Context, dir string) (*Engine, error) {
	revision, err := revisionOf(dir)
	if err != nil {
		return nil, err
	}

	skipTests := func(_ string, info fs.FileInfo, _ int) bool {
		return !info.IsDir() && strings.HasSuffix(info.Name(), "_test.rego")
	}
	r := rego.New(rego.Query(Query), rego.Load([]string{dir}, skipTests))
	query, err := r.PrepareForEval(ctx)
	if err != nil {
		return nil, fmt.Errorf("compiling policy bundle %s: %w", dir, err)
	}
	return &Engine{query: query, revision: revision}, nil
}

// Revision identifies the bundle: the revision in its .manifest when it has
// one, else "sha256:" and a digest of the files the engine loaded, so every
// audit record can name the exact policy that decided it.
func (e *Engine) Revision() string { return e.revision }

// ErrUndefined is returned by Decide when the bundle defines no decision
// for the input.
var ErrUndefined = errors.New("policy decision is undefined")

// Decide evaluates the bundle for one input. It returns ErrUndefined when
// the bundle yields no decision and a validation error when the decision
// does not have the documented shape.
func (e *Engine) Decide(ctx context.Context, in Input) (Decision, error) {
	results, err := e.query.Eval(ctx, rego.EvalParsedInput(in.value()))
	if err != nil {
		return Decision{}, fmt.Errorf("evaluating policy: %w", err)
	}
	if len(results) == 0 || len(results[0].Expressions) == 0 {
		return Decision{}, ErrUndefined
	}
	if len(results) > 1 {
		return Decision{}, fmt.Errorf("policy returned %d decisions, want one", len(results))
	}

	raw, err := json.Marshal(results[0].Expressions[0].Value)
	if err != nil {
		return Decision{}, fmt.Errorf("encoding policy decision: %w", err)
	}
	var d Decision
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return Decision{}, fmt.Errorf("invalid policy decision: %w", err)
	}
	if err := d.Validate(in.Providers); err != nil {
		return Decision{}, err
	}
	return d, nil
}

// Validate checks a decision against the contract and the registry.
func (d Decision) Validate(providers map[string]Provider) error {
	var errs []error
	switch d.Action {
	case ActionAllow, ActionRedact:
		if _, ok := providers[d.Provider]; !ok {
			errs = append(errs, fmt.Errorf("decision names unknown provider %q", d.Provider))
		}
	case ActionDeny:
	default:
		errs = append(errs, fmt.Errorf("decision has invalid action %q: want allow, redact or deny", d.Action))
	}
	if d.Action == ActionRedact {
		if d.Redact == nil || len(d.Redact.Types) == 0 {
			errs = append(errs, errors.New("redact decision lists no PHI types"))
		} else if d.Redact.Operator != "mask" {
			errs = append(errs, fmt.Errorf("redact decision has unsupported operator %q: want mask", d.Redact.Operator))
		}
	}
	if d.Status != 0 && (d.Status < 400 || d.Status > 599) {
		errs = append(errs, fmt.Errorf("decision has invalid status %d: want 400 to 599", d.Status))
	}
	if len(d.Reasons) == 0 {
		errs = append(errs, errors.New("decision gives no reasons"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("invalid policy decision: %w", err)
	}
	return nil
}

// revisionOf returns the bundle's manifest revision or a digest of its
// policy and data files.
func revisionOf(dir string) (string, error) {
	if data, err := os.ReadFile(filepath.Join(dir, ".manifest")); err == nil {
		var manifest struct {
			Revision string `json:"revision"`
		}
		if err := json.Unmarshal(data, &manifest); err != nil {
			return "", fmt.Errorf("reading bundle manifest: %w", err)
		}
		if manifest.Revision != "" {
			return manifest.Revision, nil
		}
	}

	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() || strings.HasSuffix(name, "_test.rego") {
			return nil
		}
		if slices.ContainsFunc([]string{".rego", ".json", ".yaml", ".yml"}, func(ext string) bool { return strings.HasSuffix(name, ext) }) {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("listing policy bundle %s: %w", dir, err)
	}
	if !slices.ContainsFunc(files, func(f string) bool { return strings.HasSuffix(f, ".rego") }) {
		return "", fmt.Errorf("policy bundle %s has no .rego files", dir)
	}
	slices.Sort(files)

	h := sha256.New()
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return "", fmt.Errorf("reading policy file: %w", err)
		}
		rel, _ := filepath.Rel(dir, f)
		fmt.Fprintf(h, "%s\x00%d\x00", filepath.ToSlash(rel), len(data))
		h.Write(data)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))[:16], nil
}
