package llmapi

import (
	"testing"

	"github.com/phigate/phigate/provider"
)

func TestUsageFromBody(t *testing.T) {
	tests := []struct {
		name string
		body string
		want Usage
		ok   bool
	}{
		{"openai", `{"id":"x","usage":{"prompt_tokens":12,"completion_tokens":30,"total_tokens":42,"prompt_tokens_details":{"cached_tokens":4}}}`, Usage{InputTokens: 12, OutputTokens: 30, CacheReadTokens: 4}, true},
		{"anthropic", `{"type":"message","usage":{"input_tokens":20,"output_tokens":7,"cache_read_input_tokens":3,"cache_creation_input_tokens":5}}`, Usage{InputTokens: 20, OutputTokens: 7, CacheReadTokens: 3, CacheWriteTokens: 5}, true},
		{"error body", `{"error":{"message":"rate limited"}}`, Usage{}, false},
		{"not JSON", "\x1f\x8b\x08 gzip", Usage{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := UsageFromBody([]byte(tc.body))
			if ok != tc.ok || got != tc.want {
				t.Errorf("UsageFromBody = %+v, %v; want %+v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

const anthropicStream = "event: message_start\r\n" +
	`data: {"type":"message_start","message":{"id":"msg_1","usage":{"input_tokens":25,"output_tokens":1}}}` + "\r\n\r\n" +
	"event: ping\r\ndata: {\"type\": \"ping\"}\r\n\r\n" +
	"event: content_block_delta\r\n" + `data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi é"}}` + "\r\n\r\n" +
	"event: message_delta\r\n" + `data: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":15}}` + "\r\n\r\n" +
	"event: message_stop\r\ndata: {\"type\":\"message_stop\"}\r\n\r\n"

const openAIStream = `data: {"id":"c","object":"chat.completion.chunk","choices":[{"delta":{"content":"Hi"}}],"usage":null}` + "\n\n" +
	`: keep-alive` + "\n\n" +
	`data: {"id":"c","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12}}` + "\n\n" +
	"data: [DONE]\n\n"

// Every way of cutting the stream into two or three chunks gives the same
// usage, so a line split across chunks is never lost or counted twice.
func TestStreamUsageAnyChunking(t *testing.T) {
	tests := []struct {
		name   string
		format provider.Format
		stream string
		want   Usage
	}{
		{"anthropic", provider.FormatAnthropic, anthropicStream, Usage{InputTokens: 25, OutputTokens: 15}},
		{"openai", provider.FormatOpenAI, openAIStream, Usage{InputTokens: 9, OutputTokens: 3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := len(tc.stream)
			for i := 0; i <= n; i++ {
				for j := i; j <= n; j += 7 {
					s := NewStreamUsage(tc.format)
					s.Feed([]byte(tc.stream[:i]))
					s.Feed([]byte(tc.stream[i:j]))
					s.Feed([]byte(tc.stream[j:]))
					got, ok := s.Usage()
					if !ok || got != tc.want {
						t.Fatalf("split at %d and %d: usage %+v, %v; want %+v", i, j, got, ok, tc.want)
					}
				}
			}
		})
	}
}

func TestStreamUsageSkipsHugeLines(t *testing.T) {
	s := NewStreamUsage(provider.FormatOpenAI)
	huge := make([]byte, maxSSELine+10)
	for i := range huge {
		huge[i] = 'x'
	}
	s.Feed([]byte("data: "))
	s.Feed(huge)
	s.Feed([]byte("\n" + `data: {"usage":{"prompt_tokens":1,"completion_tokens":2}}` + "\n"))
	got, ok := s.Usage()
	if !ok || got.InputTokens != 1 || got.OutputTokens != 2 {
		t.Errorf("usage after a huge line = %+v, %v; want 1 and 2", got, ok)
	}
	if cap(s.partial) > maxSSELine+64 {
		t.Errorf("kept %d bytes for a skipped line", cap(s.partial))
	}
}

func FuzzStreamUsage(f *testing.F) {
	f.Add([]byte(anthropicStream), 10)
	f.Add([]byte(openAIStream), 3)
	f.Fuzz(func(t *testing.T, stream []byte, cut int) {
		whole := NewStreamUsage(provider.FormatAnthropic)
		whole.Feed(stream)
		if cut < 0 {
			cut = -cut
		}
		cut %= len(stream) + 1
		split := NewStreamUsage(provider.FormatAnthropic)
		split.Feed(stream[:cut])
		split.Feed(stream[cut:])
		a, aok := whole.Usage()
		b, bok := split.Usage()
		if a != b || aok != bok {
			t.Fatalf("whole %+v %v, split at %d %+v %v", a, aok, cut, b, bok)
		}
	})
}
