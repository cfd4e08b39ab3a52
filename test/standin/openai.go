package standin

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// openAIChatPath is the only path an OpenAI stand-in serves.
const openAIChatPath = "/v1/chat/completions"

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

	detail := openAIErrorDetail{Message: f.message, Type: f.errType}
	if f.param != "" {
		detail.Param = &f.param
	}
	if f.code != "" {
		detail.Code = &f.code
	}
	writeJSON(w, f.status, openAIError{Error: detail})
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

// openAIRequest is the part of a chat completion request the stand-in reads.
type openAIRequest struct {
	model        string
	messages     []message
	stream       bool
	includeUsage bool
}

// serveOpenAI replies to one request as the OpenAI Chat Completions API
// would. The checks run in this order: route, method, body size, API key,
// StatusHeader, then the body fields.
func (h *Handler) serveOpenAI(w http.ResponseWriter, r *http.Request, rec Request, readErr error) {
	w.Header().Set("X-Request-Id", rec.ID)

	if failure := h.checkOpenAIRequest(r, rec, readErr); failure != nil {
		failure.write(w)
		return
	}

	req, failure := parseOpenAIRequest(rec.Body)
	if failure != nil {
		failure.write(w)
		return
	}

	text := replyText(h.name, req.messages)
	usage := openAIUsage{
		PromptTokens:     promptTokens(req.messages),
		CompletionTokens: estimateTokens(text),
	}
	usage.TotalTokens = usage.PromptTokens + usage.CompletionTokens

	if req.stream {
		streamOpenAI(w, req, text, usage)
		return
	}
	writeJSON(w, http.StatusOK, openAICompletion{
		ID:      newID("chatcmpl-"),
		Object:  "chat.completion",
		Created: time.Now().Unix(),
		Model:   req.model,
		Choices: []openAIChoice{{
			Index: 0,
			Message: openAIMessage{
				Role:        "assistant",
				Content:     text,
				Annotations: []any{},
			},
			FinishReason: "stop",
		}},
		Usage: usage,
	})
}

// checkOpenAIRequest runs every check that does not need the body parsed.
func (h *Handler) checkOpenAIRequest(r *http.Request, rec Request, readErr error) *openAIFailure {
	if rec.Path != openAIChatPath {
		return &openAIFailure{
			status:  http.StatusNotFound,
			errType: "invalid_request_error",
			message: fmt.Sprintf("Invalid URL (%s %s)", rec.Method, rec.Path),
		}
	}
	// NOTE: the 405 and 413 bodies keep OpenAI's error shape, but their
	// status and wording were not checked against the live API.
	if rec.Method != http.MethodPost {
		return &openAIFailure{
			status:  http.StatusMethodNotAllowed,
			header:  http.Header{"Allow": {http.MethodPost}},
			errType: "invalid_request_error",
			message: fmt.Sprintf("Invalid method for URL (%s %s): use POST", rec.Method, rec.Path),
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

	if h.apiKey != "" {
		if failure := checkOpenAIKey(r.Header.Get("Authorization"), h.apiKey); failure != nil {
			return failure
		}
	}
	return openAITriggeredFailure(r.Header.Get(StatusHeader))
}

// checkOpenAIKey compares the bearer token with the expected key in
// constant time. The message does not echo the key it was given.
func checkOpenAIKey(authorization, want string) *openAIFailure {
	const prefix = "Bearer "
	if authorization == "" {
		return &openAIFailure{
			status:  http.StatusUnauthorized,
			errType: "invalid_request_error",
			code:    "invalid_api_key",
			message: "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
		}
	}

	got := ""
	if len(authorization) > len(prefix) && authorization[:len(prefix)] == prefix {
		got = authorization[len(prefix):]
	}
	if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return &openAIFailure{
			status:  http.StatusUnauthorized,
			errType: "invalid_request_error",
			code:    "invalid_api_key",
			message: "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.",
		}
	}
	return nil
}

// openAITriggeredFailure returns the error a test requested with
// StatusHeader, or nil when the header is absent.
func openAITriggeredFailure(value string) *openAIFailure {
	if value == "" {
		return nil
	}

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
		return &openAIFailure{
			status:  http.StatusInternalServerError,
			errType: "server_error",
			message: "The server had an error while processing your request. Sorry about that!",
		}
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

// openAIRateLimitHeaders returns the headers of a rate-limited reply: the
// standard retry-after in seconds and OpenAI's x-ratelimit-* headers.
func openAIRateLimitHeaders() http.Header {
	return http.Header{
		"Retry-After":                    {"1"},
		"X-Ratelimit-Limit-Requests":     {"1"},
		"X-Ratelimit-Remaining-Requests": {"0"},
		"X-Ratelimit-Reset-Requests":     {"1s"},
	}
}

// parseOpenAIRequest validates the fields the stand-in needs: model,
// messages, stream and stream_options. The replies for invalid JSON and for
// missing or empty messages match real OpenAI error bodies. The others keep
// their shape, with wording that may differ from the live API.
func parseOpenAIRequest(body []byte) (openAIRequest, *openAIFailure) {
	var req openAIRequest

	fields, err := decodeObject(body)
	if err != nil {
		return req, invalidOpenAIRequest("", "", "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)")
	}

	if isNull(fields["model"]) {
		return req, invalidOpenAIRequest("", "", "you must provide a model parameter")
	}
	if json.Unmarshal(fields["model"], &req.model) != nil {
		return req, invalidOpenAIRequest("model", "invalid_type", "Invalid type for 'model': expected a string.")
	}
	if req.model == "" {
		return req, invalidOpenAIRequest("", "", "you must provide a model parameter")
	}

	if isNull(fields["messages"]) {
		return req, invalidOpenAIRequest("messages", "missing_required_parameter", "Missing required parameter: 'messages'.")
	}
	var rawMessages []json.RawMessage
	if json.Unmarshal(fields["messages"], &rawMessages) != nil {
		return req, invalidOpenAIRequest("messages", "invalid_type", "Invalid type for 'messages': expected an array of objects.")
	}
	if len(rawMessages) == 0 {
		return req, invalidOpenAIRequest("messages", "empty_array", "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.")
	}
	for i, raw := range rawMessages {
		m, failure := parseOpenAIMessage(i, raw)
		if failure != nil {
			return req, failure
		}
		req.messages = append(req.messages, m)
	}

	if !isNull(fields["stream"]) && json.Unmarshal(fields["stream"], &req.stream) != nil {
		return req, invalidOpenAIRequest("stream", "invalid_type", "Invalid type for 'stream': expected a boolean.")
	}
	if !isNull(fields["stream_options"]) {
		var options struct {
			IncludeUsage bool `json:"include_usage"`
		}
		if json.Unmarshal(fields["stream_options"], &options) != nil {
			return req, invalidOpenAIRequest("stream_options", "invalid_type", "Invalid type for 'stream_options': expected an object with a boolean 'include_usage'.")
		}
		req.includeUsage = options.IncludeUsage
	}
	return req, nil
}

func parseOpenAIMessage(index int, raw json.RawMessage) (message, *openAIFailure) {
	var m message
	param := fmt.Sprintf("messages[%d]", index)

	if isNull(raw) || raw[0] != '{' || json.Unmarshal(raw, &m) != nil {
		return m, invalidOpenAIRequest(param, "invalid_type", "Invalid type for '%s': expected an object.", param)
	}
	if m.Role == "" {
		return m, invalidOpenAIRequest(param+".role", "missing_required_parameter", "Missing required parameter: '%s.role'.", param)
	}
	return m, nil
}

// openAICompletion is a chat.completion object.
type openAICompletion struct {
	ID      string         `json:"id"`
	Object  string         `json:"object"`
	Created int64          `json:"created"`
	Model   string         `json:"model"`
	Choices []openAIChoice `json:"choices"`
	Usage   openAIUsage    `json:"usage"`
}

type openAIChoice struct {
	Index        int           `json:"index"`
	Message      openAIMessage `json:"message"`
	Logprobs     any           `json:"logprobs"`
	FinishReason string        `json:"finish_reason"`
}

type openAIMessage struct {
	Role        string  `json:"role"`
	Content     string  `json:"content"`
	Refusal     *string `json:"refusal"`
	Annotations []any   `json:"annotations"`
}

type openAIUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// openAIChunk is a chat.completion.chunk object. Usage is left out unless
// the client set stream_options.include_usage. Then it is null on every
// chunk but the last, as OpenAI's API spec describes that option.
type openAIChunk struct {
	ID      string              `json:"id"`
	Object  string              `json:"object"`
	Created int64               `json:"created"`
	Model   string              `json:"model"`
	Choices []openAIChunkChoice `json:"choices"`
	Usage   json.RawMessage     `json:"usage,omitempty"`
}

type openAIChunkChoice struct {
	Index        int         `json:"index"`
	Delta        openAIDelta `json:"delta"`
	Logprobs     any         `json:"logprobs"`
	FinishReason *string     `json:"finish_reason"`
}

// openAIDelta leaves out unset fields, so the final delta encodes as {}.
// Refusal is raw JSON so that the first delta can carry an explicit null.
type openAIDelta struct {
	Role    string          `json:"role,omitempty"`
	Content *string         `json:"content,omitempty"`
	Refusal json.RawMessage `json:"refusal,omitempty"`
}

// streamOpenAI writes the completion as server-sent events: a delta with
// the role, one delta per few words, an empty delta with finish_reason
// "stop", a usage chunk if requested, then "data: [DONE]".
func streamOpenAI(w http.ResponseWriter, req openAIRequest, text string, usage openAIUsage) {
	events := startEvents(w)
	base := openAIChunk{
		ID:      newID("chatcmpl-"),
		Object:  "chat.completion.chunk",
		Created: time.Now().Unix(),
		Model:   req.model,
	}
	if req.includeUsage {
		base.Usage = json.RawMessage("null")
	}

	send := func(delta openAIDelta, finishReason *string) {
		chunk := base
		chunk.Choices = []openAIChunkChoice{{Delta: delta, FinishReason: finishReason}}
		events.sendJSON("", chunk)
	}

	empty := ""
	send(openAIDelta{Role: "assistant", Content: &empty, Refusal: json.RawMessage("null")}, nil)
	for _, part := range splitWords(text) {
		send(openAIDelta{Content: &part}, nil)
	}
	stop := "stop"
	send(openAIDelta{}, &stop)

	if req.includeUsage {
		chunk := base
		chunk.Choices = []openAIChunkChoice{}
		usageJSON, err := json.Marshal(usage)
		if err != nil {
			panic(fmt.Sprintf("standin: encoding usage: %v", err))
		}
		chunk.Usage = usageJSON
		events.sendJSON("", chunk)
	}
	events.send("", []byte("[DONE]"))
}
