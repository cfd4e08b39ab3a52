package translate

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/phigate/phigate/provider"
)

// BenchmarkRequest measures translating a chat request with tools and
// history from OpenAI to Anthropic format.
func BenchmarkRequest(b *testing.B) {
	body, err := os.ReadFile(filepath.Join("testdata", "request", "openai_to_anthropic", "tools_history.json"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Request(provider.FormatOpenAI, provider.FormatAnthropic, body, RequestOptions{Model: "claude-sonnet-4-5"}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStream measures translating a recorded Anthropic text stream to
// OpenAI chunks, fed in 64-byte pieces as a network might deliver it.
func BenchmarkStream(b *testing.B) {
	stream, err := os.ReadFile(filepath.Join("testdata", "stream", "anthropic_to_openai", "text.sse"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	for b.Loop() {
		s := NewStream(provider.FormatAnthropic, provider.FormatOpenAI, nil)
		for i := 0; i < len(stream); i += 64 {
			if _, err := s.Write(stream[i:min(i+64, len(stream))]); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := s.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
