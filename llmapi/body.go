package llmapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Text is one string in a request body that a vendor would read.
type Text struct {
	// Path locates the string in the document, such as
	// "messages[2].content[0].text". It never contains the value.
	Path string
	// Value is the decoded string, with JSON escapes resolved, which is
	// what the vendor's model reads and what must be scanned.
	Value string
	// start and end delimit the raw JSON string token, quotes included,
	// in the body it came from.
	start, end int
}

// Body is a request body taken apart for scanning.
type Body struct {
	raw []byte
	// JSON is true when the body is one well-formed JSON value. When it is
	// false, Texts contains the whole body as a single text and ParseError
	// gives the reason.
	JSON       bool
	ParseError string
	Model      string
	Stream     bool
	// Attachments counts binary parts (base64 images, audio, files) that
	// are forwarded but cannot be scanned as text.
	Attachments int
	Texts       []Text

	// modelStart and modelEnd delimit the raw top-level "model" string.
	modelStart, modelEnd int
}

// structuralKeys name fields whose string values are protocol enums or
// opaque ids rather than text a model reads. They are the only strings of a
// JSON body that are not scanned.
var structuralKeys = map[string]bool{
	"role":         true,
	"type":         true,
	"model":        true,
	"id":           true,
	"tool_call_id": true,
	"tool_use_id":  true,
	"media_type":   true,
	"detail":       true,
}

// freeFormKeys name fields whose value is a JSON document the client
// defines: tool inputs and metadata (data) or JSON schemas. Inside them no
// field is structural, so every string value is scanned. Inside data
// documents the object keys are scanned too, and paths show them as "*"
// because they may themselves be PHI.
var freeFormKeys = map[string]bool{
	"input":        true, // Anthropic tool_use blocks
	"metadata":     true,
	"parameters":   true, // OpenAI function definitions
	"input_schema": true, // Anthropic tool definitions
	"schema":       true, // OpenAI response_format.json_schema
}

// dataKeys are the free-form fields whose object keys are data.
var dataKeys = map[string]bool{
	"input":    true,
	"metadata": true,
}

// binaryFields name, as "parent.key", the fields that carry base64 data.
var binaryFields = map[string]bool{
	"source.data":       true, // Anthropic image and document blocks
	"input_audio.data":  true, // OpenAI audio parts
	"file.file_data":    true, // OpenAI file parts
	"image_url.url":     true, // OpenAI image parts, binary only for data: URLs
	"document.data":     true,
	"source.media_data": true,
}

// ParseBody extracts the texts of a request body. Every string value of a
// JSON body is extracted, whatever the API, except structural fields and
// base64 data outside client-defined documents. A field that phigate does not know about is therefore
// scanned rather than forwarded unseen. A body that is not valid JSON is
// returned as one text so that it is still scanned.
func ParseBody(body []byte) *Body {
	b := &Body{raw: body}
	if err := b.walk(); err != nil {
		*b = Body{raw: body, ParseError: err.Error()}
		if len(body) > 0 {
			b.Texts = []Text{{Path: "$body", Value: string(body), start: 0, end: len(body)}}
		}
		return b
	}
	b.JSON = true
	return b
}

type frame struct {
	array bool
	key   string // current key, for objects
	index int    // next index, for arrays
	// freeForm marks a container inside a client-defined document and
	// dataKeys one whose object keys are data; see freeFormKeys.
	freeForm, dataKeys bool
}

// push returns the stack with a new container on top.
func push(stack []frame, array bool) []frame {
	f := frame{array: array}
	if len(stack) > 0 {
		top := stack[len(stack)-1]
		opens := !top.array && !top.freeForm
		f.freeForm = top.freeForm || (opens && freeFormKeys[top.key])
		f.dataKeys = top.dataKeys || (opens && dataKeys[top.key])
	}
	return append(stack, f)
}

func (b *Body) walk() error {
	dec := json.NewDecoder(bytes.NewReader(b.raw))
	dec.UseNumber()
	var stack []frame
	expectKey := false
	values := 0 // complete top-level values

	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("invalid JSON: %w", err)
		}
		end := int(dec.InputOffset())
		if len(stack) == 0 {
			if values > 0 {
				return errors.New("invalid JSON: more than one top-level value")
			}
			values++
		}

		if expectKey {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				expectKey = false
				b.endValue(stack, &expectKey)
				continue
			}
			top := &stack[len(stack)-1]
			top.key = tok.(string)
			expectKey = false
			if top.dataKeys {
				b.Texts = append(b.Texts, Text{Path: formatPath(stack) + "{key}", Value: top.key, start: b.stringStart(end), end: end})
			}
			continue
		}

		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{':
				stack = push(stack, false)
				expectKey = true
			case '[':
				stack = push(stack, true)
			case ']':
				stack = stack[:len(stack)-1]
				b.endValue(stack, &expectKey)
			}
		case string:
			b.addString(stack, v, end)
			b.endValue(stack, &expectKey)
		case bool:
			if len(stack) == 1 && !stack[0].array && stack[0].key == "stream" {
				b.Stream = v
			}
			b.endValue(stack, &expectKey)
		default:
			b.endValue(stack, &expectKey)
		}
	}
	if len(stack) != 0 {
		return errors.New("invalid JSON: unexpected end of input")
	}
	if values == 0 {
		return errors.New("empty body")
	}
	return nil
}

// endValue advances the enclosing container past one complete value.
func (b *Body) endValue(stack []frame, expectKey *bool) {
	if len(stack) == 0 {
		return
	}
	top := &stack[len(stack)-1]
	if top.array {
		top.index++
	} else {
		*expectKey = true
	}
}

func (b *Body) addString(stack []frame, value string, end int) {
	if len(stack) == 0 {
		b.Texts = append(b.Texts, Text{Path: "$", Value: value, start: b.stringStart(end), end: end})
		return
	}
	top := stack[len(stack)-1]
	if !top.array && !top.freeForm {
		if len(stack) == 1 && top.key == "model" {
			b.Model = value
			b.modelStart, b.modelEnd = b.stringStart(end), end
		}
		if structuralKeys[top.key] {
			return
		}
		if len(stack) >= 2 {
			parent := stack[len(stack)-2]
			if !parent.array && binaryFields[parent.key+"."+top.key] {
				if top.key != "url" || strings.HasPrefix(value, "data:") {
					b.Attachments++
					return
				}
			}
		}
	}
	b.Texts = append(b.Texts, Text{Path: formatPath(stack), Value: value, start: b.stringStart(end), end: end})
}

// stringStart finds the opening quote of the string token that ends at end.
// Inside a JSON string every quote is escaped, so the opening quote is the
// nearest earlier quote preceded by an even number of backslashes.
func (b *Body) stringStart(end int) int {
	for i := end - 2; i >= 0; i-- {
		if b.raw[i] != '"' {
			continue
		}
		backslashes := 0
		for j := i - 1; j >= 0 && b.raw[j] == '\\'; j-- {
			backslashes++
		}
		if backslashes%2 == 0 {
			return i
		}
	}
	return 0
}

func formatPath(stack []frame) string {
	var sb strings.Builder
	for i, f := range stack {
		if f.array {
			sb.WriteByte('[')
			sb.WriteString(strconv.Itoa(f.index))
			sb.WriteByte(']')
			continue
		}
		if i > 0 {
			sb.WriteByte('.')
		}
		if f.dataKeys {
			sb.WriteByte('*')
		} else {
			sb.WriteString(f.key)
		}
	}
	return sb.String()
}

// Rewrite returns the body with the texts whose index appears in
// replacements set to new values and, when model is not empty, the
// top-level "model" field set to model. Every other byte is kept, so key
// order, numbers and whitespace reach the vendor as the client sent them.
// For a body that is not JSON the replacement is spliced in verbatim; for
// JSON it is encoded as a JSON string.
func (b *Body) Rewrite(replacements map[int]string, model string) []byte {
	type splice struct {
		start, end int
		value      string
	}
	var splices []splice
	for i, t := range b.Texts {
		if repl, ok := replacements[i]; ok {
			splices = append(splices, splice{t.start, t.end, repl})
		}
	}
	if model != "" && model != b.Model && b.modelEnd > 0 {
		splices = append(splices, splice{b.modelStart, b.modelEnd, model})
	}
	if len(splices) == 0 {
		return b.raw
	}
	slices.SortFunc(splices, func(x, y splice) int { return x.start - y.start })

	var out bytes.Buffer
	out.Grow(len(b.raw))
	last := 0
	for _, sp := range splices {
		out.Write(b.raw[last:sp.start])
		if b.JSON {
			out.Write(quote(sp.value))
		} else {
			out.WriteString(sp.value)
		}
		last = sp.end
	}
	out.Write(b.raw[last:])
	return out.Bytes()
}

// quote encodes s as a JSON string without HTML escaping, which vendors do
// not need and which would make redacted bodies harder to read.
func quote(s string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // encoding a string cannot fail
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}
