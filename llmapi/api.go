// Package llmapi describes the LLM vendor APIs phigate sits in front of: which
// API a request path belongs to, where in a request body the texts a vendor
// reads are, how to rewrite those texts without disturbing the rest of the
// body, and how each API words its errors.
package llmapi

import (
	"strings"

	"github.com/phigate/phigate/provider"
)

// API identifies a vendor API endpoint.
type API string

// The APIs phigate recognises. Requests to any other path are APIUnknown:
// their bodies are still scanned, as JSON when they parse and as text when
// they do not.
const (
	APIOpenAIChat           API = "openai.chat_completions"
	APIOpenAIResponses      API = "openai.responses"
	APIOpenAIEmbeddings     API = "openai.embeddings"
	APIAnthropicMessages    API = "anthropic.messages"
	APIAnthropicCountTokens API = "anthropic.count_tokens"
	APIUnknown              API = "unknown"
)

// Detect returns the API that a request path belongs to. The query string,
// if any, is ignored. The usual "/v1/..." paths, the bare paths that some
// SDK base URLs produce, and Azure OpenAI's deployment paths
// ("/openai/deployments/NAME/chat/completions") are accepted.
func Detect(path string) API {
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	path = strings.TrimSuffix(path, "/")
	if rest, ok := strings.CutPrefix(path, "/openai/deployments/"); ok {
		// Azure OpenAI: the deployment name is one path segment.
		if _, op, ok := strings.Cut(rest, "/"); ok {
			path = "/" + op
		}
	}
	switch strings.TrimPrefix(path, "/v1") {
	case "/chat/completions":
		return APIOpenAIChat
	case "/responses":
		return APIOpenAIResponses
	case "/embeddings":
		return APIOpenAIEmbeddings
	case "/messages":
		return APIAnthropicMessages
	case "/messages/count_tokens":
		return APIAnthropicCountTokens
	}
	return APIUnknown
}

// Format returns the wire format the API belongs to. APIUnknown is treated
// as OpenAI format because most OpenAI-compatible servers share its paths
// and error shape.
func (a API) Format() provider.Format {
	if a == APIAnthropicMessages || a == APIAnthropicCountTokens {
		return provider.FormatAnthropic
	}
	return provider.FormatOpenAI
}

// Translatable reports whether requests to the API can be translated to
// the other wire format. Only chat requests can: the other endpoints have
// no counterpart with the same meaning at the other vendor.
func (a API) Translatable() bool {
	return a == APIOpenAIChat || a == APIAnthropicMessages
}

// ChatAPI returns the chat API of a wire format.
func ChatAPI(f provider.Format) API {
	if f == provider.FormatAnthropic {
		return APIAnthropicMessages
	}
	return APIOpenAIChat
}

// Path returns the path of the API below a provider's base path, such as
// "/v1/chat/completions", or "" for APIUnknown.
func (a API) Path() string {
	switch a {
	case APIOpenAIChat:
		return "/v1/chat/completions"
	case APIOpenAIResponses:
		return "/v1/responses"
	case APIOpenAIEmbeddings:
		return "/v1/embeddings"
	case APIAnthropicMessages:
		return "/v1/messages"
	case APIAnthropicCountTokens:
		return "/v1/messages/count_tokens"
	}
	return ""
}
