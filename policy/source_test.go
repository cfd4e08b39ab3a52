package policy

import "testing"

func TestHTTPSourceStringHidesCredentials(t *testing.T) {
	tests := []struct {
		url  string
		want string
	}{
		{"https://bundles.example.internal/phigate.tar.gz", "bundle server https://bundles.example.internal/phigate.tar.gz"},
		{"https://release:s3cret@bundles.example.internal/phigate.tar.gz", "bundle server https://bundles.example.internal/phigate.tar.gz"},
		{"https://bundles.example.internal/phigate.tar.gz?token=s3cret#part", "bundle server https://bundles.example.internal/phigate.tar.gz"},
		{"https://bundles.example.internal/%zz", "bundle server (invalid URL)"},
	}
	for _, tt := range tests {
		if got := (&HTTPSource{URL: tt.url}).String(); got != tt.want {
			t.Errorf("String() of %q = %q, want %q", tt.url, got, tt.want)
		}
	}
}
