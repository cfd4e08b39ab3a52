package standin_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/phigate/phigate/test/standin"
)

// reply is a response read in full.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// send issues one request with the given headers and body and reads the
// whole reply.
func send(t *testing.T, method, url string, header map[string]string, body string) reply {
	t.Helper()

	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatalf("building request: %v", err)
	}
	for name, value := range header {
		req.Header.Set(name, value)
	}

	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()

	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading reply body: %v", err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: data}
}

// anyCredential returns the credential headers of every kind, with values
// a stand-in without Options.APIKey accepts.
func anyCredential() map[string]string {
	return map[string]string{
		"Authorization":     "Bearer any-key",
		"X-Api-Key":         "any-key",
		"Api-Key":           "any-key",
		"Anthropic-Version": "2023-06-01",
	}
}

// startServer starts a stand-in and closes it when the test ends.
func startServer(t *testing.T, kind standin.Kind, opts standin.Options) *standin.Server {
	t.Helper()

	s, err := standin.Start(kind, opts)
	if err != nil {
		t.Fatalf("starting %s stand-in: %v", kind, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("closing %s stand-in: %v", kind, err)
		}
	})
	return s
}

// event is one server-sent event. Name is empty when no "event:" line came.
type event struct {
	name string
	data string
}

// parseEvents splits an SSE body into events. It fails the test on a line
// that is neither a field a stand-in sends nor a blank separator, and on an
// event left unterminated at the end of the body.
func parseEvents(t *testing.T, body []byte) []event {
	t.Helper()

	var events []event
	var current event
	open := false

	scanner := bufio.NewScanner(bytes.NewReader(body))
	scanner.Buffer(make([]byte, 0, 64*1024), 4<<20)
	for scanner.Scan() {
		line := scanner.Text()
		switch {
		case line == "":
			if open {
				events = append(events, current)
			}
			current, open = event{}, false
		case strings.HasPrefix(line, "event: "):
			current.name = strings.TrimPrefix(line, "event: ")
			open = true
		case strings.HasPrefix(line, "data: "):
			current.data = strings.TrimPrefix(line, "data: ")
			open = true
		default:
			t.Fatalf("unexpected SSE line %q", line)
		}
	}
	if err := scanner.Err(); err != nil {
		t.Fatalf("scanning SSE body: %v", err)
	}
	if open {
		t.Fatalf("SSE body ends inside an event: %+v", current)
	}
	return events
}

// decode unmarshals data into a generic JSON object.
func decode(t *testing.T, data []byte) map[string]any {
	t.Helper()

	var v map[string]any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("decoding %s: %v", data, err)
	}
	return v
}

// object returns v[key] as an object, failing the test if it is not one.
func object(t *testing.T, v map[string]any, key string) map[string]any {
	t.Helper()

	o, ok := v[key].(map[string]any)
	if !ok {
		t.Fatalf("%q is %T (%v), want an object", key, v[key], v[key])
	}
	return o
}

// array returns v[key] as an array, failing the test if it is not one.
func array(t *testing.T, v map[string]any, key string) []any {
	t.Helper()

	a, ok := v[key].([]any)
	if !ok {
		t.Fatalf("%q is %T (%v), want an array", key, v[key], v[key])
	}
	return a
}

// checkNull fails the test unless v has key with the value null.
func checkNull(t *testing.T, v map[string]any, key string) {
	t.Helper()

	value, ok := v[key]
	if !ok {
		t.Errorf("%q is missing, want null", key)
		return
	}
	if value != nil {
		t.Errorf("%q = %v, want null", key, value)
	}
}

// checkNumber fails the test unless v[key] is the JSON number want.
func checkNumber(t *testing.T, v map[string]any, key string, want int) {
	t.Helper()

	got, ok := v[key].(float64)
	if !ok {
		t.Errorf("%q is %T (%v), want a number", key, v[key], v[key])
		return
	}
	if int(got) != want {
		t.Errorf("%q = %v, want %d", key, got, want)
	}
}

// tokens is the stand-in's token estimate, ceil(bytes/4).
func tokens(text string) int {
	return (len(text) + 3) / 4
}
