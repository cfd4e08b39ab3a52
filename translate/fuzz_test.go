package translate

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/phigate/phigate/provider"
)

// addSeeds adds every testdata file matching pattern to the corpus.
func addSeeds(f *testing.F, pattern string, add func(data []byte)) {
	files, err := filepath.Glob(filepath.Join("testdata", pattern))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed files match %s", pattern)
	}
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		add(data)
	}
}

// FuzzSSEDecoder checks that the decoder keeps every byte, in order, and
// dispatches the same events however the input is split.
func FuzzSSEDecoder(f *testing.F) {
	addSeeds(f, "stream/*/*.sse", func(data []byte) { f.Add(data, uint16(7)) })
	f.Add([]byte("data: a\r\rdata: b\r\n\r\n: c\n\n"), uint16(9))
	f.Fuzz(func(t *testing.T, input []byte, split uint16) {
		decode := func(chunks ...[]byte) (events []string, kept []byte) {
			var d sseDecoder
			for _, chunk := range chunks {
				err := d.feed(chunk, func(ev *sseEvent) error {
					events = append(events, ev.name+"\x00"+string(ev.data))
					kept = append(kept, ev.raw...)
					return nil
				})
				if err != nil {
					t.Skip() // an oversize event
				}
			}
			kept = append(kept, d.raw...)
			return events, kept
		}
		at := 0
		if len(input) > 0 {
			at = int(split) % (len(input) + 1)
		}
		whole, kept := decode(input)
		parts, _ := decode(input[:at], input[at:])
		if !bytes.Equal(kept, input) {
			t.Fatalf("decoder lost bytes: kept %q of %q", kept, input)
		}
		if len(whole) != len(parts) {
			t.Fatalf("split at %d gives %d events, one chunk %d", at, len(parts), len(whole))
		}
		for i := range whole {
			if whole[i] != parts[i] {
				t.Fatalf("event %d differs with split at %d: %q vs %q", i, at, parts[i], whole[i])
			}
		}
	})
}

func fuzzRequest(f *testing.F, from, to provider.Format, pattern string) {
	addSeeds(f, pattern, func(data []byte) { f.Add(data) })
	f.Fuzz(func(t *testing.T, body []byte) {
		out, err := Request(from, to, body, RequestOptions{})
		if err != nil {
			var unsupported *UnsupportedError
			if !errors.As(err, &unsupported) && !errors.Is(err, ErrInvalidBody) {
				t.Fatalf("error of an unexpected kind: %v", err)
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("output is not valid JSON: %s", out)
		}
		if _, err := Request(to, from, out, RequestOptions{}); err != nil && !errors.Is(err, ErrInvalidBody) {
			var unsupported *UnsupportedError
			if !errors.As(err, &unsupported) {
				t.Fatalf("translating back: %v", err)
			}
		}
	})
}

func FuzzRequestOpenAIToAnthropic(f *testing.F) {
	fuzzRequest(f, provider.FormatOpenAI, provider.FormatAnthropic, "request/openai_to_anthropic/*.json")
}

func FuzzRequestAnthropicToOpenAI(f *testing.F) {
	fuzzRequest(f, provider.FormatAnthropic, provider.FormatOpenAI, "request/anthropic_to_openai/*.json")
}

// FuzzResponse translates arbitrary bodies in every direction; a success
// must be valid JSON, and a same-format result without a filter change
// must equal the input.
func FuzzResponse(f *testing.F) {
	addSeeds(f, "response/*/*.json", func(data []byte) {
		for dir := range uint8(4) {
			f.Add(data, dir)
		}
	})
	f.Fuzz(func(t *testing.T, body []byte, dir uint8) {
		formats := []provider.Format{provider.FormatOpenAI, provider.FormatAnthropic}
		from, to := formats[dir&1], formats[dir>>1&1]
		out, err := Response(from, to, body, newRestoreFilter())
		if err != nil {
			if !errors.Is(err, ErrInvalidBody) {
				t.Fatalf("error of an unexpected kind: %v", err)
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("output is not valid JSON: %s", out)
		}
		if from == to && !bytes.Contains(body, []byte(placeholder)) && !bytes.Equal(out, body) {
			t.Fatalf("same-format body changed without a placeholder:\n%s\n%s", body, out)
		}
	})
}

// FuzzStream feeds arbitrary streams in two chunks and in one, in every
// direction, and expects the same output.
func FuzzStream(f *testing.F) {
	addSeeds(f, "stream/*/*.sse", func(data []byte) {
		for dir := range uint8(4) {
			f.Add(data, uint16(len(data)/3), dir)
		}
	})
	f.Fuzz(func(t *testing.T, input []byte, split uint16, dir uint8) {
		formats := []provider.Format{provider.FormatOpenAI, provider.FormatAnthropic}
		from, to := formats[dir&1], formats[dir>>1&1]
		at := 0
		if len(input) > 0 {
			at = int(split) % (len(input) + 1)
		}
		whole := runStream(from, to, newRestoreFilter(), input, nil)
		parts := runStream(from, to, newRestoreFilter(), input, []int{at})
		if !bytes.Equal(whole, parts) {
			t.Fatalf("split at %d changes the output\n--- split:\n%q\n--- whole:\n%q", at, parts, whole)
		}
	})
}
