package standin

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// The paths an OpenAI or OpenAI-compatible stand-in serves.
const (
	openAIChatPath       = "/v1/chat/completions"
	openAIResponsesPath  = "/v1/responses"
	openAIEmbeddingsPath = "/v1/embeddings"
	openAIModelsPath     = "/v1/models"
)

func openAIEndpoint(path string) Endpoint {
	switch path {
	case openAIChatPath:
		return EndpointChatCompletions
	case openAIResponsesPath:
		return EndpointResponses
	case openAIEmbeddingsPath:
		return EndpointEmbeddings
	case openAIModelsPath:
		return EndpointModels
	}
	return ""
}

// endpointMethod returns the only method an endpoint accepts.
func endpointMethod(e Endpoint) string {
	if e == EndpointModels {
		return http.MethodGet
	}
	return http.MethodPost
}

// openAIError is the OpenAI error body. Param and Code are null when unset.
type openAIError struct {
	Error openAIErrorDetail `json:"error"`
}

type openAIErrorDetail struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

// openAIFailure is a rejected request: the status and the error body fields.
type openAIFailure struct {
	status  int
	errType string
	param   string
	code    string
	message string
	header  http.Header
}

func (f *openAIFailure) write(w http.ResponseWriter) {
	for name, values := range f.header {
		w.Header()[name] = values
	}
	writeJSON(w, f.status, openAIError{Error: f.detail()})
}

func (f *openAIFailure) detail() openAIErrorDetail {
	detail := openAIErrorDetail{Message: f.message, Type: f.errType}
	if f.param != "" {
		detail.Param = &f.param
	}
	if f.code != "" {
		detail.Code = &f.code
	}
	return detail
}

func invalidOpenAIRequest(param, code, format string, args ...any) *openAIFailure {
	return &openAIFailure{
		status:  http.StatusBadRequest,
		errType: "invalid_request_error",
		param:   param,
		code:    code,
		message: fmt.Sprintf(format, args...),
	}
}

// modelNotFound is OpenAI's reply for a model the account cannot use.
func modelNotFound(model string) *openAIFailure {
	return &openAIFailure{
		status:  http.StatusNotFound,
		errType: "invalid_request_error",
		code:    "model_not_found",
		message: fmt.Sprintf("The model `%s` does not exist or you do not have access to it.", model),
	}
}

// serveOpenAI replies to one request as the OpenAI API would. The checks
// run in this order: route, method, body size, API key, StatusHeader,
// ScenarioHeader, then the body fields.
func (h *Handler) serveOpenAI(w http.ResponseWriter, r *http.Request, rec Request, readErr error) {
	w.Header().Set("X-Request-Id", rec.ID)

	if failure := h.checkOpenAIRoute(rec, readErr); failure != nil {
		failure.write(w)
		return
	}
	if failure := h.checkOpenAIKey(r); failure != nil {
		failure.write(w)
		return
	}
	scenario, failure := openAIRequestedFailure(r)
	if failure != nil {
		failure.write(w)
		return
	}

	switch rec.Endpoint {
	case EndpointChatCompletions:
		h.serveOpenAIChat(w, rec, scenario, nil)
	case EndpointResponses:
		h.serveOpenAIResponse(w, rec, scenario)
	case EndpointEmbeddings:
		h.serveOpenAIEmbeddings(w, rec, scenario, nil)
	case EndpointModels:
		h.serveOpenAIModels(w)
	}
}

// checkOpenAIRoute checks the path, method and body read.
func (h *Handler) checkOpenAIRoute(rec Request, readErr error) *openAIFailure {
	if rec.Endpoint == "" {
		return &openAIFailure{
			status:  http.StatusNotFound,
			errType: "invalid_request_error",
			message: fmt.Sprintf("Invalid URL (%s %s)", rec.Method, rec.Path),
		}
	}
	// NOTE: the 405 and 413 bodies keep OpenAI's error shape, but their
	// status and wording were not checked against the live API.
	if method := endpointMethod(rec.Endpoint); rec.Method != method {
		return &openAIFailure{
			status:  http.StatusMethodNotAllowed,
			header:  http.Header{"Allow": {method}},
			errType: "invalid_request_error",
			message: fmt.Sprintf("Invalid method for URL (%s %s): use %s", rec.Method, rec.Path, method),
		}
	}
	if rec.Truncated {
		return &openAIFailure{
			status:  http.StatusRequestEntityTooLarge,
			errType: "invalid_request_error",
			code:    "request_too_large",
			message: fmt.Sprintf("Request body too large: the limit is %d bytes.", h.maxBodyBytes),
		}
	}
	if readErr != nil {
		return invalidOpenAIRequest("", "", "Failed to read the request body: %v", readErr)
	}
	return nil
}

// checkOpenAIKey checks the bearer token. OpenAI requires one on every
// request. An OpenAI-compatible stand-in requires one only when it has a
// key. Keys are compared in constant time, and no message echoes the key
// it was given.
func (h *Handler) checkOpenAIKey(r *http.Request) *openAIFailure {
	if h.kind == OpenAICompatible && h.apiKey == "" {
		return nil
	}

	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || strings.TrimSpace(token) == "" {
		return &openAIFailure{
			status:  http.StatusUnauthorized,
			errType: "invalid_request_error",
			code:    "invalid_api_key",
			message: "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
		}
	}
	if h.apiKey != "" && subtle.ConstantTimeCompare([]byte(token), []byte(h.apiKey)) != 1 {
		return &openAIFailure{
			status:  http.StatusUnauthorized,
			errType: "invalid_request_error",
			code:    "invalid_api_key",
			message: "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.",
		}
	}
	return nil
}

// openAIRequestedFailure returns the error a test requested with
// StatusHeader or ScenarioHeader. It returns the scenario instead when the
// failure happens later (midstream_error) or when none was requested.
func openAIRequestedFailure(r *http.Request) (Scenario, *openAIFailure) {
	if value := r.Header.Get(StatusHeader); value != "" {
		return "", openAIStatusFailure(value)
	}

	scenario, invalid := readScenario(r)
	if invalid != "" {
		return "", invalidOpenAIRequest("", "", "%s", invalid)
	}
	switch scenario {
	case ScenarioRateLimit:
		return "", openAIStatusFailure("429")
	case ScenarioOverloaded:
		return "", openAIStatusFailure("503")
	case ScenarioServerError:
		return "", openAIStatusFailure("500")
	}
	return scenario, nil
}

// openAIStatusFailure returns the error for a StatusHeader value.
func openAIStatusFailure(value string) *openAIFailure {
	switch value {
	case "429":
		return &openAIFailure{
			status:  http.StatusTooManyRequests,
			header:  openAIRateLimitHeaders(),
			errType: "requests",
			code:    "rate_limit_exceeded",
			message: "Rate limit reached for requests per min (RPM): Limit 1, Used 1, Requested 1. Please try again in 1s.",
		}
	case "500":
		return openAIServerError()
	case "503", "529":
		status, _ := strconv.Atoi(value)
		return &openAIFailure{
			status:  status,
			errType: "server_error",
			message: "The engine is currently overloaded, please try again later.",
		}
	}
	return invalidOpenAIRequest("", "", "Unsupported %s value %q: use 429, 500, 503 or 529.", StatusHeader, value)
}

func openAIServerError() *openAIFailure {
	return &openAIFailure{
		status:  http.StatusInternalServerError,
		errType: "server_error",
		message: "The server had an error while processing your request. Sorry about that!",
	}
}

// openAIRateLimitHeaders returns the headers of a rate-limited reply: the
// standard retry-after in seconds and OpenAI's x-ratelimit-* headers for
// requests and tokens, with resets as durations.
func openAIRateLimitHeaders() http.Header {
	return http.Header{
		"Retry-After":                    {"1"},
		"X-Ratelimit-Limit-Requests":     {"1"},
		"X-Ratelimit-Remaining-Requests": {"0"},
		"X-Ratelimit-Reset-Requests":     {"1s"},
		"X-Ratelimit-Limit-Tokens":       {"10000"},
		"X-Ratelimit-Remaining-Tokens":   {"10000"},
		"X-Ratelimit-Reset-Tokens":       {"0s"},
	}
}
