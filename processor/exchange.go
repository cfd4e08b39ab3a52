package processor

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"

	"github.com/phigate/phigate/audit"
	"github.com/phigate/phigate/llmapi"
	"github.com/phigate/phigate/phi"
	"github.com/phigate/phigate/policy"
	"github.com/phigate/phigate/provider"
	"github.com/phigate/phigate/translate"
)

// Response headers phigate adds for the client.
const (
	HeaderRequestID = "x-phigate-request-id"
	HeaderDecision  = "x-phigate-decision"
)

// exchange is the state of one HTTP request and its response.
type exchange struct {
	s      *Server
	id     string
	start  time.Time
	logger *slog.Logger

	// Request facts, from the request headers.
	method, path      string
	api               llmapi.API
	requestedProvider string
	tenant, purpose   string
	claims            map[string]any
	contentLength     int
	body              []byte

	// Set once the request is decided.
	decided  bool
	decision policy.Decision
	record   audit.Record

	// Set when the request is forwarded: whether it was translated to
	// another wire format, the pseudonyms its values were replaced with,
	// and the filter that restores them and masks new PHI in the output.
	translated bool
	pseudo     *phi.Pseudonymizer
	filter     *responseFilter

	// Response facts.
	target       provider.Provider
	stream       *translate.Stream
	streamClosed bool
	rewriteBody  bool
	// scanWhole marks a response that is not a chat response but whose
	// output must be scanned: it is read whole, even an event stream.
	scanWhole     bool
	responseError string
	status        int
	responseBytes int
	firstByte     time.Duration
	streamUsage   *llmapi.StreamUsage
	usage         llmapi.Usage
	outcomeDone   bool
}

func (s *Server) newExchange() *exchange {
	id := newRequestID()
	return &exchange{
		s:      s,
		id:     id,
		start:  time.Now(),
		logger: s.opts.Logger.With("request_id", id),
	}
}

// newRequestID returns a 32-hex-digit id whose first 12 digits are the
// millisecond time, so ids sort roughly by time in logs and audit records.
func newRequestID() string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(time.Now().UnixMilli())<<16)
	_, _ = rand.Read(b[6:]) // crypto/rand.Read never returns an error
	return hex.EncodeToString(b[:])
}

func (ex *exchange) handle(ctx context.Context, msg *extprocv3.ProcessingRequest) (*extprocv3.ProcessingResponse, error) {
	switch m := msg.Request.(type) {
	case *extprocv3.ProcessingRequest_RequestHeaders:
		ex.claims = jwtClaims(msg.MetadataContext)
		return ex.requestHeaders(ctx, m.RequestHeaders)
	case *extprocv3.ProcessingRequest_RequestBody:
		return ex.requestBody(ctx, m.RequestBody)
	case *extprocv3.ProcessingRequest_ResponseHeaders:
		return ex.responseHeaders(m.ResponseHeaders)
	case *extprocv3.ProcessingRequest_ResponseBody:
		return ex.responseBody(m.ResponseBody)
	case *extprocv3.ProcessingRequest_RequestTrailers:
		return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_RequestTrailers{RequestTrailers: &extprocv3.TrailersResponse{}}}, nil
	case *extprocv3.ProcessingRequest_ResponseTrailers:
		return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ResponseTrailers{ResponseTrailers: &extprocv3.TrailersResponse{}}}, nil
	}
	return nil, fmt.Errorf("unexpected ext_proc message %T", msg.Request)
}

// requestHeaders records the request facts and removes the headers a
// client must not pass upstream. When the request has no body it is
// decided here; otherwise Envoy sends the buffered body next.
func (ex *exchange) requestHeaders(ctx context.Context, h *extprocv3.HttpHeaders) (*extprocv3.ProcessingResponse, error) {
	opts := ex.s.opts
	ex.method = header(h, ":method")
	ex.path = header(h, ":path")
	ex.api = llmapi.Detect(ex.path)
	ex.tenant = header(h, opts.TenantHeader)
	ex.purpose = header(h, opts.PurposeHeader)
	ex.requestedProvider = header(h, opts.ProviderHeader)
	if ex.requestedProvider == "" {
		if p, ok := opts.Registry.Default(ex.api.Format()); ok {
			ex.requestedProvider = p.Name
		}
	}
	if cl := header(h, "content-length"); cl != "" {
		n, err := strconv.Atoi(cl)
		if err != nil || n < 0 {
			return ex.deny(ctx, http.StatusBadRequest, "invalid_content_length", "invalid Content-Length header", "request"), nil
		}
		ex.contentLength = n
	}
	ex.logger = ex.logger.With("api", string(ex.api), "tenant", ex.tenant)

	if ex.contentLength > opts.MaxBodyBytes {
		msg := fmt.Sprintf("request body of %d bytes exceeds phigate's limit of %d bytes", ex.contentLength, opts.MaxBodyBytes)
		return ex.deny(ctx, http.StatusRequestEntityTooLarge, "request_too_large", msg, "request"), nil
	}

	removed := &extprocv3.HeaderMutation{RemoveHeaders: ex.clientOnlyHeaders()}
	if h.EndOfStream {
		// No body will follow, so decide on the headers alone.
		resp, err := ex.decide(ctx, nil)
		if err != nil {
			return nil, err
		}
		if r, ok := resp.Response.(*extprocv3.ProcessingResponse_RequestBody); ok {
			common := r.RequestBody.Response
			common.HeaderMutation.RemoveHeaders = append(common.HeaderMutation.RemoveHeaders, removed.RemoveHeaders...)
			common.BodyMutation = nil
			resp.Response = &extprocv3.ProcessingResponse_RequestHeaders{RequestHeaders: &extprocv3.HeadersResponse{Response: common}}
		}
		return resp, nil
	}
	return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_RequestHeaders{
		RequestHeaders: &extprocv3.HeadersResponse{Response: &extprocv3.CommonResponse{HeaderMutation: removed}},
	}}, nil
}

// clientOnlyHeaders lists the request headers removed before forwarding:
// the routing header, which a client must never set itself, and phigate's
// own request headers, which mean nothing to a vendor.
func (ex *exchange) clientOnlyHeaders() []string {
	opts := ex.s.opts
	names := []string{opts.UpstreamHeader}
	for _, h := range []string{opts.ProviderHeader, opts.TenantHeader, opts.PurposeHeader} {
		if h != "" {
			names = append(names, h)
		}
	}
	return names
}

func (ex *exchange) requestBody(ctx context.Context, b *extprocv3.HttpBody) (*extprocv3.ProcessingResponse, error) {
	if ex.decided {
		return nil, errors.New("request body received after the request was decided")
	}
	if len(ex.body)+len(b.Body) > ex.s.opts.MaxBodyBytes {
		msg := fmt.Sprintf("request body exceeds phigate's limit of %d bytes", ex.s.opts.MaxBodyBytes)
		return ex.deny(ctx, http.StatusRequestEntityTooLarge, "request_too_large", msg, "request"), nil
	}
	ex.body = append(ex.body, b.Body...)
	if !b.EndOfStream {
		// In BUFFERED mode Envoy sends the whole body in one message. A
		// partial chunk means the filter is configured otherwise, and
		// deciding on part of a body would let the rest through unscanned.
		return nil, errors.New("request body arrived in chunks: configure the ext_proc filter with request_body_mode BUFFERED")
	}
	start := time.Now()
	growStack() // before scanning and evaluating the policy
	resp, err := ex.decide(ctx, ex.body)
	ex.s.metrics.decisionDuration.Record(ctx, time.Since(start).Seconds())
	return resp, err
}

// decide scans the body, evaluates the policy, writes the decision record
// and returns Envoy's instructions: a request-body response that routes
// (and perhaps rewrites) the request, or an immediate error response.
func (ex *exchange) decide(ctx context.Context, body []byte) (*extprocv3.ProcessingResponse, error) {
	opts := ex.s.opts
	if ex.api == llmapi.APIOpenAIEmbeddings && llmapi.HasTokenInput(body) {
		return ex.deny(ctx, http.StatusBadRequest, "unscannable_input", "embeddings input given as token ids cannot be scanned for PHI; send the input as text", "embeddings input given as token ids"), nil
	}
	parsed := llmapi.ParseBody(body)

	var health policy.HealthContext
	findings := make([][]phi.Finding, len(parsed.Texts))
	summary := policy.PHISummary{Types: map[string]int{}, MaxConfidence: map[string]float64{}, Fields: []string{}}
	for i, t := range parsed.Texts {
		findings[i] = opts.Scanner.Scan(t.Value)
		addHealthContext(&health, t.Value)
		if len(findings[i]) > 0 {
			summary.Fields = append(summary.Fields, t.Path)
		}
		for _, f := range findings[i] {
			summary.Total++
			summary.Types[string(f.Type)]++
			if f.Confidence > summary.MaxConfidence[string(f.Type)] {
				summary.MaxConfidence[string(f.Type)] = f.Confidence
			}
		}
	}

	for t, n := range summary.Types {
		ex.s.metrics.findings.Add(ctx, int64(n), attrs("type", t))
	}

	engine := opts.Policy.Current()
	requested, requestedKnown := ex.s.providers[ex.requestedProvider]
	in := policy.Input{
		Version: policy.ContractVersion,
		Request: policy.RequestInfo{
			API:               string(ex.api),
			Format:            string(ex.api.Format()),
			Method:            ex.method,
			Path:              ex.path,
			Model:             parsed.Model,
			Stream:            parsed.Stream,
			BodyValid:         parsed.JSON,
			BodyError:         parsed.ParseError,
			Attachments:       parsed.Attachments,
			RequestedProvider: ex.requestedProvider,
			Tenant:            ex.tenant,
			Purpose:           ex.purpose,
			Headers:           map[string]string{},
			Claims:            ex.claims,
		},
		PHI:       summary,
		Health:    health,
		Providers: ex.s.providers,
	}
	in.Risk = engine.RiskModelFor(ex.tenant).Score(summary, health, requestedKnown && requested.BAA)

	ex.record = audit.Record{
		Kind:              audit.KindDecision,
		RequestID:         ex.id,
		Tenant:            ex.tenant,
		User:              claimString(ex.claims, "sub"),
		Purpose:           ex.purpose,
		API:               string(ex.api),
		Path:              ex.auditPath(),
		RequestedProvider: ex.requestedProvider,
		RequestedModel:    parsed.Model,
		Model:             parsed.Model,
		Stream:            parsed.Stream,
		PolicyRevision:    engine.Revision(),
		PHITypes:          summary.Types,
		RiskScore:         in.Risk.Score,
		RequestBytes:      len(body),
	}

	if fp := opts.Fingerprints; fp != nil && summary.Total > 0 {
		ex.record.PHIFingerprints = fingerprints(fp, parsed, findings)
		ex.record.FingerprintKey = fp.KeyID()
	}

	d, err := engine.Decide(ctx, in)
	if shadow := opts.Policy.Shadow(); shadow != nil {
		ex.compareShadow(shadow, in, d, err)
	}
	if err != nil {
		ex.logger.Error("policy evaluation failed; denying request", "error", err)
		return ex.deny(ctx, http.StatusInternalServerError, "policy_error", "phigate could not evaluate its policy for this request", "policy error: "+err.Error()), nil
	}
	ex.decision = d
	ex.record.Template = d.Template

	if d.Action == policy.ActionDeny {
		status := d.Status
		if status == 0 {
			status = http.StatusForbidden
		}
		msg := "request denied by phigate policy: " + strings.Join(d.Reasons, "; ")
		return ex.deny(ctx, status, "phi_policy_denied", msg, ""), nil
	}
	return ex.forward(ctx, parsed, findings)
}

// forward applies an allow or redact decision: it rewrites the body if
// needed, translates it to the provider's wire format, makes the decision
// durable, then routes the request.
func (ex *exchange) forward(ctx context.Context, parsed *llmapi.Body, findings [][]phi.Finding) (*extprocv3.ProcessingResponse, error) {
	opts := ex.s.opts
	d := ex.decision
	target, _ := opts.Registry.Lookup(d.Provider) // Decide checked that it exists.
	ex.target = target
	if resp := ex.checkRoute(ctx, target); resp != nil {
		return resp, nil
	}

	replacements := ex.redact(parsed, findings)
	newBody := parsed.Rewrite(replacements, d.Model)
	if d.Model != "" {
		ex.record.Model = d.Model
	}
	if ex.translated {
		var resp *extprocv3.ProcessingResponse
		if newBody, resp = ex.translateRequest(ctx, newBody); resp != nil {
			return resp, nil
		}
	}
	ex.prepareResponse(parsed, findings)

	ex.record.Action = d.Action
	ex.record.Reasons = d.Reasons
	ex.record.Provider = target.Name
	ex.record.ForwardedBytes = len(newBody)
	if err := opts.Audit.Append(ctx, &ex.record); err != nil {
		ex.s.metrics.auditErrors.Add(ctx, 1)
		ex.logger.Error("audit write failed; denying request", "error", err)
		return ex.immediate(http.StatusServiceUnavailable, "audit_unavailable", "phigate could not record this request in its audit log, so it was not forwarded"), nil
	}
	ex.decided = true
	ex.logDecision()

	// The request id also goes upstream, so a vendor's records can be
	// matched with the audit log.
	mutation := &extprocv3.HeaderMutation{
		SetHeaders: []*corev3.HeaderValueOption{
			setHeader(opts.UpstreamHeader, target.Cluster),
			setHeader(HeaderRequestID, ex.id),
			// Responses are read for token usage and may be rewritten, so
			// they must arrive uncompressed.
			setHeader("accept-encoding", "identity"),
		},
	}
	ex.setCredentials(mutation, target)
	ex.setRouteHeaders(mutation, target)
	for name, value := range d.Headers {
		if isProtectedHeader(name, opts.UpstreamHeader) {
			ex.logger.Warn("policy header ignored: phigate owns it", "header", name)
			continue
		}
		mutation.SetHeaders = append(mutation.SetHeaders, setHeader(name, value))
	}

	common := &extprocv3.CommonResponse{HeaderMutation: mutation, ClearRouteCache: true}
	if len(replacements) > 0 || d.Model != "" || ex.translated {
		// Envoy keeps the client's Content-Length in BUFFERED mode and
		// rejects a body that does not match it, so set it anew.
		mutation.SetHeaders = append(mutation.SetHeaders, setHeader("content-length", strconv.Itoa(len(newBody))))
		common.BodyMutation = &extprocv3.BodyMutation{Mutation: &extprocv3.BodyMutation_Body{Body: newBody}}
	}
	return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_RequestBody{
		RequestBody: &extprocv3.BodyResponse{Response: common},
	}}, nil
}

// redact applies a redact decision to the texts of the body and returns
// the replacement of each changed text, by index.
func (ex *exchange) redact(parsed *llmapi.Body, findings [][]phi.Finding) map[int]string {
	d := ex.decision
	replacements := map[int]string{}
	if d.Action != policy.ActionRedact {
		return replacements
	}
	selected := func(t phi.Type) bool { return slices.Contains(d.Redact.Types, string(t)) }
	// Placeholders can be restored only in chat responses, whose generated
	// text the translate package finds part by part. Other APIs get masks.
	if d.Redact.Operator == policy.OperatorPseudonymize && ex.api.Translatable() {
		// The Pseudonymizer receives every text first, so that it can choose
		// placeholders that none of them contains.
		values := make([]string, len(parsed.Texts))
		for i, t := range parsed.Texts {
			values[i] = t.Value
		}
		ex.pseudo = phi.NewPseudonymizer(values...)
	}
	for i, t := range parsed.Texts {
		var out string
		if ex.pseudo != nil {
			out = ex.pseudo.Apply(t.Value, findings[i], selected)
		} else {
			out = phi.Mask(t.Value, findings[i], selected)
		}
		if out != t.Value {
			replacements[i] = out
		}
	}
	ex.record.RedactedTypes = d.Redact.Types
	return replacements
}

// setCredentials replaces the client's vendor credentials with the chosen
// provider's key, in the header the provider reads, unless the provider
// passes the client's through.
func (ex *exchange) setCredentials(m *extprocv3.HeaderMutation, p provider.Provider) {
	if p.Credentials.Passthrough {
		return
	}
	m.RemoveHeaders = append(m.RemoveHeaders, "authorization", "x-api-key", "api-key")
	name, prefix := p.CredentialHeader()
	m.SetHeaders = append(m.SetHeaders, setHeader(name, prefix+ex.s.opts.Keys[p.Name]))
}

func (ex *exchange) logDecision() {
	ex.s.metrics.requests.Add(context.Background(), 1, attrs("api", string(ex.api), "action", ex.record.Action, "provider", ex.record.Provider))
	types := make([]string, 0, len(ex.record.PHITypes))
	for t, n := range ex.record.PHITypes {
		types = append(types, t+"="+strconv.Itoa(n))
	}
	slices.Sort(types)
	ex.logger.Info("request decided",
		"action", ex.record.Action,
		"requested_provider", ex.record.RequestedProvider,
		"provider", ex.record.Provider,
		"phi_types", strings.Join(types, ","),
		"risk_score", ex.record.RiskScore,
		"policy_revision", ex.record.PolicyRevision,
	)
}

// deny records a denied request and returns the error response. message is
// shown to the client; auditReason, when set, is recorded instead of the
// policy's reasons. Neither may contain PHI.
func (ex *exchange) deny(ctx context.Context, status int, code, message, auditReason string) *extprocv3.ProcessingResponse {
	ex.record.Kind = audit.KindDecision
	ex.record.RequestID = ex.id
	if ex.record.API == "" {
		ex.record.API = string(ex.api)
		ex.record.Path = ex.auditPath()
		ex.record.Tenant = ex.tenant
		ex.record.Purpose = ex.purpose
		ex.record.RequestedProvider = ex.requestedProvider
	}
	ex.record.Action = policy.ActionDeny
	ex.record.Provider = ""
	ex.record.ForwardedBytes = 0
	ex.record.Status = status
	if auditReason != "" {
		ex.record.Reasons = []string{auditReason}
	} else {
		ex.record.Reasons = ex.decision.Reasons
	}
	if ex.record.PolicyRevision == "" {
		ex.record.PolicyRevision = ex.s.opts.Policy.Current().Revision()
	}
	if err := ex.s.opts.Audit.Append(ctx, &ex.record); err != nil {
		ex.s.metrics.auditErrors.Add(ctx, 1)
		ex.logger.Error("audit write failed for a denied request", "error", err)
	}
	ex.decided = true
	ex.outcomeDone = true // the deny record is the outcome
	ex.logDecision()
	return ex.immediate(status, code, message)
}

// immediate returns an error response in the client's API format.
func (ex *exchange) immediate(status int, code, message string) *extprocv3.ProcessingResponse {
	message = fmt.Sprintf("%s (request id %s)", message, ex.id)
	body := llmapi.ErrorBody(ex.api, status, code, message, ex.id)
	return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ImmediateResponse{
		ImmediateResponse: &extprocv3.ImmediateResponse{
			Status: &typev3.HttpStatus{Code: typev3.StatusCode(status)},
			Headers: &extprocv3.HeaderMutation{SetHeaders: []*corev3.HeaderValueOption{
				setHeader("content-type", "application/json"),
				setHeader(HeaderRequestID, ex.id),
				setHeader(HeaderDecision, policy.ActionDeny),
			}},
			Body:    body,
			Details: "phigate_" + code,
		},
	}}
}

// fail notes that the exchange broke off; finish records it.
func (ex *exchange) fail(reason string) {
	if ex.decided && !ex.outcomeDone {
		ex.writeOutcome(reason)
	}
}

// finish writes the outcome of a forwarded request whose response never
// completed, so that every decision record has an outcome.
func (ex *exchange) finish() {
	if ex.decided && !ex.outcomeDone {
		ex.writeOutcome("stream closed before the response completed")
	}
}

// writeOutcome appends the outcome record in the background: the response
// is already on its way, and the decision record made the request durable.
func (ex *exchange) writeOutcome(errText string) {
	if ex.outcomeDone || !ex.decided {
		return
	}
	ex.outcomeDone = true
	rec := &audit.Record{
		Kind:             audit.KindOutcome,
		RequestID:        ex.id,
		Provider:         ex.record.Provider,
		Status:           ex.status,
		ResponseBytes:    ex.responseBytes,
		InputTokens:      ex.usage.InputTokens,
		OutputTokens:     ex.usage.OutputTokens,
		CacheReadTokens:  ex.usage.CacheReadTokens,
		CacheWriteTokens: ex.usage.CacheWriteTokens,
		FirstByteMS:      float64(ex.firstByte.Microseconds()) / 1000,
		DurationMS:       float64(time.Since(ex.start).Microseconds()) / 1000,
		Error:            errText,
	}
	if ex.filter != nil && len(ex.filter.masked) > 0 {
		rec.OutputPHITypes = ex.filter.masked
	}
	ex.s.background.Add(1)
	go func() {
		defer ex.s.background.Done()
		if err := ex.s.opts.Audit.Append(context.Background(), rec); err != nil {
			ex.s.metrics.auditErrors.Add(context.Background(), 1)
			ex.logger.Error("audit write failed for a response outcome", "error", err)
		}
	}()
}

// header returns the value of the named header; Envoy sends values in
// raw_value.
func header(h *extprocv3.HttpHeaders, name string) string {
	if h.GetHeaders() == nil || name == "" {
		return ""
	}
	for _, hv := range h.Headers.Headers {
		if strings.EqualFold(hv.Key, name) {
			if len(hv.RawValue) > 0 {
				return string(hv.RawValue)
			}
			return hv.Value
		}
	}
	return ""
}

func setHeader(name, value string) *corev3.HeaderValueOption {
	return &corev3.HeaderValueOption{
		Header:       &corev3.HeaderValue{Key: name, RawValue: []byte(value)},
		AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
	}
}

// isProtectedHeader reports whether policy may not set a header: pseudo
// headers, hop-by-hop and framing headers, credentials and routing.
func isProtectedHeader(name, upstream string) bool {
	name = strings.ToLower(name)
	switch name {
	case upstream, "host", "content-length", "transfer-encoding", "connection", "authorization", "x-api-key", "api-key", HeaderRequestID, HeaderDecision:
		return true
	}
	return strings.HasPrefix(name, ":") || strings.HasPrefix(name, "x-envoy-")
}

// auditPath returns the request path as the audit log keeps it: the path
// of a recognised API, whose shape is fixed, or nothing. Other paths may
// carry identifiers, in segments or the query, that are not scanned.
//
// NOTE: the path and query of an unrecognised API are forwarded without a
// PHI scan; only the body is scanned.
func (ex *exchange) auditPath() string {
	if ex.api == llmapi.APIUnknown {
		return ""
	}
	return pathOnly(ex.path)
}

func pathOnly(p string) string {
	if i := strings.IndexByte(p, '?'); i >= 0 {
		return p[:i]
	}
	return p
}

// fingerprints returns the sorted, distinct fingerprints of the PHI values
// found in the texts of a body.
func fingerprints(fp *audit.Fingerprinter, body *llmapi.Body, findings [][]phi.Finding) []string {
	seen := map[string]bool{}
	for i, t := range body.Texts {
		for _, f := range findings[i] {
			seen[fp.Fingerprint(string(f.Type), t.Value[f.Start:f.End])] = true
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

// growStack grows the calling goroutine's stack past stackReserve bytes
// in one step, while the stack is still shallow. gRPC runs every ext_proc
// stream on a new goroutine with a small stack, and OPA's evaluator
// recurses deeply. Left to grow during evaluation, the stack is copied
// several times, and each copy walks every frame: in BenchmarkExchange
// that was about 18% of an exchange. The garbage collector shrinks the
// stack again once the goroutine no longer uses it.
//
//go:noinline
func growStack() {
	var pad [stackReserve]byte
	touchStack(pad[:])
}

// touchStack keeps the compiler from removing growStack's array.
//
//go:noinline
func touchStack(b []byte) { b[len(b)-1] = 1 }

// stackReserve is the size that removed nearly all stack growth from
// BenchmarkExchange (its share of CPU time fell from 20% to 2%); 128 KB
// gained nothing more, and 32 KB about half as much.
const stackReserve = 64 << 10
