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
	APIOpenAIChat        API = "openai.chat_completions"
	APIAnthropicMessages API = "anthropic.messages"
	APIUnknown           API = "unknown"
)

// Detect returns the API that a request path belongs to. The query string,
// if any, is ignored. Both the usual "/v1/..." paths and the bare paths that
// some SDK base URLs produce are accepted.
func Detect(path string) API {
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	path = strings.TrimSuffix(path, "/")
	switch path {
	case "/v1/chat/completions", "/chat/completions":
		return APIOpenAIChat
	case "/v1/messages", "/messages":
		return APIAnthropicMessages
	}
	return APIUnknown
}

// Format returns the wire format the API belongs to. APIUnknown is treated
// as OpenAI format because most OpenAI-compatible servers share its paths
// and error shape.
func (a API) Format() provider.Format {
	if a == APIAnthropicMessages {
		return provider.FormatAnthropic
	}
	return provider.FormatOpenAI
}
