package policy

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/bundle"

	"github.com/phigate/phigate/internal/bundletest"
)

// moduleFor returns a bundle module that allows every request to the
// requested provider with the given reason, so tests can tell versions
// apart by their decisions.
func moduleFor(reason string) string {
	return "package phigate\n\ndecision := {\"action\": \"allow\", \"provider\": input.request.requested_provider, \"reasons\": [\"" + reason + "\"]}\n"
}

func managerInput() Input {
	return Input{
		Request:   RequestInfo{API: "openai.chat_completions", RequestedProvider: "openai", BodyValid: true},
		Providers: map[string]Provider{"openai": {Name: "openai", Format: "openai"}},
	}
}

func writePolicy(t *testing.T, dir, module string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "policy.rego"), []byte(module), 0o644); err != nil {
		t.Fatal(err)
	}
}

func decideReason(t *testing.T, m *Manager) string {
	t.Helper()
	d, err := m.Current().Decide(context.Background(), managerInput())
	if err != nil {
		t.Fatalf("Decide: %v", err)
	}
	return d.Reasons[0]
}

func TestManagerReloadsChangedDirectory(t *testing.T) {
	dir := t.TempDir()
	writePolicy(t, dir, moduleFor("v1"))
	m, err := NewManager(context.Background(), ManagerOptions{Active: &DirSource{Path: dir}})
	if err != nil {
		t.Fatal(err)
	}
	first := m.Current()

	if err := m.Reload(context.Background()); err != nil {
		t.Fatalf("Reload of an unchanged directory: %v", err)
	}
	if m.Current() != first {
		t.Error("an unchanged directory was compiled again")
	}

	writePolicy(t, dir, moduleFor("v2"))
	if err := m.Reload(context.Background()); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	if got := decideReason(t, m); got != "v2" {
		t.Errorf("decision reason = %q after reload, want v2", got)
	}
	if m.Current().Revision() == first.Revision() {
		t.Error("revision did not change with the policy")
	}
}

func TestManagerKeepsLastGoodPolicy(t *testing.T) {
	tests := []struct {
		name   string
		module string
	}{
		{"syntax error", "package phigate\n\ndecision := {\n"},
		{"no decision package", "package other\n\nx := 1\n"},
		{"unsafe variable", "package phigate\n\ndecision := {\"action\": x}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writePolicy(t, dir, moduleFor("good"))
			m, err := NewManager(context.Background(), ManagerOptions{Active: &DirSource{Path: dir}})
			if err != nil {
				t.Fatal(err)
			}
			good := m.Current().Revision()

			writePolicy(t, dir, tt.module)
			err = m.Reload(context.Background())

			if err == nil {
				t.Fatal("Reload of a broken bundle succeeded")
			}
			if got := m.Current().Revision(); got != good {
				t.Errorf("revision = %q, want the last good %q", got, good)
			}
			if got := decideReason(t, m); got != "good" {
				t.Errorf("decision reason = %q, want the last good policy's", got)
			}
			st := m.Status().Active
			if st.LastError == "" || st.Failures != 1 {
				t.Errorf("status = %+v, want the error and one failure", st)
			}

			writePolicy(t, dir, moduleFor("fixed"))
			if err := m.Reload(context.Background()); err != nil {
				t.Fatalf("Reload after the fix: %v", err)
			}
			if st := m.Status().Active; st.LastError != "" {
				t.Errorf("LastError = %q after a good reload, want it cleared", st.LastError)
			}
		})
	}
}

func TestManagerFailsWithoutInitialPolicy(t *testing.T) {
	dir := t.TempDir()
	writePolicy(t, dir, "package phigate\n\ndecision := {\n")
	if _, err := NewManager(context.Background(), ManagerOptions{Active: &DirSource{Path: dir}}); err == nil {
		t.Fatal("NewManager succeeded with a broken bundle")
	}
}

// Reloading under concurrent decisions must never fail a decision: each
// caller holds the engine it loaded until it is done.
func TestManagerReloadUnderLoad(t *testing.T) {
	dir := t.TempDir()
	writePolicy(t, dir, moduleFor("v0"))
	m, err := NewManager(context.Background(), ManagerOptions{Active: &DirSource{Path: dir}})
	if err != nil {
		t.Fatal(err)
	}

	var failures, decisions atomic.Int64
	seen := sync.Map{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				d, err := m.Current().Decide(context.Background(), managerInput())
				if err != nil {
					failures.Add(1)
					continue
				}
				decisions.Add(1)
				seen.Store(d.Reasons[0], true)
			}
		}()
	}

	for i := 1; i <= 20; i++ {
		module := moduleFor("v" + string(rune('a'+i%3)))
		if i%5 == 0 {
			module = "package phigate\n\ndecision := {\n" // a broken release in between
		}
		writePolicy(t, dir, module)
		_ = m.Reload(context.Background())
		time.Sleep(5 * time.Millisecond)
	}
	close(stop)
	wg.Wait()

	if n := failures.Load(); n != 0 {
		t.Errorf("%d of %d decisions failed during reloads", n, n+decisions.Load())
	}
	count := 0
	seen.Range(func(_, _ any) bool { count++; return true })
	if count < 2 {
		t.Errorf("decisions saw %d policy versions, want several", count)
	}
}

// signedBundle builds a bundle archive signed with key, as `opa build
// --signing-key` would.
func signedBundle(t *testing.T, module, revision string, key *rsa.PrivateKey, keyID string) []byte {
	return bundletest.Archive(t, module, revision, key, keyID)
}

func verificationFor(t *testing.T, key *rsa.PrivateKey, keyID string) *bundle.VerificationConfig {
	public := bundletest.PublicKeyPEM(t, key)
	return bundle.NewVerificationConfig(map[string]*bundle.KeyConfig{keyID: {Key: public, Algorithm: "RS256"}}, keyID, "", nil)
}

func TestSignedBundleVerification(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	verify := verificationFor(t, key, "release")

	path := filepath.Join(t.TempDir(), "bundle.tar.gz")
	if err := os.WriteFile(path, signedBundle(t, moduleFor("signed"), "r1", key, "release"), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := NewManager(context.Background(), ManagerOptions{Active: NewSource(path, verify, nil)})
	if err != nil {
		t.Fatalf("signed bundle rejected: %v", err)
	}
	if got := m.Current().Revision(); got != "r1" {
		t.Errorf("revision = %q, want the manifest's r1", got)
	}

	tests := []struct {
		name   string
		bundle []byte
		want   string
	}{
		{"unsigned", signedBundle(t, moduleFor("unsigned"), "r2", nil, ""), "missing .signatures.json"},
		{"wrong key", signedBundle(t, moduleFor("forged"), "r3", other, "release"), "verif"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.WriteFile(path, tt.bundle, 0o644); err != nil {
				t.Fatal(err)
			}
			err := m.Reload(context.Background())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Reload error = %v, want one containing %q", err, tt.want)
			}
			if got := m.Current().Revision(); got != "r1" {
				t.Errorf("revision = %q, want the last good r1", got)
			}
		})
	}
}

func TestHTTPSourceUsesETag(t *testing.T) {
	var mu sync.Mutex
	body := signedBundle(t, moduleFor("http-v1"), "h1", nil, "")
	etag := `"v1"`
	var requests, notModified atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		requests.Add(1)
		if r.Header.Get("Authorization") != "Bearer bundle-token" {
			http.Error(w, "missing token", http.StatusUnauthorized)
			return
		}
		if r.Header.Get("If-None-Match") == etag {
			notModified.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		w.Write(body)
	}))
	defer srv.Close()

	m, err := NewManager(context.Background(), ManagerOptions{Active: NewSource(srv.URL+"/bundles/phigate.tar.gz", nil, http.Header{"Authorization": {"Bearer bundle-token"}})})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if notModified.Load() != 1 {
		t.Errorf("server answered %d requests with 304, want 1", notModified.Load())
	}

	mu.Lock()
	body, etag = signedBundle(t, moduleFor("http-v2"), "h2", nil, ""), `"v2"`
	mu.Unlock()
	if err := m.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := decideReason(t, m); got != "http-v2" {
		t.Errorf("decision reason = %q, want http-v2", got)
	}

	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
	})
	if err := m.Reload(context.Background()); err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("Reload error = %v, want the 503", err)
	}
	if got := m.Current().Revision(); got != "h2" {
		t.Errorf("revision = %q, want the last good h2", got)
	}
}

func TestReloadSkipsUnchangedContent(t *testing.T) {
	var mu sync.Mutex
	body := signedBundle(t, moduleFor("same"), "r1", nil, "")
	etag := ""
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if etag != "" {
			w.Header().Set("ETag", etag)
		}
		w.Write(body)
	}))
	defer srv.Close()

	var loads atomic.Int64
	m, err := NewManager(context.Background(), ManagerOptions{
		Active: NewSource(srv.URL+"/bundle.tar.gz", nil, nil),
		OnLoad: func(string, error) { loads.Add(1) },
	})
	if err != nil {
		t.Fatal(err)
	}
	first := m.Current()

	// The server starts sending an ETag: the version changes, the content
	// does not.
	mu.Lock()
	etag = `"e1"`
	mu.Unlock()
	if err := m.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if m.Current() != first {
		t.Error("Reload swapped in a new engine for the same bundle content")
	}
	if loads.Load() != 1 {
		t.Errorf("OnLoad called %d times, want once, at start", loads.Load())
	}

	// New content under the same revision still replaces the engine.
	mu.Lock()
	body, etag = signedBundle(t, moduleFor("changed"), "r1", nil, ""), `"e2"`
	mu.Unlock()
	if err := m.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := decideReason(t, m); got != "changed" {
		t.Errorf("decision reason = %q, want changed", got)
	}
}

func TestReloadReportsABrokenBundleOnce(t *testing.T) {
	for _, tc := range []struct {
		name   string
		broken string
	}{
		{"compile error", "package phigate\n\ndecision := {\"action\": \"allow\", \"reasons\": [undefined_rule]}\n"},
		{"parse error", "package phigate\n\ndecision := {\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writePolicy(t, dir, moduleFor("good"))
			var failures atomic.Int64
			m, err := NewManager(context.Background(), ManagerOptions{
				Active: NewSource(dir, nil, nil),
				OnLoad: func(_ string, err error) {
					if err != nil {
						failures.Add(1)
					}
				},
			})
			if err != nil {
				t.Fatal(err)
			}

			writePolicy(t, dir, tc.broken)
			for range 3 {
				if err := m.Reload(context.Background()); err == nil {
					t.Fatal("Reload accepted a broken bundle")
				}
			}
			if n := failures.Load(); n != 1 {
				t.Errorf("failed loads reported %d times for one broken bundle, want 1", n)
			}
			if st := m.Status(); st.Active.Failures != 1 || st.Active.LastError == "" {
				t.Errorf("status = %+v, want one failure and its error", st.Active)
			}
			if got := decideReason(t, m); got != "good" {
				t.Errorf("decision reason = %q, want the last good bundle's", got)
			}

			writePolicy(t, dir, moduleFor("fixed"))
			if err := m.Reload(context.Background()); err != nil {
				t.Fatalf("Reload of the fixed bundle: %v", err)
			}
			if got := decideReason(t, m); got != "fixed" {
				t.Errorf("decision reason = %q, want fixed", got)
			}
			if st := m.Status(); st.Active.LastError != "" {
				t.Errorf("LastError = %q after a good reload, want none", st.Active.LastError)
			}
		})
	}
}

func TestManagerShadow(t *testing.T) {
	active, shadow := t.TempDir(), t.TempDir()
	writePolicy(t, active, moduleFor("active"))
	writePolicy(t, shadow, moduleFor("candidate"))

	m, err := NewManager(context.Background(), ManagerOptions{Active: &DirSource{Path: active}, Shadow: &DirSource{Path: shadow}})
	if err != nil {
		t.Fatal(err)
	}
	if m.Shadow() == nil {
		t.Fatal("Shadow() = nil, want the candidate")
	}
	if m.Status().Shadow == nil || m.Status().Shadow.Revision == "" {
		t.Errorf("status lacks the shadow source: %+v", m.Status())
	}

	broken := t.TempDir()
	writePolicy(t, broken, "package phigate\n\ndecision := {\n")
	m, err = NewManager(context.Background(), ManagerOptions{Active: &DirSource{Path: active}, Shadow: &DirSource{Path: broken}})
	if err != nil {
		t.Fatalf("a broken shadow bundle stopped the manager: %v", err)
	}
	if m.Shadow() != nil {
		t.Error("Shadow() returned an engine for a broken bundle")
	}
	if m.Status().Shadow.LastError == "" {
		t.Error("status does not report the shadow bundle's error")
	}
}

// A bundle that compiles but cannot decide would deny every request; the
// self-test rejects it and the last good policy stays.
func TestManagerRejectsBundleThatCannotDecide(t *testing.T) {
	tests := []struct {
		name   string
		module string
	}{
		{"conflicting complete rules", moduleFor("a") + "\ndecision := {\"action\": \"deny\", \"reasons\": [\"b\"]}\n"},
		{"undefined decision", "package phigate\n\ndecision := d if {\n\tinput.request.nosuch\n\td := {\"action\": \"deny\", \"reasons\": [\"x\"]}\n}\n"},
		{"invalid decision", "package phigate\n\ndecision := {\"action\": \"route\", \"reasons\": [\"x\"]}\n"},
		{"runtime error", "package phigate\n\ndecision := {\"action\": \"deny\", \"reasons\": [sprintf(\"%d\", [1 / input.phi.total])]}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writePolicy(t, dir, moduleFor("good"))
			m, err := NewManager(context.Background(), ManagerOptions{Active: &DirSource{Path: dir}})
			if err != nil {
				t.Fatal(err)
			}

			writePolicy(t, dir, tt.module)
			err = m.Reload(context.Background())

			if err == nil || !strings.Contains(err.Error(), "self-test") {
				t.Fatalf("Reload error = %v, want a self-test failure", err)
			}
			if got := decideReason(t, m); got != "good" {
				t.Errorf("decision reason = %q, want the last good policy's", got)
			}
		})
	}
}
