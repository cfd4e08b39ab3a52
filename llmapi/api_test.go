package llmapi

import (
	"testing"

	"github.com/phigate/phigate/provider"
)

func TestDetect(t *testing.T) {
	tests := []struct {
		name string
		path string
		want API
	}{
		{name: "openai v1", path: "/v1/chat/completions", want: APIOpenAIChat},
		{name: "openai bare", path: "/chat/completions", want: APIOpenAIChat},
		{name: "openai trailing slash", path: "/v1/chat/completions/", want: APIOpenAIChat},
		{name: "openai query", path: "/v1/chat/completions?api-version=2024-06-01", want: APIOpenAIChat},
		{name: "anthropic v1", path: "/v1/messages", want: APIAnthropicMessages},
		{name: "anthropic bare", path: "/messages", want: APIAnthropicMessages},
		{name: "anthropic query and slash", path: "/v1/messages/?beta=true", want: APIAnthropicMessages},
		{name: "anthropic count tokens", path: "/v1/messages/count_tokens", want: APIAnthropicCountTokens},
		{name: "openai completions", path: "/v1/completions", want: APIUnknown},
		{name: "openai responses", path: "/v1/responses", want: APIOpenAIResponses},
		{name: "openai embeddings", path: "/v1/embeddings", want: APIOpenAIEmbeddings},
		{name: "azure chat", path: "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21", want: APIOpenAIChat},
		{name: "azure embeddings", path: "/openai/deployments/embed/embeddings", want: APIOpenAIEmbeddings},
		{name: "azure without operation", path: "/openai/deployments/gpt-4o", want: APIUnknown},
		{name: "v1 prefix glued", path: "/v1chat/completions", want: APIUnknown},
		{name: "prefix only", path: "/v1/chat", want: APIUnknown},
		{name: "case differs", path: "/V1/Messages", want: APIUnknown},
		{name: "root", path: "/", want: APIUnknown},
		{name: "empty", path: "", want: APIUnknown},
		{name: "query only", path: "?/v1/messages", want: APIUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Detect(tt.path); got != tt.want {
				t.Errorf("Detect(%q) = %q, want %q", tt.path, got, tt.want)
			}
		})
	}
}

func TestAPIFormat(t *testing.T) {
	tests := []struct {
		name string
		api  API
		want provider.Format
	}{
		{name: "openai", api: APIOpenAIChat, want: provider.FormatOpenAI},
		{name: "anthropic", api: APIAnthropicMessages, want: provider.FormatAnthropic},
		{name: "count tokens", api: APIAnthropicCountTokens, want: provider.FormatAnthropic},
		{name: "responses", api: APIOpenAIResponses, want: provider.FormatOpenAI},
		{name: "embeddings", api: APIOpenAIEmbeddings, want: provider.FormatOpenAI},
		{name: "unknown", api: APIUnknown, want: provider.FormatOpenAI},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.api.Format(); got != tt.want {
				t.Errorf("%q.Format() = %q, want %q", tt.api, got, tt.want)
			}
		})
	}
}
