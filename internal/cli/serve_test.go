package cli

import "testing"

func TestInsecureBundleServer(t *testing.T) {
	tests := []struct {
		location string
		want     bool
	}{
		{"http://bundles.example.internal/phigate.tar.gz", true},
		{"http://10.0.0.5:8080/phigate.tar.gz", true},
		{"https://bundles.example.internal/phigate.tar.gz", false},
		{"http://127.0.0.1:8080/phigate.tar.gz", false},
		{"http://[::1]:8080/phigate.tar.gz", false},
		{"http://localhost:8080/phigate.tar.gz", false},
		{"/etc/phigate/bundle.tar.gz", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := insecureBundleServer(tt.location); got != tt.want {
			t.Errorf("insecureBundleServer(%q) = %v, want %v", tt.location, got, tt.want)
		}
	}
}
