package standin

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"time"
)

// The paths an Anthropic stand-in serves.
const (
	anthropicMessagesPath    = "/v1/messages"
	anthropicCountTokensPath = "/v1/messages/count_tokens"
)

func anthropicEndpoint(path string) Endpoint {
	switch path {
	case anthropicMessagesPath:
		return EndpointMessages
	case anthropicCountTokensPath:
		return EndpointCountTokens
	}
	return ""
}

// anthropicError is the Anthropic error body, also sent as the data of a
// streamed "error" event, where request_id is left out.
type anthropicError struct {
	Type      string               `json:"type"`
	Error     anthropicErrorDetail `json:"error"`
	RequestID string               `json:"request_id,omitempty"`
}

type anthropicErrorDetail struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

// anthropicFailure is a rejected request: the status, the error type and
// message, and any extra reply headers.
type anthropicFailure struct {
	status  int
	errType string
	message string
	header  http.Header
}

func (f *anthropicFailure) write(w http.ResponseWriter, requestID string) {
	for name, values := range f.header {
		w.Header()[name] = values
	}
	writeJSON(w, f.status, anthropicError{
		Type:      "error",
		Error:     anthropicErrorDetail{Type: f.errType, Message: f.message},
		RequestID: requestID,
	})
}

func invalidAnthropicRequest(format string, args ...any) *anthropicFailure {
	return &anthropicFailure{
		status:  http.StatusBadRequest,
		errType: "invalid_request_error",
		message: fmt.Sprintf(format, args...),
	}
}

// serveAnthropic replies to one request as the Anthropic API would. The
// checks run in this order: route, method, body size, API key, version
// header, StatusHeader, ScenarioHeader, then the body fields.
func (h *Handler) serveAnthropic(w http.ResponseWriter, r *http.Request, rec Request, readErr error) {
	w.Header().Set("Request-Id", rec.ID)

	scenario, failure := h.checkAnthropicRequest(r, rec, readErr)
	if failure != nil {
		failure.write(w, rec.ID)
		return
	}

	req, failure := h.parseAnthropicRequest(rec.Body, rec.Endpoint == EndpointCountTokens)
	if failure == nil && !h.servesModel(req.model) {
		failure = &anthropicFailure{status: http.StatusNotFound, errType: "not_found_error", message: "model: " + req.model}
	}
	if failure == nil && scenario == ScenarioMidstreamError && !req.stream {
		failure = invalidAnthropicRequest("%s", midstreamWithoutStream)
	}
	if failure != nil {
		failure.write(w, rec.ID)
		return
	}

	if rec.Endpoint == EndpointCountTokens {
		writeJSON(w, http.StatusOK, struct {
			InputTokens int `json:"input_tokens"`
		}{anthropicInputTokens(req)})
		return
	}
	h.replyAnthropicMessage(w, req, scenario == ScenarioMidstreamError)
}

// checkAnthropicRequest runs every check that does not need the body
// parsed. It returns the scenario when a failure comes later
// (midstream_error) or none was requested.
func (h *Handler) checkAnthropicRequest(r *http.Request, rec Request, readErr error) (Scenario, *anthropicFailure) {
	if rec.Endpoint == "" {
		return "", &anthropicFailure{status: http.StatusNotFound, errType: "not_found_error", message: "Not Found"}
	}
	if rec.Method != http.MethodPost {
		return "", &anthropicFailure{
			status:  http.StatusMethodNotAllowed,
			errType: "invalid_request_error",
			message: fmt.Sprintf("Method Not Allowed: %s %s accepts only POST", rec.Method, rec.Path),
			header:  http.Header{"Allow": {http.MethodPost}},
		}
	}
	if rec.Truncated {
		return "", &anthropicFailure{
			status:  http.StatusRequestEntityTooLarge,
			errType: "request_too_large",
			message: fmt.Sprintf("Request exceeds the maximum allowed number of bytes (%d).", h.maxBodyBytes),
		}
	}
	if readErr != nil {
		return "", invalidAnthropicRequest("Failed to read the request body: %v", readErr)
	}

	if failure := checkAnthropicKey(r.Header.Get("X-Api-Key"), h.apiKey); failure != nil {
		return "", failure
	}
	if r.Header.Get("Anthropic-Version") == "" {
		return "", invalidAnthropicRequest("anthropic-version: header is required")
	}

	if value := r.Header.Get(StatusHeader); value != "" {
		return "", anthropicStatusFailure(value)
	}
	scenario, invalid := readScenario(r)
	if invalid != "" {
		return "", invalidAnthropicRequest("%s", invalid)
	}
	switch scenario {
	case ScenarioRateLimit:
		return "", anthropicStatusFailure("429")
	case ScenarioOverloaded:
		return "", anthropicStatusFailure("529")
	case ScenarioServerError:
		return "", anthropicStatusFailure("500")
	}
	return scenario, nil
}

// checkAnthropicKey requires an x-api-key header and, when want is set,
// compares it with want in constant time.
func checkAnthropicKey(got, want string) *anthropicFailure {
	if got == "" {
		return &anthropicFailure{status: http.StatusUnauthorized, errType: "authentication_error", message: "x-api-key header is required"}
	}
	if want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return &anthropicFailure{status: http.StatusUnauthorized, errType: "authentication_error", message: "invalid x-api-key"}
	}
	return nil
}

// anthropicStatusFailure returns the error for a StatusHeader value.
func anthropicStatusFailure(value string) *anthropicFailure {
	switch value {
	case "429":
		return &anthropicFailure{
			status:  http.StatusTooManyRequests,
			errType: "rate_limit_error",
			message: "Number of requests has exceeded your per-minute rate limit. Please try again in 1s.",
			header:  anthropicRateLimitHeaders(),
		}
	case "500", "503":
		status := http.StatusInternalServerError
		if value == "503" {
			status = http.StatusServiceUnavailable
		}
		return &anthropicFailure{status: status, errType: "api_error", message: "Internal server error"}
	case "529":
		return &anthropicFailure{status: 529, errType: "overloaded_error", message: "Overloaded"}
	}
	return invalidAnthropicRequest("Unsupported %s value %q: use 429, 500, 503 or 529.", StatusHeader, value)
}

// anthropicRateLimitHeaders returns the headers of a rate-limited reply: the
// standard retry-after in seconds and Anthropic's rate-limit headers for
// requests, tokens, input tokens and output tokens, with resets as RFC 3339
// times.
func anthropicRateLimitHeaders() http.Header {
	reset := time.Now().Add(time.Second).UTC().Format(time.RFC3339)
	return http.Header{
		"Retry-After":                                 {"1"},
		"Anthropic-Ratelimit-Requests-Limit":          {"1"},
		"Anthropic-Ratelimit-Requests-Remaining":      {"0"},
		"Anthropic-Ratelimit-Requests-Reset":          {reset},
		"Anthropic-Ratelimit-Tokens-Limit":            {"10000"},
		"Anthropic-Ratelimit-Tokens-Remaining":        {"10000"},
		"Anthropic-Ratelimit-Tokens-Reset":            {reset},
		"Anthropic-Ratelimit-Input-Tokens-Limit":      {"8000"},
		"Anthropic-Ratelimit-Input-Tokens-Remaining":  {"8000"},
		"Anthropic-Ratelimit-Input-Tokens-Reset":      {reset},
		"Anthropic-Ratelimit-Output-Tokens-Limit":     {"2000"},
		"Anthropic-Ratelimit-Output-Tokens-Remaining": {"2000"},
		"Anthropic-Ratelimit-Output-Tokens-Reset":     {reset},
	}
}
