package llmapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// FuzzParseBody checks ParseBody and Rewrite against encoding/json:
//   - ParseBody never panics, and accepts exactly what json.Valid accepts.
//   - Rewrite with no replacements returns the body unchanged.
//   - Each text's span is a JSON string token that decodes to its Value.
//   - Replacing every text with "X" yields valid JSON with "X" at the same
//     paths.
//   - When the body has no duplicate keys, the texts are exactly the string
//     values that encoding/json finds, less structural fields and base64
//     attachments, so no other string reaches a vendor unscanned.
func FuzzParseBody(f *testing.F) {
	fixtures, err := filepath.Glob(filepath.Join("testdata", "*"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range fixtures {
		if info, err := os.Stat(name); err != nil || info.IsDir() {
			continue
		}
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, seed := range []string{
		``,
		`"x"`,
		`[]`,
		`{"a":"\\\"","b":["\\\\",{"c":"\"\\"}]}`,
		`{"image_url":{"url":"data:x"},"x":{"image_url":{"url":"https://example.com"}}}`,
		`{"a":"1","a":"2"}`,
		`{"": {"": ""}}`,
		`{"a.b":{"[0]":"v"}}`,
		`{"model":"m","model":"n"}`,
		`1e999`,
		"\"\xff\xfe\"",
	} {
		f.Add([]byte(seed))
	}

	f.Fuzz(func(t *testing.T, body []byte) {
		input := bytes.Clone(body)
		b := ParseBody(body)

		if got := b.Rewrite(nil, ""); !bytes.Equal(got, input) {
			t.Fatalf("Rewrite(nil, \"\") changed the body:\ngot  %q\nwant %q", got, input)
		}
		if b.JSON != json.Valid(input) {
			t.Fatalf("JSON = %v but json.Valid = %v (ParseError %q)", b.JSON, !b.JSON, b.ParseError)
		}

		if !b.JSON {
			checkNonJSON(t, b, input)
			return
		}
		checkSpans(t, b)
		checkRewriteAll(t, b)
		checkAgainstDecoder(t, b, input)
	})
}

func checkNonJSON(t *testing.T, b *Body, input []byte) {
	if len(input) == 0 {
		if len(b.Texts) != 0 {
			t.Fatalf("empty body has %d texts, want 0", len(b.Texts))
		}
		return
	}
	if len(b.Texts) != 1 || b.Texts[0].Path != "$body" || b.Texts[0].Value != string(input) {
		t.Fatalf("invalid body: Texts = %+v, want one $body text holding the whole body", b.Texts)
	}
	if got := b.Rewrite(map[int]string{0: "X"}, "model"); string(got) != "X" {
		t.Fatalf("Rewrite of an invalid body = %q, want %q", got, "X")
	}
}

func checkRewriteAll(t *testing.T, b *Body) {
	replacements := make(map[int]string, len(b.Texts))
	for i := range b.Texts {
		replacements[i] = "X"
	}
	out := b.Rewrite(replacements, "")
	if !json.Valid(out) {
		t.Fatalf("Rewrite with every text set to X is not valid JSON: %q", out)
	}

	again := ParseBody(out)
	if len(again.Texts) != len(b.Texts) {
		t.Fatalf("rewritten body has %d texts, want %d", len(again.Texts), len(b.Texts))
	}
	for i, text := range again.Texts {
		if text.Value != "X" || text.Path != b.Texts[i].Path {
			t.Fatalf("rewritten Texts[%d] = {%q, %q}, want {%q, \"X\"}", i, text.Path, text.Value, b.Texts[i].Path)
		}
	}
	if again.Attachments != b.Attachments {
		t.Fatalf("rewritten body has %d attachments, want %d", again.Attachments, b.Attachments)
	}
	if again.Model != b.Model {
		t.Fatalf("rewritten body has model %q, want %q", again.Model, b.Model)
	}
}

// checkAgainstDecoder compares the texts with the string values of the
// document as encoding/json decodes it.
func checkAgainstDecoder(t *testing.T, b *Body, input []byte) {
	dec := json.NewDecoder(bytes.NewReader(input))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("encoding/json cannot decode a body that ParseBody accepted: %v", err)
	}

	var leaves leafCounter
	leaves.walk(doc, nil, false, false)
	tokens := countStringTokens(t, input)
	if tokens != leaves.keys+len(leaves.texts)+leaves.structural+leaves.attachments {
		// A duplicate key: encoding/json keeps only the last value.
		return
	}

	if b.Attachments != leaves.attachments {
		t.Fatalf("Attachments = %d, want %d", b.Attachments, leaves.attachments)
	}
	var got []string
	for _, text := range b.Texts {
		got = append(got, text.Path+"="+text.Value)
	}
	slices.Sort(got)
	slices.Sort(leaves.texts)
	if !slices.Equal(got, leaves.texts) {
		t.Fatalf("texts differ from encoding/json's string values:\ngot  %q\nwant %q", got, leaves.texts)
	}
}

// leafCounter sorts the string values of a decoded document into texts
// (as "path=value"), structural strings and attachments.
type leafCounter struct {
	keys        int
	texts       []string
	structural  int
	attachments int
}

// step is one level of a path: an object key, or an array index when key
// is nil. free marks a key of an object inside a client-defined document,
// and data one inside a data document, where keys are texts too.
type step struct {
	key   *string
	index int
	free  bool
	data  bool
}

// walk visits v; free and data tell whether v lies inside a client-defined
// document and a data document.
func (c *leafCounter) walk(v any, path []step, free, data bool) {
	switch v := v.(type) {
	case map[string]any:
		for k, child := range v {
			keyPath := append(slices.Clip(path), step{key: &k, free: free, data: data})
			if data {
				c.texts = append(c.texts, formatSteps(keyPath)+"{key}="+k)
			} else {
				c.keys++
			}
			c.walk(child, keyPath, free || freeFormKeys[k], data || (!free && dataKeys[k]))
		}
	case []any:
		for i, child := range v {
			c.walk(child, append(slices.Clip(path), step{index: i}), free, data)
		}
	case string:
		c.leaf(v, path)
	}
}

func (c *leafCounter) leaf(value string, path []step) {
	n := len(path)
	if n > 0 && path[n-1].key != nil && !path[n-1].free {
		key := *path[n-1].key
		if structuralKeys[key] {
			c.structural++
			return
		}
		if n > 1 && path[n-2].key != nil && binaryFields[*path[n-2].key+"."+key] {
			if key != "url" || strings.HasPrefix(value, "data:") {
				c.attachments++
				return
			}
		}
	}
	c.texts = append(c.texts, formatSteps(path)+"="+value)
}

// formatSteps writes a path as Text.Path does: keys joined by dots, array
// indexes in brackets, "$" for the top-level value.
func formatSteps(path []step) string {
	if len(path) == 0 {
		return "$"
	}
	var sb strings.Builder
	for i, s := range path {
		if s.key == nil {
			sb.WriteString("[" + strconv.Itoa(s.index) + "]")
			continue
		}
		if i > 0 {
			sb.WriteByte('.')
		}
		if s.data {
			sb.WriteByte('*')
		} else {
			sb.WriteString(*s.key)
		}
	}
	return sb.String()
}

// countStringTokens counts the string tokens of a document, keys included.
func countStringTokens(t *testing.T, input []byte) int {
	dec := json.NewDecoder(bytes.NewReader(input))
	dec.UseNumber()
	n := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return n
		}
		if err != nil {
			t.Fatalf("tokenizing a valid body: %v", err)
		}
		if _, ok := tok.(string); ok {
			n++
		}
	}
}
