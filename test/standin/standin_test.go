package standin_test

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/phigate/phigate/test/standin"
)

func TestStartListensOnLoopback(t *testing.T) {
	for _, kind := range []standin.Kind{standin.OpenAI, standin.Anthropic} {
		t.Run(string(kind), func(t *testing.T) {
			s := startServer(t, kind, standin.Options{})

			host, port, err := net.SplitHostPort(s.Addr())
			if err != nil {
				t.Fatalf("Addr() = %q: %v", s.Addr(), err)
			}
			if host != "127.0.0.1" {
				t.Errorf("host = %q, want 127.0.0.1", host)
			}
			if port == "0" || port == "" {
				t.Errorf("port = %q, want a chosen port", port)
			}
			if s.URL() != "http://"+s.Addr() {
				t.Errorf("URL() = %q, want http://%s", s.URL(), s.Addr())
			}
			if s.Kind() != kind {
				t.Errorf("Kind() = %q, want %q", s.Kind(), kind)
			}
			if s.Name() != string(kind) {
				t.Errorf("Name() = %q, want the kind as default name", s.Name())
			}
		})
	}
}

func TestStartRejectsUnknownKind(t *testing.T) {
	s, err := standin.Start("gemini", standin.Options{})
	if err == nil {
		s.Close()
		t.Fatal("Start accepted an unknown kind")
	}
	if !strings.Contains(err.Error(), "gemini") {
		t.Errorf("error %q does not name the kind", err)
	}
}

func TestNewHandlerPanicsOnUnknownKind(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("NewHandler did not panic on an unknown kind")
		}
	}()
	standin.NewHandler("gemini", standin.Options{})
}

func TestCheckLoopback(t *testing.T) {
	tests := []struct {
		addr    string
		wantErr bool
	}{
		{addr: "127.0.0.1:18081"},
		{addr: "127.0.0.1:0"},
		{addr: "127.1.2.3:80"},
		{addr: "[::1]:18081"},
		{addr: "0.0.0.0:18081", wantErr: true},
		{addr: ":18081", wantErr: true},
		{addr: "[::]:18081", wantErr: true},
		{addr: "10.0.0.5:18081", wantErr: true},
		{addr: "localhost:18081", wantErr: true},
		{addr: "example.com:80", wantErr: true},
		{addr: "127.0.0.1", wantErr: true},
		{addr: "", wantErr: true},
	}

	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			err := standin.CheckLoopback(tt.addr)
			if tt.wantErr && err == nil {
				t.Errorf("CheckLoopback(%q) accepted a non-loopback address", tt.addr)
			}
			if !tt.wantErr && err != nil {
				t.Errorf("CheckLoopback(%q) = %v, want nil", tt.addr, err)
			}
		})
	}
}

func TestListenRejectsNonLoopback(t *testing.T) {
	s, err := standin.Listen("0.0.0.0:0", standin.OpenAI, standin.Options{})
	if err == nil {
		s.Close()
		t.Fatal("Listen accepted 0.0.0.0")
	}
}

func TestRecordsEveryRequest(t *testing.T) {
	tests := []struct {
		kind   standin.Kind
		path   string
		header map[string]string
	}{
		{kind: standin.OpenAI, path: "/v1/chat/completions", header: map[string]string{"Authorization": "Bearer k1"}},
		{kind: standin.Anthropic, path: "/v1/messages", header: map[string]string{"X-Api-Key": "k1", "Anthropic-Version": "2023-06-01"}},
	}

	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			s := startServer(t, tt.kind, standin.Options{APIKey: "k1"})
			before := time.Now()

			sent := []struct {
				method, path, query string
				header              map[string]string
				body                string
			}{
				{method: http.MethodPost, path: tt.path, header: tt.header, body: `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"Synthetic Name"}]}`},
				{method: http.MethodPost, path: tt.path, header: tt.header, body: `not json at all`},
				{method: http.MethodPost, path: tt.path, header: map[string]string{"X-Trace": "unauthorized"}, body: `{}`},
				{method: http.MethodGet, path: "/v1/models", query: "limit=5&after=x", header: tt.header},
				{method: http.MethodDelete, path: tt.path, header: tt.header, body: "bye"},
			}
			for _, req := range sent {
				url := s.URL() + req.path
				if req.query != "" {
					url += "?" + req.query
				}
				send(t, req.method, url, req.header, req.body)
			}

			got := s.Requests()
			if len(got) != len(sent) {
				t.Fatalf("recorded %d requests, want %d", len(got), len(sent))
			}
			for i, want := range sent {
				r := got[i]
				if r.Method != want.method {
					t.Errorf("request %d method = %q, want %q", i, r.Method, want.method)
				}
				if r.Path != want.path {
					t.Errorf("request %d path = %q, want %q", i, r.Path, want.path)
				}
				if r.RawQuery != want.query {
					t.Errorf("request %d query = %q, want %q", i, r.RawQuery, want.query)
				}
				if string(r.Body) != want.body {
					t.Errorf("request %d body = %q, want %q", i, r.Body, want.body)
				}
				if r.Truncated {
					t.Errorf("request %d is marked truncated", i)
				}
				for name, value := range want.header {
					if r.Header.Get(name) != value {
						t.Errorf("request %d header %s = %q, want %q", i, name, r.Header.Get(name), value)
					}
				}
				if !strings.HasPrefix(r.ID, "req_") {
					t.Errorf("request %d id = %q, want a req_ id", i, r.ID)
				}
				if r.Received.Before(before) || r.Received.After(time.Now()) {
					t.Errorf("request %d received at %v, outside the test", i, r.Received)
				}
			}

			got[0].Body[0] = 'X'
			got[0].Header.Set("X-Changed", "yes")
			again := s.Requests()
			if again[0].Body[0] == 'X' {
				t.Error("changing a returned body changed the recorded one")
			}
			if again[0].Header.Get("X-Changed") != "" {
				t.Error("changing returned headers changed the recorded ones")
			}

			s.Reset()
			if n := len(s.Requests()); n != 0 {
				t.Errorf("after Reset, %d requests remain", n)
			}
			send(t, http.MethodPost, s.URL()+tt.path, tt.header, `{}`)
			if n := len(s.Requests()); n != 1 {
				t.Errorf("after Reset and one request, got %d recorded, want 1", n)
			}
		})
	}
}

func TestRecordsConcurrentRequests(t *testing.T) {
	s := startServer(t, standin.OpenAI, standin.Options{})
	const n = 20

	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			body := `{"model":"m","messages":[{"role":"user","content":"x"}]}`
			resp, err := http.Post(s.URL()+"/v1/chat/completions", "application/json", strings.NewReader(body))
			if err != nil {
				t.Errorf("posting: %v", err)
				return
			}
			resp.Body.Close()
		})
	}
	wg.Wait()

	if got := len(s.Requests()); got != n {
		t.Errorf("recorded %d requests, want %d", got, n)
	}
}

func TestSeparateServersRecordSeparately(t *testing.T) {
	plain := startServer(t, standin.OpenAI, standin.Options{Name: "openai"})
	baa := startServer(t, standin.OpenAI, standin.Options{Name: "openai-baa"})
	body := `{"model":"m","messages":[{"role":"user","content":"ping"}]}`

	r := send(t, http.MethodPost, baa.URL()+"/v1/chat/completions", map[string]string{"Authorization": "Bearer k"}, body)

	if !strings.Contains(string(r.body), "openai-baa stand-in reply: ping") {
		t.Errorf("reply %s does not name openai-baa", r.body)
	}
	if n := len(baa.Requests()); n != 1 {
		t.Errorf("openai-baa recorded %d requests, want 1", n)
	}
	if n := len(plain.Requests()); n != 0 {
		t.Errorf("openai recorded %d requests, want 0", n)
	}
}

func TestBodyLimit(t *testing.T) {
	tests := []struct {
		name       string
		kind       standin.Kind
		limit      int64
		size       int
		wantStatus int
		wantType   string
	}{
		{name: "openai default limit exceeded", kind: standin.OpenAI, size: standin.DefaultMaxBodyBytes + 1, wantStatus: 413, wantType: "invalid_request_error"},
		{name: "anthropic default limit exceeded", kind: standin.Anthropic, size: standin.DefaultMaxBodyBytes + 1, wantStatus: 413, wantType: "request_too_large"},
		{name: "openai small limit exceeded", kind: standin.OpenAI, limit: 1024, size: 1025, wantStatus: 413, wantType: "invalid_request_error"},
		{name: "openai exactly at limit", kind: standin.OpenAI, limit: 1024, size: 1024, wantStatus: 200},
		{name: "anthropic exactly at limit", kind: standin.Anthropic, limit: 1024, size: 1024, wantStatus: 200},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t, tt.kind, standin.Options{MaxBodyBytes: tt.limit})
			body := paddedBody(t, tt.size)

			r := send(t, http.MethodPost, s.URL()+endpoint(tt.kind), anyCredential(), body)

			if r.status != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %.300s", r.status, tt.wantStatus, r.body)
			}
			if tt.wantType != "" {
				v := decode(t, r.body)
				if got := object(t, v, "error")["type"]; got != tt.wantType {
					t.Errorf("error.type = %v, want %v", got, tt.wantType)
				}
			}

			recorded := s.Requests()
			if len(recorded) != 1 {
				t.Fatalf("recorded %d requests, want 1", len(recorded))
			}
			limit := tt.limit
			if limit == 0 {
				limit = standin.DefaultMaxBodyBytes
			}
			wantTruncated := int64(tt.size) > limit
			if recorded[0].Truncated != wantTruncated {
				t.Errorf("Truncated = %v, want %v", recorded[0].Truncated, wantTruncated)
			}
			wantLen := min(int64(tt.size), limit)
			if int64(len(recorded[0].Body)) != wantLen {
				t.Errorf("recorded body has %d bytes, want %d", len(recorded[0].Body), wantLen)
			}
			if !bytes.HasPrefix([]byte(body), recorded[0].Body) {
				t.Error("recorded body is not a prefix of the body sent")
			}
		})
	}
}

// paddedBody returns a valid request body of exactly size bytes for either
// API, padded with spaces inside the user message.
func paddedBody(t *testing.T, size int) string {
	t.Helper()

	const head = `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"`
	const tail = `"}]}`
	pad := size - len(head) - len(tail)
	if pad < 0 {
		t.Fatalf("size %d is too small for a request body", size)
	}
	return head + strings.Repeat(" ", pad) + tail
}

func endpoint(kind standin.Kind) string {
	if kind == standin.Anthropic {
		return "/v1/messages"
	}
	return "/v1/chat/completions"
}

func TestOnRequestReportsStatus(t *testing.T) {
	type call struct {
		path   string
		status int
	}
	var mu sync.Mutex
	var calls []call

	s := startServer(t, standin.OpenAI, standin.Options{
		APIKey: "k1",
		OnRequest: func(req standin.Request, status int) {
			mu.Lock()
			defer mu.Unlock()
			calls = append(calls, call{path: req.Path, status: status})
		},
	})
	auth := map[string]string{"Authorization": "Bearer k1"}
	body := `{"model":"m","messages":[{"role":"user","content":"x"}]}`
	streamed := `{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]}`

	send(t, http.MethodPost, s.URL()+"/v1/chat/completions", auth, body)
	send(t, http.MethodPost, s.URL()+"/v1/chat/completions", nil, body)
	send(t, http.MethodPost, s.URL()+"/v1/chat/completions", auth, streamed)
	send(t, http.MethodPost, s.URL()+"/nope", auth, body)

	want := []call{
		{path: "/v1/chat/completions", status: 200},
		{path: "/v1/chat/completions", status: 401},
		{path: "/v1/chat/completions", status: 200},
		{path: "/nope", status: 404},
	}
	mu.Lock()
	defer mu.Unlock()
	if len(calls) != len(want) {
		t.Fatalf("OnRequest called %d times, want %d: %v", len(calls), len(want), calls)
	}
	for i := range want {
		if calls[i] != want[i] {
			t.Errorf("call %d = %+v, want %+v", i, calls[i], want[i])
		}
	}
}

func TestHandlerOnOwnListener(t *testing.T) {
	h := standin.NewHandler(standin.Anthropic, standin.Options{Name: "custom"})
	srv := httptest.NewServer(h)
	defer srv.Close()
	body := `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hello"}]}`

	r := send(t, http.MethodPost, srv.URL+"/v1/messages", anyCredential(), body)

	if r.status != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", r.status, r.body)
	}
	if !strings.Contains(string(r.body), `"custom stand-in reply: hello"`) {
		t.Errorf("reply %s lacks the expected text", r.body)
	}
	if n := len(h.Requests()); n != 1 {
		t.Errorf("handler recorded %d requests, want 1", n)
	}
	h.Reset()
	if n := len(h.Requests()); n != 0 {
		t.Errorf("after Reset, %d requests remain", n)
	}
}

func TestCloseStopsServing(t *testing.T) {
	s, err := standin.Start(standin.OpenAI, standin.Options{})
	if err != nil {
		t.Fatalf("starting stand-in: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	client := http.Client{Timeout: 2 * time.Second}
	if resp, err := client.Get(s.URL() + "/v1/chat/completions"); err == nil {
		resp.Body.Close()
		t.Error("server still replies after Close")
	}
}

func TestDisableRecording(t *testing.T) {
	var statuses []int
	var mu sync.Mutex
	s := startServer(t, standin.Anthropic, standin.Options{
		DisableRecording: true,
		OnRequest: func(req standin.Request, status int) {
			mu.Lock()
			defer mu.Unlock()
			statuses = append(statuses, status)
		},
	})

	send(t, http.MethodPost, s.URL()+"/v1/messages", map[string]string{"X-Api-Key": "k"}, `{}`)

	if got := s.Requests(); got != nil {
		t.Errorf("Requests() = %v, want nil with recording disabled", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(statuses) != 1 {
		t.Fatalf("OnRequest called %d times, want 1", len(statuses))
	}
	if statuses[0] != http.StatusBadRequest {
		t.Errorf("OnRequest status = %d, want 400 for the missing version header", statuses[0])
	}
}

// plainWriter hides the Flush method of the writer it wraps.
type plainWriter struct{ w http.ResponseWriter }

func (p plainWriter) Header() http.Header         { return p.w.Header() }
func (p plainWriter) Write(b []byte) (int, error) { return p.w.Write(b) }
func (p plainWriter) WriteHeader(code int)        { p.w.WriteHeader(code) }

func TestStreamWithoutFlusher(t *testing.T) {
	h := standin.NewHandler(standin.OpenAI, standin.Options{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(plainWriter{w}, r)
	}))
	defer srv.Close()
	body := `{"model":"m","stream":true,"messages":[{"role":"user","content":"one two three four"}]}`

	r := send(t, http.MethodPost, srv.URL+"/v1/chat/completions", anyCredential(), body)

	if r.status != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", r.status, r.body)
	}
	events := parseEvents(t, r.body)
	if len(events) < 4 {
		t.Fatalf("got %d events, want at least 4: %+v", len(events), events)
	}
	if last := events[len(events)-1].data; last != "[DONE]" {
		t.Errorf("last event data = %q, want [DONE]", last)
	}
}
