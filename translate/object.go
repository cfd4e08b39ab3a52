package translate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"

	"github.com/phigate/phigate/provider"
)

// object is a decoded JSON object whose fields are still raw, so that the
// translation can see every field the client sent and reject the ones it
// cannot carry over. A field whose value is null counts as absent.
type object struct {
	path   string
	fields map[string]json.RawMessage
}

func decodeObject(raw json.RawMessage, path string) (object, error) {
	var fields map[string]json.RawMessage
	if !isObject(raw) || json.Unmarshal(raw, &fields) != nil {
		return object{}, invalid(path, "expected a JSON object")
	}
	for k, v := range fields {
		if isNull(v) {
			delete(fields, k)
		}
	}
	return object{path: path, fields: fields}, nil
}

func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || string(bytes.TrimSpace(raw)) == "null"
}

func isObject(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '{'
}

func (o object) at(key string) string {
	if o.path == "" {
		return key
	}
	return o.path + "." + key
}

func (o object) has(key string) bool {
	_, ok := o.fields[key]
	return ok
}

func (o object) raw(key string) json.RawMessage { return o.fields[key] }

// str returns a string field, or "" when it is absent.
func (o object) str(key string) (string, error) {
	raw, ok := o.fields[key]
	if !ok {
		return "", nil
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", invalid(o.at(key), "expected a string")
	}
	return s, nil
}

// requiredStr returns a string field that must be present.
func (o object) requiredStr(key string) (string, error) {
	if !o.has(key) {
		return "", invalid(o.at(key), "missing")
	}
	return o.str(key)
}

func (o object) boolean(key string) (value, present bool, err error) {
	raw, ok := o.fields[key]
	if !ok {
		return false, false, nil
	}
	if json.Unmarshal(raw, &value) != nil {
		return false, false, invalid(o.at(key), "expected a boolean")
	}
	return value, true, nil
}

// number returns a numeric field as its raw JSON text, so it is copied
// without reformatting, and its value.
func (o object) number(key string) (json.RawMessage, float64, error) {
	raw, ok := o.fields[key]
	if !ok {
		return nil, 0, nil
	}
	var n json.Number
	if json.Unmarshal(raw, &n) != nil {
		return nil, 0, invalid(o.at(key), "expected a number")
	}
	f, err := n.Float64()
	if err != nil {
		return nil, 0, invalid(o.at(key), "expected a number")
	}
	return json.RawMessage(n.String()), f, nil
}

// integer returns an integer field, or 0 and false when it is absent.
func (o object) integer(key string) (int, bool, error) {
	raw, ok := o.fields[key]
	if !ok {
		return 0, false, nil
	}
	var n int
	if json.Unmarshal(raw, &n) != nil {
		return 0, false, invalid(o.at(key), "expected an integer")
	}
	return n, true, nil
}

func (o object) array(key string) ([]json.RawMessage, error) {
	raw, ok := o.fields[key]
	if !ok {
		return nil, nil
	}
	var items []json.RawMessage
	if json.Unmarshal(raw, &items) != nil {
		return nil, invalid(o.at(key), "expected an array")
	}
	return items, nil
}

func (o object) object(key string) (object, error) {
	return decodeObject(o.fields[key], o.at(key))
}

// fieldNamePattern matches the field names that may appear in an error
// message. A key outside it is reported without its name, since only
// protocol field names are known to hold no PHI.
var fieldNamePattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// only returns an *UnsupportedError for the first field, in sorted order,
// that is not in allowed. The fields in allowed are the ones the caller
// translates or has checked.
func (o object) only(target provider.Format, allowed ...string) error {
	var extra []string
	for k := range o.fields {
		if !slices.Contains(allowed, k) {
			extra = append(extra, k)
		}
	}
	if len(extra) == 0 {
		return nil
	}
	slices.Sort(extra)
	name := extra[0]
	if !fieldNamePattern.MatchString(name) {
		name = "(field name withheld)"
	}
	return &UnsupportedError{
		Feature: o.at(name),
		Target:  target,
		Reason:  "the target API has no such field",
	}
}

func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// marshal encodes v without HTML escaping, so that "<", ">" and "&" in
// texts reach the other side as the model or client wrote them.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encoding JSON: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// mustMarshal encodes values built from decoded JSON and Go strings, which
// cannot fail to encode.
func mustMarshal(v any) []byte {
	data, err := marshal(v)
	if err != nil {
		panic(err)
	}
	return data
}

// quote encodes s as a JSON string without HTML escaping.
func quote(s string) []byte { return mustMarshal(s) }

// compactJSON returns raw without insignificant whitespace.
func compactJSON(raw json.RawMessage) []byte {
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		return raw
	}
	return buf.Bytes()
}
