package gctune

import (
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr string
	}{
		{in: "1048576", want: 1 << 20},
		{in: "512MiB", want: 512 << 20},
		{in: "2GiB", want: 2 << 30},
		{in: "1TiB", want: 1 << 40},
		{in: "64KiB", want: 64 << 10},
		{in: "100B", want: 100},
		{in: "", wantErr: "want a positive whole number"},
		{in: "0", wantErr: "want a positive whole number"},
		{in: "-5MiB", wantErr: "want a positive whole number"},
		{in: "+5MiB", wantErr: "want a positive whole number"},
		{in: "1.5GiB", wantErr: "want a positive whole number"},
		{in: "512MB", wantErr: "want a positive whole number"},
		{in: "MiB", wantErr: "want a positive whole number"},
		{in: "9000000TiB", wantErr: "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSize(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseSize(%q) = %d, %v; want an error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestCgroupMemoryLimit(t *testing.T) {
	tests := []struct {
		root   string
		want   int64
		wantOK bool
	}{
		{root: "testdata/cgroup-v2", want: 512 << 20, wantOK: true},
		{root: "testdata/cgroup-v2-max"},
		{root: "testdata/cgroup-v1", want: 1 << 30, wantOK: true},
		{root: "testdata/cgroup-v1-unlimited"},
		{root: "testdata/none"},
		{root: "testdata/no-such-dir"},
	}
	for _, tt := range tests {
		t.Run(tt.root, func(t *testing.T) {
			got, ok, err := CgroupMemoryLimit(tt.root)
			if err != nil || got != tt.want || ok != tt.wantOK {
				t.Fatalf("CgroupMemoryLimit = %d, %v, %v; want %d, %v, nil", got, ok, err, tt.want, tt.wantOK)
			}
		})
	}
}

func TestCgroupMemoryLimitRejectsGarbage(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir+"/memory.max", "lots\n")
	if _, _, err := CgroupMemoryLimit(dir); err == nil || !strings.Contains(err.Error(), `invalid value "lots"`) {
		t.Fatalf("CgroupMemoryLimit on garbage: error %v, want one naming the value", err)
	}
}

func TestApply(t *testing.T) {
	// Apply changes process-wide settings; put them back afterwards.
	oldPercent := debug.SetGCPercent(100)
	oldLimit := debug.SetMemoryLimit(-1)
	t.Cleanup(func() {
		debug.SetGCPercent(oldPercent)
		debug.SetMemoryLimit(oldLimit)
	})

	tests := []struct {
		name      string
		settings  Settings
		env       map[string]string
		root      string
		want      Applied
		wantErr   string
		wantLimit int64
	}{
		{
			name:     "defaults in a 512 MiB container",
			settings: Settings{GCPercent: 400, MemoryLimit: "auto"},
			root:     "testdata/cgroup-v2",
			want:     Applied{GCPercent: 400, GCPercentFrom: "config", MemoryLimit: (512 << 20) / 100 * AutoPercent, MemoryLimitFrom: "cgroup"},
		},
		{
			name:     "defaults without a cgroup limit",
			settings: Settings{GCPercent: 400, MemoryLimit: "auto"},
			root:     "testdata/cgroup-v2-max",
			want:     Applied{GCPercent: 400, GCPercentFrom: "config", MemoryLimit: math.MaxInt64, MemoryLimitFrom: "none"},
		},
		{
			name:     "explicit limit",
			settings: Settings{GCPercent: 200, MemoryLimit: "256MiB"},
			root:     "testdata/cgroup-v2",
			want:     Applied{GCPercent: 200, GCPercentFrom: "config", MemoryLimit: 256 << 20, MemoryLimitFrom: "config"},
		},
		{
			name:     "limit off",
			settings: Settings{GCPercent: 400, MemoryLimit: "off"},
			root:     "testdata/cgroup-v2",
			want:     Applied{GCPercent: 400, GCPercentFrom: "config", MemoryLimit: math.MaxInt64, MemoryLimitFrom: "none"},
		},
		{
			name:     "environment wins",
			settings: Settings{GCPercent: 400, MemoryLimit: "auto"},
			env:      map[string]string{"GOGC": "150", "GOMEMLIMIT": "1GiB"},
			root:     "testdata/cgroup-v2",
			want:     Applied{GCPercent: 150, GCPercentFrom: "GOGC", MemoryLimit: math.MaxInt64, MemoryLimitFrom: "GOMEMLIMIT"},
		},
		{
			name:     "GOGC off",
			settings: Settings{GCPercent: 400, MemoryLimit: "off"},
			env:      map[string]string{"GOGC": "off"},
			root:     "testdata/none",
			want:     Applied{GCPercent: -1, GCPercentFrom: "GOGC", MemoryLimit: math.MaxInt64, MemoryLimitFrom: "none"},
		},
		{
			name:     "invalid GOGC reads as 100",
			settings: Settings{GCPercent: 400, MemoryLimit: "off"},
			env:      map[string]string{"GOGC": "lots"},
			root:     "testdata/none",
			want:     Applied{GCPercent: 100, GCPercentFrom: "GOGC", MemoryLimit: math.MaxInt64, MemoryLimitFrom: "none"},
		},
		{
			name:     "collector off with a limit",
			settings: Settings{GCPercent: -1, MemoryLimit: "auto"},
			root:     "testdata/cgroup-v1",
			want:     Applied{GCPercent: -1, GCPercentFrom: "config", MemoryLimit: (1 << 30) / 100 * AutoPercent, MemoryLimitFrom: "cgroup"},
		},
		{
			name:     "collector off without a limit",
			settings: Settings{GCPercent: -1, MemoryLimit: "auto"},
			root:     "testdata/none",
			wantErr:  "needs a memory limit",
		},
		{
			name:     "invalid percent",
			settings: Settings{GCPercent: -5},
			root:     "testdata/none",
			wantErr:  "gc_percent -5",
		},
		{
			name:     "invalid size",
			settings: Settings{GCPercent: 400, MemoryLimit: "lots"},
			root:     "testdata/none",
			wantErr:  `memory size "lots"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			debug.SetGCPercent(100)
			debug.SetMemoryLimit(math.MaxInt64)
			got, err := Apply(tt.settings, func(k string) string { return tt.env[k] }, tt.root)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Apply error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if got != tt.want {
				t.Errorf("Apply = %+v, want %+v", got, tt.want)
			}
			if tt.env["GOGC"] == "" {
				if p := debug.SetGCPercent(100); p != tt.want.GCPercent {
					t.Errorf("runtime GC percent %d, want %d", p, tt.want.GCPercent)
				}
			}
			if tt.env["GOMEMLIMIT"] == "" {
				if l := debug.SetMemoryLimit(-1); l != tt.want.MemoryLimit {
					t.Errorf("runtime memory limit %d, want %d", l, tt.want.MemoryLimit)
				}
			}
		})
	}
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"512MiB", "1", "0", "-1KiB", "1.5GiB", "9223372036854775807", "8EiB", "GiB"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseSize(s)
		if err != nil {
			return
		}
		if n <= 0 {
			t.Fatalf("ParseSize(%q) = %d, want a positive size", s, n)
		}
		// The count in bytes parses back to itself.
		if back, err := ParseSize(strconv.FormatInt(n, 10) + "B"); err != nil || back != n {
			t.Fatalf("ParseSize(%q) = %d, but %dB parses to %d, %v", s, n, n, back, err)
		}
	})
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
