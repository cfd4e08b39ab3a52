package standin

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// anthropicMessagesPath is the only path an Anthropic stand-in serves.
const anthropicMessagesPath = "/v1/messages"

// anthropicError is the Anthropic error body.
type anthropicError struct {
	Type      string               `json:"type"`
	Error     anthropicErrorDetail `json:"error"`
	RequestID string               `json:"request_id"`
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

// anthropicRequest is the part of a Messages request the stand-in reads.
type anthropicRequest struct {
	model    string
	messages []message
	system   string
	stream   bool
}

// serveAnthropic replies to one request as the Anthropic Messages API
// would. The checks run in this order: route, method, body size, API key,
// version header, StatusHeader, then the body fields.
func (h *Handler) serveAnthropic(w http.ResponseWriter, r *http.Request, rec Request, readErr error) {
	w.Header().Set("Request-Id", rec.ID)

	if failure := h.checkAnthropicRequest(r, rec, readErr); failure != nil {
		failure.write(w, rec.ID)
		return
	}

	req, failure := parseAnthropicRequest(rec.Body)
	if failure != nil {
		failure.write(w, rec.ID)
		return
	}

	text := replyText(h.name, req.messages)
	msg := anthropicMessage{
		ID:      newID("msg_"),
		Type:    "message",
		Role:    "assistant",
		Model:   req.model,
		Content: []anthropicBlock{{Type: "text", Text: text}},
		Usage: anthropicUsage{
			InputTokens:  promptTokens(req.messages, req.system),
			OutputTokens: estimateTokens(text),
		},
	}

	if req.stream {
		streamAnthropic(w, msg, text)
		return
	}
	endTurn := "end_turn"
	msg.StopReason = &endTurn
	writeJSON(w, http.StatusOK, msg)
}

// checkAnthropicRequest runs every check that does not need the body parsed.
func (h *Handler) checkAnthropicRequest(r *http.Request, rec Request, readErr error) *anthropicFailure {
	if rec.Path != anthropicMessagesPath {
		return &anthropicFailure{status: http.StatusNotFound, errType: "not_found_error", message: "Not Found"}
	}
	if rec.Method != http.MethodPost {
		return &anthropicFailure{
			status:  http.StatusMethodNotAllowed,
			errType: "invalid_request_error",
			message: fmt.Sprintf("Method Not Allowed: %s %s accepts only POST", rec.Method, rec.Path),
			header:  http.Header{"Allow": {http.MethodPost}},
		}
	}
	if rec.Truncated {
		return &anthropicFailure{
			status:  http.StatusRequestEntityTooLarge,
			errType: "request_too_large",
			message: fmt.Sprintf("Request exceeds the maximum allowed number of bytes (%d).", h.maxBodyBytes),
		}
	}
	if readErr != nil {
		return invalidAnthropicRequest("Failed to read the request body: %v", readErr)
	}

	if h.apiKey != "" {
		if failure := checkAnthropicKey(r.Header.Get("X-Api-Key"), h.apiKey); failure != nil {
			return failure
		}
	}
	if r.Header.Get("Anthropic-Version") == "" {
		return invalidAnthropicRequest("anthropic-version: header is required")
	}
	return anthropicTriggeredFailure(r.Header.Get(StatusHeader))
}

// checkAnthropicKey compares the x-api-key header with the expected key in
// constant time.
func checkAnthropicKey(got, want string) *anthropicFailure {
	if got == "" {
		return &anthropicFailure{status: http.StatusUnauthorized, errType: "authentication_error", message: "x-api-key header is required"}
	}
	if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return &anthropicFailure{status: http.StatusUnauthorized, errType: "authentication_error", message: "invalid x-api-key"}
	}
	return nil
}

// anthropicTriggeredFailure returns the error a test requested with
// StatusHeader, or nil when the header is absent.
func anthropicTriggeredFailure(value string) *anthropicFailure {
	switch value {
	case "":
		return nil
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
// standard retry-after in seconds and Anthropic's request rate-limit headers.
func anthropicRateLimitHeaders() http.Header {
	reset := time.Now().Add(time.Second).UTC().Format(time.RFC3339)
	return http.Header{
		"Retry-After":                            {"1"},
		"Anthropic-Ratelimit-Requests-Limit":     {"1"},
		"Anthropic-Ratelimit-Requests-Remaining": {"0"},
		"Anthropic-Ratelimit-Requests-Reset":     {reset},
	}
}

// parseAnthropicRequest validates the required fields model, messages and
// max_tokens, and reads system and stream.
//
// NOTE: the messages follow the vendor's "field: reason" form, but only
// "messages: at least one message is required" was checked against a real
// reply. The others may be worded differently by the live API.
func parseAnthropicRequest(body []byte) (anthropicRequest, *anthropicFailure) {
	var req anthropicRequest

	fields, err := decodeObject(body)
	if err != nil {
		return req, invalidAnthropicRequest("The request body is not valid JSON: %v", err)
	}

	if isNull(fields["model"]) {
		return req, invalidAnthropicRequest("model: Field required")
	}
	if json.Unmarshal(fields["model"], &req.model) != nil || req.model == "" {
		return req, invalidAnthropicRequest("model: Input should be a non-empty string")
	}

	if isNull(fields["messages"]) {
		return req, invalidAnthropicRequest("messages: Field required")
	}
	var rawMessages []json.RawMessage
	if json.Unmarshal(fields["messages"], &rawMessages) != nil {
		return req, invalidAnthropicRequest("messages: Input should be a valid list")
	}
	if len(rawMessages) == 0 {
		return req, invalidAnthropicRequest("messages: at least one message is required")
	}
	for i, raw := range rawMessages {
		var m message
		if isNull(raw) || raw[0] != '{' || json.Unmarshal(raw, &m) != nil {
			return req, invalidAnthropicRequest("messages.%d: Input should be a valid dictionary", i)
		}
		if m.Role != "user" && m.Role != "assistant" {
			return req, invalidAnthropicRequest("messages.%d.role: Input should be 'user' or 'assistant'", i)
		}
		req.messages = append(req.messages, m)
	}

	if isNull(fields["max_tokens"]) {
		return req, invalidAnthropicRequest("max_tokens: Field required")
	}
	var maxTokens int64
	if json.Unmarshal(fields["max_tokens"], &maxTokens) != nil {
		return req, invalidAnthropicRequest("max_tokens: Input should be a valid integer")
	}
	if maxTokens < 1 {
		return req, invalidAnthropicRequest("max_tokens: Input should be greater than or equal to 1")
	}

	if !isNull(fields["stream"]) && json.Unmarshal(fields["stream"], &req.stream) != nil {
		return req, invalidAnthropicRequest("stream: Input should be a valid boolean")
	}
	if !isNull(fields["system"]) {
		req.system = contentText(fields["system"])
	}
	return req, nil
}

// anthropicMessage is a Messages API message object.
type anthropicMessage struct {
	ID           string           `json:"id"`
	Type         string           `json:"type"`
	Role         string           `json:"role"`
	Model        string           `json:"model"`
	Content      []anthropicBlock `json:"content"`
	StopReason   *string          `json:"stop_reason"`
	StopSequence *string          `json:"stop_sequence"`
	Usage        anthropicUsage   `json:"usage"`
}

type anthropicBlock struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type anthropicUsage struct {
	InputTokens  int `json:"input_tokens"`
	OutputTokens int `json:"output_tokens"`
}

// The streamed events, as Anthropic's streaming guide lists them. Each
// carries its own name in "type", and the same name is sent on the "event:"
// line.
type (
	anthropicMessageStart struct {
		Type    string           `json:"type"`
		Message anthropicMessage `json:"message"`
	}
	anthropicBlockStart struct {
		Type         string         `json:"type"`
		Index        int            `json:"index"`
		ContentBlock anthropicBlock `json:"content_block"`
	}
	anthropicBlockDelta struct {
		Type  string         `json:"type"`
		Index int            `json:"index"`
		Delta anthropicBlock `json:"delta"`
	}
	anthropicBlockStop struct {
		Type  string `json:"type"`
		Index int    `json:"index"`
	}
	anthropicMessageDelta struct {
		Type  string `json:"type"`
		Delta struct {
			StopReason   *string `json:"stop_reason"`
			StopSequence *string `json:"stop_sequence"`
		} `json:"delta"`
		Usage struct {
			OutputTokens int `json:"output_tokens"`
		} `json:"usage"`
	}
	anthropicBareEvent struct {
		Type string `json:"type"`
	}
)

// streamAnthropic writes msg as the event sequence of a text reply:
// message_start (empty content, output_tokens 1), content_block_start, ping,
// one content_block_delta per few words, content_block_stop, message_delta
// with the stop reason and final output_tokens, and message_stop.
func streamAnthropic(w http.ResponseWriter, msg anthropicMessage, text string) {
	events := startEvents(w)

	start := msg
	start.Content = []anthropicBlock{}
	start.Usage.OutputTokens = 1
	events.sendJSON("message_start", anthropicMessageStart{Type: "message_start", Message: start})

	events.sendJSON("content_block_start", anthropicBlockStart{
		Type:         "content_block_start",
		ContentBlock: anthropicBlock{Type: "text", Text: ""},
	})
	events.sendJSON("ping", anthropicBareEvent{Type: "ping"})

	for _, part := range splitWords(text) {
		events.sendJSON("content_block_delta", anthropicBlockDelta{
			Type:  "content_block_delta",
			Delta: anthropicBlock{Type: "text_delta", Text: part},
		})
	}
	events.sendJSON("content_block_stop", anthropicBlockStop{Type: "content_block_stop"})

	endTurn := "end_turn"
	delta := anthropicMessageDelta{Type: "message_delta"}
	delta.Delta.StopReason = &endTurn
	delta.Usage.OutputTokens = msg.Usage.OutputTokens
	events.sendJSON("message_delta", delta)

	events.sendJSON("message_stop", anthropicBareEvent{Type: "message_stop"})
}
