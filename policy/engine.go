package policy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/bundle"
	"github.com/open-policy-agent/opa/v1/metrics"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// Engine evaluates one compiled bundle. Its bundle never changes and it
// is safe for concurrent use; a reload builds a new Engine.
type Engine struct {
	query    rego.PreparedEvalQuery
	revision string
	// digest identifies the bundle's content, so that a reload can tell an
	// unchanged bundle from a new one with the same revision.
	digest string
	risk   RiskModel
	// tenantRisk holds the models of tenants with risk overrides.
	tenantRisk map[string]RiskModel
	source     string
	registry   registryCache
}

// Compile prepares the decision query over a bundle and checks that it
// decides a clean and a PHI request without error. source describes where
// the bundle came from, for logs and status.
func Compile(ctx context.Context, b *bundle.Bundle, source string) (*Engine, error) {
	e, err := compile(ctx, b, source)
	if err != nil {
		return nil, err
	}
	if err := e.selfTest(ctx); err != nil {
		return nil, fmt.Errorf("policy from %s: %w", source, err)
	}
	return e, nil
}

// compile prepares the query without the self-test, so tests can reach
// Decide's own checks with bundles the self-test would reject.
func compile(ctx context.Context, b *bundle.Bundle, source string) (*Engine, error) {
	if !slices.ContainsFunc(b.Modules, func(m bundle.ModuleFile) bool { return !strings.HasSuffix(m.Path, "_test.rego") }) {
		return nil, fmt.Errorf("policy from %s has no .rego files", source)
	}
	risk, tenantRisk, err := riskModelsFrom(b.Data)
	if err != nil {
		return nil, fmt.Errorf("policy from %s: %w", source, err)
	}

	r := rego.New(rego.Query(Query), rego.ParsedBundle("phigate", b), rego.StoreReadAST(true))
	query, err := r.PrepareForEval(ctx)
	if err != nil {
		return nil, fmt.Errorf("compiling policy from %s: %w", source, err)
	}
	digest := contentDigest(b)
	return &Engine{query: query, revision: revisionOf(b, digest), digest: digest, risk: risk, tenantRisk: tenantRisk, source: source}, nil
}

// selfTestInputs are requests every bundle must decide without error: a
// clean one and one with PHI. A bundle that compiles but fails here (two
// complete rules that disagree, a runtime type error, no decision at all)
// would deny every request, so it is rejected before it is swapped in.
var selfTestInputs = func() []Input {
	providers := map[string]Provider{
		"self-test":     {Name: "self-test", Cluster: "self_test", Format: "openai", Regions: []string{}, Models: []string{}},
		"self-test-baa": {Name: "self-test-baa", Cluster: "self_test_baa", Format: "openai", BAA: true, Regions: []string{}, Models: []string{}},
	}
	base := Input{
		Version: ContractVersion,
		Request: RequestInfo{
			API: "openai.chat_completions", Format: "openai", Method: "POST", Path: "/v1/chat/completions",
			Model: "self-test", BodyValid: true, RequestedProvider: "self-test", Headers: map[string]string{},
		},
		PHI:       PHISummary{Types: map[string]int{}, MaxConfidence: map[string]float64{}, Fields: []string{}},
		Risk:      Risk{Parts: map[string]int{}},
		Providers: providers,
	}
	withPHI := base
	withPHI.PHI = PHISummary{Total: 1, Types: map[string]int{"SSN": 1}, MaxConfidence: map[string]float64{"SSN": 1}, Fields: []string{"messages[0].content"}}
	withPHI.Risk = Risk{Score: 45, Parts: map[string]int{"identifiers": 45}}
	return []Input{base, withPHI}
}()

func (e *Engine) selfTest(ctx context.Context) error {
	for i, in := range selfTestInputs {
		if _, err := e.Decide(ctx, in); err != nil {
			return fmt.Errorf("self-test decision %d of %d failed: %w", i+1, len(selfTestInputs), err)
		}
	}
	return nil
}

// Load reads and compiles the bundle directory dir, without signature
// verification. It is what `phigate policy eval` and tests use; the server
// uses a Manager.
func Load(ctx context.Context, dir string) (*Engine, error) {
	src := &DirSource{Path: dir}
	b, _, err := src.Fetch(ctx, "")
	if err != nil {
		return nil, err
	}
	return Compile(ctx, b, src.String())
}

// Revision identifies the bundle: the revision in its .manifest when it has
// one, else "sha256:" and a digest of its policy and data, so every audit
// record can name the exact policy that decided it.
func (e *Engine) Revision() string { return e.revision }

// Source describes where the bundle came from.
func (e *Engine) Source() string { return e.source }

// RiskModel returns the bundle's risk weights.
func (e *Engine) RiskModel() RiskModel { return e.risk }

// RiskModelFor returns the risk weights for requests of tenant: the
// tenant's override merged over the bundle's, or the bundle's when the
// tenant has none.
func (e *Engine) RiskModelFor(tenant string) RiskModel {
	if m, ok := e.tenantRisk[tenant]; ok {
		return m
	}
	return e.risk
}

// revisionOf returns the manifest revision or "sha256:" and the start of
// digest, the bundle's contentDigest.
func revisionOf(b *bundle.Bundle, digest string) string {
	if b.Manifest.Revision != "" {
		return b.Manifest.Revision
	}
	return "sha256:" + digest[:16]
}

// sameBundle reports whether b has the revision and the content this
// engine was compiled from.
func (e *Engine) sameBundle(b *bundle.Bundle) bool {
	digest := contentDigest(b)
	return e.digest == digest && e.revision == revisionOf(b, digest)
}

// contentDigest returns the hex SHA-256 digest of a bundle's policy
// modules (test files excluded) and data.
func contentDigest(b *bundle.Bundle) string {
	modules := slices.Clone(b.Modules)
	slices.SortFunc(modules, func(x, y bundle.ModuleFile) int { return strings.Compare(x.Path, y.Path) })
	h := sha256.New()
	for _, m := range modules {
		if strings.HasSuffix(m.Path, "_test.rego") {
			continue
		}
		fmt.Fprintf(h, "%s\x00%d\x00", m.Path, len(m.Raw))
		h.Write(m.Raw)
	}
	data, _ := json.Marshal(b.Data) // maps of JSON values always encode
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

// ErrInvalidInput is returned, wrapped, by Decide for an input document
// that contradicts itself.
var ErrInvalidInput = errors.New("invalid input")

// check rejects PHI counts that disagree. Templates decide by PHI type,
// and a request is clean when phi.total is 0, so a total that is not the
// sum of the type counts would decide on the wrong facts. phigate never
// builds such an input, but a hand-written one for policy eval can be.
func (s PHISummary) check() error {
	sum := 0
	for _, n := range s.Types {
		sum += n
	}
	if s.Total != sum {
		return fmt.Errorf("%w: phi.total is %d but phi.types counts %d values", ErrInvalidInput, s.Total, sum)
	}
	return nil
}

// ErrUndefined is returned by Decide when the bundle defines no decision
// for the input.
var ErrUndefined = errors.New("policy decision is undefined")

// Decide evaluates the bundle for one input. It returns ErrUndefined when
// the bundle yields no decision and a validation error when the decision
// does not have the documented shape. It returns the context's error when
// ctx is cancelled before the call, and stops evaluating when ctx is
// cancelled during it.
func (e *Engine) Decide(ctx context.Context, in Input) (Decision, error) {
	if err := ctx.Err(); err != nil {
		return Decision{}, fmt.Errorf("evaluating policy: %w", err)
	}
	if err := in.PHI.check(); err != nil {
		return Decision{}, err
	}

	// By default OPA starts a goroutine per evaluation to watch ctx and
	// fills a metrics registry that nothing reads. A context callback
	// cancels the evaluation instead, and the no-op registry skips the
	// metrics.
	cancel := topdown.NewCancel()
	stop := context.AfterFunc(ctx, cancel.Cancel)
	defer stop()

	caches := evalCachePool.Get().(*evalCaches)
	defer func() {
		caches.reset()
		evalCachePool.Put(caches)
	}()

	results, err := e.query.Eval(ctx,
		rego.EvalParsedInput(e.inputValue(in)),
		rego.EvalExternalCancel(cancel),
		rego.EvalMetrics(metrics.NoOp()),
		rego.EvalGenerateJSON(keepValue),
		rego.EvalVirtualCache(&caches.virtual),
		rego.EvalBaseCache(&caches.base),
	)
	if err != nil {
		return Decision{}, fmt.Errorf("evaluating policy: %w", err)
	}
	if len(results) == 0 || len(results[0].Expressions) == 0 {
		return Decision{}, ErrUndefined
	}
	if len(results) > 1 {
		return Decision{}, fmt.Errorf("policy returned %d decisions, want one", len(results))
	}

	value, ok := results[0].Expressions[0].Value.(ast.Value)
	if !ok {
		return Decision{}, fmt.Errorf("invalid policy decision: result is %T, want an OPA value", results[0].Expressions[0].Value)
	}
	d, err := decodeDecision(value)
	if err != nil {
		return Decision{}, fmt.Errorf("invalid policy decision: %w", err)
	}
	if err := d.Validate(in.Providers); err != nil {
		return Decision{}, err
	}
	return d, nil
}

// keepValue hands results over as OPA values, which decodeDecision reads
// directly, instead of converting them to Go maps and slices.
func keepValue(t *ast.Term, _ *rego.EvalContext) (any, error) {
	return t.Value, nil
}

// Validate checks a decision against the contract (the rules of
// schema/decision.schema.json) and the registry.
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
		} else if d.Redact.Operator != OperatorMask && d.Redact.Operator != OperatorPseudonymize {
			errs = append(errs, fmt.Errorf("redact decision has unsupported operator %q: want mask or pseudonymize", d.Redact.Operator))
		}
	}
	if d.ResponseRedact != nil && len(d.ResponseRedact.Types) == 0 {
		errs = append(errs, errors.New("response_redact lists no PHI types"))
	}
	if d.Status != 0 && (d.Status < 400 || d.Status > 599) {
		errs = append(errs, fmt.Errorf("decision has invalid status %d: want 400 to 599", d.Status))
	}
	if len(d.Reasons) == 0 {
		errs = append(errs, errors.New("decision gives no reasons"))
	}
	for _, r := range d.Reasons {
		if r == "" {
			errs = append(errs, errors.New("decision has an empty reason"))
			break
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("invalid policy decision: %w", err)
	}
	return nil
}
