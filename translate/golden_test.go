package translate

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/phigate/phigate/provider"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata with the current output")

// TestMain fixes the clock and the generated ids so outputs are stable.
func TestMain(m *testing.M) {
	now = func() time.Time { return time.Unix(1700000000, 0) }
	newID = func(prefix string) string { return prefix + "generated" }
	os.Exit(m.Run())
}

// direction reads "openai_to_anthropic" style directory names.
func direction(t testing.TB, dir string) (from, to provider.Format) {
	t.Helper()
	a, b, ok := strings.Cut(filepath.Base(dir), "_to_")
	if !ok {
		t.Fatalf("directory %s is not named FROM_to_TO", dir)
	}
	return provider.Format(a), provider.Format(b)
}

// goldenCases lists testdata/KIND/FROM_to_TO/*.EXT.
func goldenCases(t testing.TB, kind, ext string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", kind, "*_to_*", "*."+ext))
	if err != nil || len(files) == 0 {
		t.Fatalf("no %s cases in testdata/%s: %v", ext, kind, err)
	}
	return files
}

func checkGolden(t *testing.T, input string, got []byte) {
	t.Helper()
	golden := strings.TrimSuffix(input, filepath.Ext(input)) + ".golden"
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("reading golden file (run go test ./translate -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s\n--- got:\n%s\n--- want:\n%s", golden, got, want)
	}
}

// indentJSON pretty-prints JSON output so golden files are readable; other
// output is returned as it is.
func indentJSON(data []byte) []byte {
	var buf bytes.Buffer
	if json.Indent(&buf, data, "", "  ") != nil {
		return data
	}
	buf.WriteByte('\n')
	return buf.Bytes()
}

func readCase(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestRequestGolden(t *testing.T) {
	for _, path := range goldenCases(t, "request", "json") {
		t.Run(path, func(t *testing.T) {
			from, to := direction(t, filepath.Dir(path))
			opts := RequestOptions{}
			if strings.Contains(path, "replace_model") || strings.Contains(path, "insert_model") {
				opts.Model = "provider-model"
			}
			out, err := Request(from, to, bytes.TrimSuffix(readCase(t, path), []byte("\n")), opts)
			if err != nil {
				checkGolden(t, path, []byte(describeError(err)+"\n"))
				return
			}
			if from == to {
				checkGolden(t, path, append(out, '\n'))
				return
			}
			if !json.Valid(out) {
				t.Fatalf("output is not valid JSON: %s", out)
			}
			checkGolden(t, path, indentJSON(out))
		})
	}
}

// describeError names the error's kind and message for golden files.
func describeError(err error) string {
	if u, ok := err.(*UnsupportedError); ok {
		return "unsupported: " + u.Error()
	}
	return "error: " + err.Error()
}

func TestResponseGolden(t *testing.T) {
	for _, path := range goldenCases(t, "response", "json") {
		t.Run(path, func(t *testing.T) {
			from, to := direction(t, filepath.Dir(path))
			filter := newRestoreFilter()
			out, err := Response(from, to, readCase(t, path), filter)
			if err != nil {
				checkGolden(t, path, []byte(describeError(err)+"\n"))
				return
			}
			filter.checkFlushed(t)
			if from == to {
				checkGolden(t, path, out)
				return
			}
			checkGolden(t, path, indentJSON(out))
		})
	}
}

func TestStreamGolden(t *testing.T) {
	for _, path := range goldenCases(t, "stream", "sse") {
		t.Run(path, func(t *testing.T) {
			from, to := direction(t, filepath.Dir(path))
			filter := newRestoreFilter()
			got := runStream(from, to, filter, readCase(t, path), nil)
			filter.checkFlushed(t)
			checkGolden(t, path, got)
		})
	}
}

// runStream feeds input to a Stream in chunks ending at the given split
// offsets and returns everything written to the client, followed by the
// first error on a line of its own.
func runStream(from, to provider.Format, filter TextFilter, input []byte, splits []int) []byte {
	s := NewStream(from, to, filter)
	var out bytes.Buffer
	var firstErr error
	last := 0
	for _, at := range append(splits, len(input)) {
		chunk, err := s.Write(input[last:at])
		out.Write(chunk)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		last = at
	}
	rest, err := s.Close()
	out.Write(rest)
	if err != nil && firstErr == nil {
		firstErr = err
	}
	if firstErr != nil {
		fmt.Fprintf(&out, "--- error: %v\n", firstErr)
	}
	return out.Bytes()
}

func TestErrorGolden(t *testing.T) {
	for _, path := range goldenCases(t, "error", "json") {
		t.Run(path, func(t *testing.T) {
			from, to := direction(t, filepath.Dir(path))
			prefix, _, _ := strings.Cut(filepath.Base(path), "_")
			status, err := strconv.Atoi(prefix)
			if err != nil {
				t.Fatalf("file name %s does not start with a status", path)
			}
			gotStatus, body := Error(from, to, status, readCase(t, path))
			if from != to && !json.Valid(body) {
				t.Fatalf("body is not valid JSON: %s", body)
			}
			out := fmt.Appendf(nil, "status: %d\n", gotStatus)
			if from == to {
				out = append(out, body...)
			} else {
				out = append(out, indentJSON(body)...)
			}
			checkGolden(t, path, out)
		})
	}
}
