package policy

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/bundle"
)

// maxBundleBytes bounds a bundle archive or directory read into memory.
const maxBundleBytes = 64 << 20

// Source is a place a policy bundle is read from.
type Source interface {
	// Fetch returns the bundle and a version string that changes whenever
	// the bundle does. When the version equals since, Fetch may return a
	// nil bundle: the caller keeps the one it has. When the bundle was
	// read but is invalid (it does not parse or verify), Fetch returns its
	// version with the error, so that a caller can tell the same broken
	// bundle from a new one.
	Fetch(ctx context.Context, since string) (b *bundle.Bundle, version string, err error)
	// String describes the source for logs, without credentials.
	String() string
}

// NewSource returns the Source for location: an http:// or https:// URL of
// a bundle archive, a .tar.gz bundle archive, or a bundle directory.
// verify, when not nil, is required to pass for every bundle read. header
// is sent with every request to a bundle server.
func NewSource(location string, verify *bundle.VerificationConfig, header http.Header) Source {
	switch {
	case strings.HasPrefix(location, "http://") || strings.HasPrefix(location, "https://"):
		return &HTTPSource{URL: location, Verification: verify, Header: header}
	case strings.HasSuffix(location, ".tar.gz") || strings.HasSuffix(location, ".tgz"):
		return &FileSource{Path: location, Verification: verify}
	default:
		return &DirSource{Path: location, Verification: verify}
	}
}

// read parses a bundle with OPA's reader, verifying its signatures when
// verify is set. Without verify, signatures are not checked.
func read(loader bundle.DirectoryLoader, verify *bundle.VerificationConfig) (*bundle.Bundle, error) {
	r := bundle.NewCustomReader(loader.WithSizeLimitBytes(maxBundleBytes)).
		WithSizeLimitBytes(maxBundleBytes).
		WithSkipBundleVerification(verify == nil)
	if verify != nil {
		r = r.WithBundleVerificationConfig(verify)
	}
	b, err := r.Read()
	if err != nil {
		return nil, err
	}
	return &b, nil
}

// readArchive parses a bundle archive (.tar.gz) held in memory.
func readArchive(data []byte, verify *bundle.VerificationConfig) (*bundle.Bundle, error) {
	return read(bundle.NewTarballLoaderWithBaseURL(bytes.NewReader(data), ""), verify)
}

// digest returns the hex SHA-256 of data, the version of an archive.
func digest(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// DirSource reads a bundle directory, as `opa build` or `opa test` would
// see it: .rego modules, data.json and data.yaml files, and optional
// .manifest and .signatures.json.
type DirSource struct {
	Path         string
	Verification *bundle.VerificationConfig
}

func (s *DirSource) String() string { return "directory " + s.Path }

// Fetch returns the bundle unless the directory's content digest equals
// since.
func (s *DirSource) Fetch(_ context.Context, since string) (*bundle.Bundle, string, error) {
	version, err := dirDigest(s.Path)
	if err != nil {
		return nil, "", fmt.Errorf("reading policy %s: %w", s, err)
	}
	if version == since {
		return nil, since, nil
	}
	loader := bundle.NewDirectoryLoader(s.Path)
	if s.Verification == nil {
		// Unsigned directories are usually working copies with their
		// tests beside the policy; leave the tests out. A signed bundle is
		// read whole, because its signature covers every file.
		loader = loader.WithFilter(func(_ string, info fs.FileInfo, _ int) bool {
			return !info.IsDir() && strings.HasSuffix(info.Name(), "_test.rego")
		})
	}
	b, err := read(loader, s.Verification)
	if err != nil {
		return nil, version, fmt.Errorf("reading policy %s: %w", s, err)
	}
	return b, version, nil
}

// dirDigest hashes the names and contents of every regular file under dir.
func dirDigest(dir string) (string, error) {
	var files []string
	total := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	slices.Sort(files)

	h := sha256.New()
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		total += len(data)
		if total > maxBundleBytes {
			return "", fmt.Errorf("bundle exceeds %d bytes", maxBundleBytes)
		}
		rel, _ := filepath.Rel(dir, f)
		fmt.Fprintf(h, "%s\x00%d\x00", filepath.ToSlash(rel), len(data))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// FileSource reads a bundle archive (.tar.gz) as `opa build` writes it.
type FileSource struct {
	Path         string
	Verification *bundle.VerificationConfig
}

func (s *FileSource) String() string { return "bundle file " + s.Path }

// Fetch returns the bundle unless the archive's digest equals since.
func (s *FileSource) Fetch(_ context.Context, since string) (*bundle.Bundle, string, error) {
	data, err := readLimited(s.Path)
	if err != nil {
		return nil, "", fmt.Errorf("reading policy %s: %w", s, err)
	}
	version := digest(data)
	if version == since {
		return nil, since, nil
	}
	b, err := readArchive(data, s.Verification)
	if err != nil {
		return nil, version, fmt.Errorf("reading policy %s: %w", s, err)
	}
	return b, version, nil
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxBundleBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxBundleBytes {
		return nil, fmt.Errorf("bundle exceeds %d bytes", maxBundleBytes)
	}
	return data, nil
}

// HTTPSource downloads a bundle archive from a bundle server, sending the
// last ETag in If-None-Match so an unchanged bundle costs one 304.
type HTTPSource struct {
	URL          string
	Verification *bundle.VerificationConfig
	// Client defaults to http.DefaultClient.
	Client *http.Client
	// Header is added to every request, for example Authorization.
	Header http.Header
}

// String returns the URL without user information, query or fragment,
// any of which may carry credentials.
func (s *HTTPSource) String() string {
	u, err := url.Parse(s.URL)
	if err != nil {
		return "bundle server (invalid URL)"
	}
	u.User, u.RawQuery, u.ForceQuery, u.Fragment = nil, "", false, ""
	return "bundle server " + u.String()
}

// Fetch downloads the bundle. The version is the response's ETag, or a
// digest of the body when the server sends none.
func (s *HTTPSource) Fetch(ctx context.Context, since string) (*bundle.Bundle, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL, nil)
	if err != nil {
		return nil, "", fmt.Errorf("policy %s: %w", s, err)
	}
	for k, v := range s.Header {
		req.Header[k] = v
	}
	if since != "" && !strings.HasPrefix(since, "sha256:") {
		req.Header.Set("If-None-Match", since)
	}
	client := s.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("downloading policy from %s: %w", s, err)
	}
	defer resp.Body.Close()

	switch resp.StatusCode {
	case http.StatusNotModified:
		return nil, since, nil
	case http.StatusOK:
	default:
		return nil, "", fmt.Errorf("downloading policy from %s: unexpected status %s", s, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBundleBytes+1))
	if err != nil {
		return nil, "", fmt.Errorf("downloading policy from %s: %w", s, err)
	}
	if len(data) > maxBundleBytes {
		return nil, "", fmt.Errorf("downloading policy from %s: bundle exceeds %d bytes", s, maxBundleBytes)
	}

	version := resp.Header.Get("ETag")
	if version == "" {
		version = "sha256:" + digest(data)
	}
	if version == since {
		return nil, since, nil
	}
	b, err := readArchive(data, s.Verification)
	if err != nil {
		return nil, version, fmt.Errorf("reading policy from %s: %w", s, err)
	}
	return b, version, nil
}
