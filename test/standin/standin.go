// Package standin provides stand-in servers for the LLM vendor HTTP APIs that
// phigate routes to, for end-to-end tests and demos.
//
// A stand-in records every request it receives, so a test can read back
// exactly what a vendor was sent, and replies in the vendor's wire format:
// JSON objects, server-sent event streams and error bodies. Replies are
// deterministic except for ids and timestamps.
//
// # Kinds and endpoints
//
//   - OpenAI: POST /v1/chat/completions, POST /v1/responses, POST
//     /v1/embeddings and GET /v1/models, authenticated with
//     "Authorization: Bearer KEY".
//   - OpenAICompatible: the same endpoints, as a self-hosted server such as
//     vLLM serves them. It needs no credential unless Options.APIKey is set.
//   - AzureOpenAI: POST /openai/deployments/{deployment}/chat/completions
//     and .../embeddings with an api-version query parameter, authenticated
//     with the api-key header. Request.Deployment and Request.APIVersion
//     record both.
//   - Anthropic: POST /v1/messages and POST /v1/messages/count_tokens,
//     authenticated with x-api-key and requiring the anthropic-version
//     header.
//
// # Reply text
//
// The reply text is the server's name, " stand-in reply: ", and the text of
// the last user message, so tests can follow text through the response
// path. When the conversation ends with tool results (OpenAI "tool"
// messages, Anthropic tool_result blocks, Responses function_call_output
// items), the reply echoes the result texts instead. Streams split the text
// into deltas of three words each. When the last user text contains
// SampleRecordTrigger, the reply ends with SampleRecord, synthetic PHI that
// the request did not carry.
//
// # Tool calls
//
// When a request offers tools and its last user message contains
// "call tool NAME" or "call tool NAME with {JSON object}", the reply calls
// tool NAME with that object as its arguments ({} when none is given). The
// phrase is matched in lower case and may appear several times for parallel
// calls. An instruction is ignored when NAME is not among the offered tools
// or the JSON is not an object. A tool_choice of none suppresses every call,
// a forced tool is called even without an instruction (with {} as
// arguments), and required (OpenAI) or any (Anthropic) calls the first
// offered tool when no instruction names one. OpenAI replies carry
// message.tool_calls with finish_reason "tool_calls" and stream
// delta.tool_calls with the arguments in fragments. Anthropic replies carry
// a short text block, then one tool_use block per call, with stop_reason
// "tool_use", and stream input_json_delta fragments. Tool history is
// validated as the vendors do: an OpenAI "tool" message must respond to a
// tool_calls id of the assistant message before it, and an Anthropic
// tool_result must respond to a tool_use block of the previous turn.
//
// # Error scenarios
//
// The request header ScenarioHeader selects a failure, checked after the
// API key so a request with a wrong key still gets 401:
//
//   - rate_limit: 429 with the vendor's rate-limit error body and headers
//     (retry-after, and x-ratelimit-* for OpenAI and Azure or
//     anthropic-ratelimit-* for Anthropic).
//   - overloaded: Anthropic 529 overloaded_error. OpenAI-style kinds reply
//     503 server_error.
//   - server_error: 500 with api_error (Anthropic) or server_error (OpenAI).
//   - midstream_error: a streamed reply that sends a few text deltas, then
//     an error event (Anthropic "event: error" with overloaded_error, an
//     OpenAI chunk holding an error object, a Responses "error" event) and
//     ends without the normal end of stream. A request without "stream":
//     true gets a 400.
//
// StatusHeader is the older, status-code form of the same switch.
//
// Servers listen on loopback addresses only. Start always picks a free port
// on 127.0.0.1, and Listen rejects any address that is not a loopback IP.
package standin

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Kind selects the vendor API a stand-in reproduces.
type Kind string

// The supported vendor APIs. The values match the wire formats of phigate's
// provider registry.
const (
	OpenAI           Kind = "openai"
	Anthropic        Kind = "anthropic"
	AzureOpenAI      Kind = "azure-openai"
	OpenAICompatible Kind = "openai-compatible"
)

// Endpoint names the API operation a request was routed to.
type Endpoint string

// The endpoints a stand-in serves. A request to any other path is recorded
// with an empty Endpoint and gets the vendor's 404.
const (
	EndpointChatCompletions Endpoint = "chat.completions"
	EndpointResponses       Endpoint = "responses"
	EndpointEmbeddings      Endpoint = "embeddings"
	EndpointModels          Endpoint = "models"
	EndpointMessages        Endpoint = "messages"
	EndpointCountTokens     Endpoint = "messages.count_tokens"
)

// DefaultMaxBodyBytes is the request body limit used when
// Options.MaxBodyBytes is zero. It is 32 MiB, after the 32 MB limit on
// Anthropic's API errors page for the Messages API. The stand-in applies
// the same limit to the other kinds, whose limits it does not know.
const DefaultMaxBodyBytes = 32 << 20

// NameHeader is the response header that carries Options.Name on every
// reply, so a test can tell which stand-in replied.
const NameHeader = "X-Standin-Name"

// Options configures a stand-in.
type Options struct {
	// APIKey, when set, is the only credential accepted: OpenAI expects
	// "Authorization: Bearer <key>", Azure "api-key: <key>", Anthropic
	// "x-api-key: <key>". Requests without a matching key get the vendor's
	// 401 error body. When APIKey is empty, OpenAI, Azure and Anthropic
	// stand-ins still require the credential header, with any value, as
	// the vendors do. OpenAICompatible accepts requests without one.
	APIKey string

	// Name labels the server in replies (e.g. "openai-baa") so tests can
	// tell two servers of the same kind apart. It defaults to the Kind.
	Name string

	// Models lists the model names the stand-in serves, or the deployment
	// names for AzureOpenAI. A request for any other gets the vendor's 404.
	// Empty accepts every name. GET /v1/models lists them.
	Models []string

	// StrictRoleAlternation makes an Anthropic stand-in reject messages
	// whose roles do not alternate, or whose first message is not from
	// the user, as the Messages API did before it began merging
	// consecutive turns of the same role. Without it, consecutive turns
	// are merged, as the current API reference describes.
	StrictRoleAlternation bool

	// MaxBodyBytes is the maximum request body size in bytes. Larger bodies
	// get the vendor's 413 error. Zero means DefaultMaxBodyBytes.
	MaxBodyBytes int64

	// DisableRecording stops the handler from keeping requests, so
	// Requests always returns nil. Long-running servers that only log
	// requests through OnRequest set it to keep memory flat.
	DisableRecording bool

	// OnRequest, when set, is called once per request after the reply has
	// been written, with the recorded request and the HTTP status sent. It
	// runs on the request's goroutine, so it must be safe for concurrent use.
	OnRequest func(req Request, status int)
}

// Request is a copy of one request as the stand-in received it.
type Request struct {
	// ID is the request id the stand-in sent back: in the x-request-id
	// header for OpenAI-style kinds, and in the request-id header and error
	// bodies for Anthropic.
	ID       string
	Method   string
	Path     string
	RawQuery string
	Header   http.Header
	// Endpoint is the operation the path names, or "" for an unknown path.
	Endpoint Endpoint
	// Deployment and APIVersion are the Azure deployment from the path and
	// the api-version query parameter. Both are empty for other kinds.
	Deployment string
	APIVersion string
	// Body is the full request body, or its first MaxBodyBytes bytes when
	// Truncated is true.
	Body      []byte
	Truncated bool
	Received  time.Time
}

func (r Request) clone() Request {
	r.Header = r.Header.Clone()
	r.Body = bytes.Clone(r.Body)
	return r
}

// Handler is an http.Handler that records requests and replies to them as
// one vendor API. It is safe for concurrent use.
type Handler struct {
	kind         Kind
	name         string
	apiKey       string
	models       []string
	strictRoles  bool
	maxBodyBytes int64
	discard      bool
	onRequest    func(Request, int)

	mu       sync.Mutex
	requests []Request
}

// NewHandler returns a Handler for kind. It panics if kind is not one of
// the Kind constants, because that is a programming error in the test. Use
// Start or Listen to get an error instead.
func NewHandler(kind Kind, opts Options) *Handler {
	if err := checkKind(kind); err != nil {
		panic(err)
	}

	name := opts.Name
	if name == "" {
		name = string(kind)
	}
	maxBodyBytes := opts.MaxBodyBytes
	if maxBodyBytes <= 0 {
		maxBodyBytes = DefaultMaxBodyBytes
	}

	return &Handler{
		kind:         kind,
		name:         name,
		apiKey:       opts.APIKey,
		models:       slices.Clone(opts.Models),
		strictRoles:  opts.StrictRoleAlternation,
		maxBodyBytes: maxBodyBytes,
		discard:      opts.DisableRecording,
		onRequest:    opts.OnRequest,
	}
}

func checkKind(kind Kind) error {
	switch kind {
	case OpenAI, Anthropic, AzureOpenAI, OpenAICompatible:
		return nil
	}
	return fmt.Errorf("invalid stand-in kind %q: use %q, %q, %q or %q", kind, OpenAI, Anthropic, AzureOpenAI, OpenAICompatible)
}

// Kind returns the vendor API the handler reproduces.
func (h *Handler) Kind() Kind { return h.kind }

// Name returns the label used in replies.
func (h *Handler) Name() string { return h.name }

// Requests returns copies of all recorded requests in arrival order.
func (h *Handler) Requests() []Request {
	h.mu.Lock()
	defer h.mu.Unlock()

	if len(h.requests) == 0 {
		return nil
	}
	out := make([]Request, len(h.requests))
	for i, r := range h.requests {
		out[i] = r.clone()
	}
	return out
}

// Reset deletes all recorded requests.
func (h *Handler) Reset() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.requests = nil
}

// ServeHTTP records the request, then replies to it as the vendor would.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec, readErr := h.record(r)

	status := &statusWriter{ResponseWriter: w}
	status.Header().Set(NameHeader, h.name)

	switch h.kind {
	case OpenAI, OpenAICompatible:
		h.serveOpenAI(status, r, rec, readErr)
	case AzureOpenAI:
		h.serveAzure(status, r, rec, readErr)
	case Anthropic:
		h.serveAnthropic(status, r, rec, readErr)
	}

	if h.onRequest != nil {
		h.onRequest(rec.clone(), status.code())
	}
}

// record reads the body up to the limit, routes the path and stores the
// request. It returns the read error, if any, so the vendor code can reply
// in its own shape.
func (h *Handler) record(r *http.Request) (Request, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, h.maxBodyBytes+1))
	truncated := int64(len(body)) > h.maxBodyBytes
	if truncated {
		body = body[:h.maxBodyBytes]
	}

	rec := Request{
		ID:        newID("req_"),
		Method:    r.Method,
		Path:      r.URL.Path,
		RawQuery:  r.URL.RawQuery,
		Header:    r.Header.Clone(),
		Body:      body,
		Truncated: truncated,
		Received:  time.Now(),
	}
	switch h.kind {
	case OpenAI, OpenAICompatible:
		rec.Endpoint = openAIEndpoint(rec.Path)
	case AzureOpenAI:
		rec.Endpoint, rec.Deployment = azureEndpoint(rec.Path)
		rec.APIVersion = r.URL.Query().Get("api-version")
	case Anthropic:
		rec.Endpoint = anthropicEndpoint(rec.Path)
	}

	if !h.discard {
		h.mu.Lock()
		h.requests = append(h.requests, rec.clone())
		h.mu.Unlock()
	}
	return rec, err
}

// servesModel reports whether name is one of Options.Models, or whether
// Options.Models is empty.
func (h *Handler) servesModel(name string) bool {
	return len(h.models) == 0 || slices.Contains(h.models, name)
}

// statusWriter remembers the status code of the reply for OnRequest. Unwrap
// lets http.ResponseController reach the underlying writer to flush streams.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (s *statusWriter) code() int {
	if s.status == 0 {
		return http.StatusOK
	}
	return s.status
}

// Server is a running stand-in.
type Server struct {
	*Handler

	listener net.Listener
	server   *http.Server
	done     chan struct{}
	serveErr error
}

// Start listens on 127.0.0.1 with a free port (never any other interface)
// and serves in the background until Close or Shutdown.
func Start(kind Kind, opts Options) (*Server, error) {
	return Listen("127.0.0.1:0", kind, opts)
}

// Listen is Start on a given address, which must be a loopback IP and a
// port, such as "127.0.0.1:18081". Port 0 picks a free port.
func Listen(addr string, kind Kind, opts Options) (*Server, error) {
	if err := checkKind(kind); err != nil {
		return nil, err
	}
	if err := CheckLoopback(addr); err != nil {
		return nil, err
	}

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", addr, err)
	}
	return Serve(ln, kind, opts), nil
}

// Serve serves a stand-in on ln in the background. Unlike Listen, it does
// not check the address, because the caller created the listener.
func Serve(ln net.Listener, kind Kind, opts Options) *Server {
	s := &Server{
		Handler:  NewHandler(kind, opts),
		listener: ln,
		done:     make(chan struct{}),
	}
	s.server = &http.Server{
		Handler:           s.Handler,
		ReadHeaderTimeout: 10 * time.Second,
	}

	go func() {
		defer close(s.done)
		err := s.server.Serve(ln)
		if !errors.Is(err, http.ErrServerClosed) {
			s.serveErr = err
		}
	}()
	return s
}

// CheckLoopback returns an error unless addr is "host:port" with a loopback
// IP literal as host. Host names are rejected, even "localhost", because
// they may resolve to other interfaces.
func CheckLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("invalid listen address %q: %w", addr, err)
	}

	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("invalid listen address %q: the host must be a loopback IP such as 127.0.0.1", addr)
	}
	return nil
}

// Addr returns the listen address as "127.0.0.1:PORT".
func (s *Server) Addr() string { return s.listener.Addr().String() }

// URL returns the base URL, "http://127.0.0.1:PORT".
func (s *Server) URL() string { return "http://" + s.Addr() }

// Close stops the server at once, cutting off open streams. It returns the
// error that stopped the serve loop, if that was not a call to Close.
func (s *Server) Close() error {
	err := s.server.Close()
	<-s.done
	return errors.Join(err, s.serveErr)
}

// Shutdown stops accepting connections and waits for replies in progress to
// finish, or for ctx to end.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.server.Shutdown(ctx)
	if err != nil {
		return fmt.Errorf("shutting down %s stand-in: %w", s.name, err)
	}
	<-s.done
	return s.serveErr
}

// newID returns prefix followed by 26 random base32 characters. Ids are the
// only random part of a reply, and reply texts are deterministic.
func newID(prefix string) string {
	return prefix + rand.Text()
}
