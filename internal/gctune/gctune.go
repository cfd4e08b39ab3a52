// Package gctune sets the Go garbage collector's targets for a serving
// process.
//
// phigate keeps little live data (the name and place lists, the compiled
// policy, the audit writer's buffers) and allocates a lot per request, so
// with Go's default target (GOGC=100) the collector runs every few
// megabytes of allocation, and every request that overlaps a collection
// pays for it in latency. A higher target makes collections rarer at the
// cost of a larger heap. A soft memory limit taken from the container's
// cgroup keeps that heap below the container's hard limit. The
// GOGC and GOMEMLIMIT environment variables, when set, win over both, as
// operators of Go programs expect.
package gctune

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
)

// Settings are the collector targets to apply.
type Settings struct {
	// GCPercent is the heap growth target between collections, as GOGC:
	// 400 lets the heap grow to five times the live data. -1 turns the
	// target off, which only a memory limit then bounds.
	GCPercent int
	// MemoryLimit is "auto" (a share of the cgroup's memory limit, see
	// AutoPercent), "off", or a size in bytes with an optional unit, as
	// GOMEMLIMIT accepts: "512MiB", "2GiB", "1000000000".
	MemoryLimit string
}

// AutoPercent is the part of the cgroup memory limit, in percent, that
// "auto" sets as the soft limit. The rest is left to memory the collector
// does not manage: goroutine stacks, the runtime's own structures and cgo.
const AutoPercent = 90

// Applied reports what Apply set, for the start-up log.
type Applied struct {
	// GCPercent is the target in force, and GCPercentFrom where it came
	// from: "config" or "GOGC".
	GCPercent     int
	GCPercentFrom string
	// MemoryLimit is the soft limit in bytes, or math.MaxInt64 for none,
	// and MemoryLimitFrom where it came from: "config", "cgroup",
	// "GOMEMLIMIT" or "none".
	MemoryLimit     int64
	MemoryLimitFrom string
}

// Apply sets the collector's targets from s unless the environment, read
// through getenv, sets GOGC or GOMEMLIMIT; the runtime has then applied
// those itself. cgroupRoot is where the cgroup file system is mounted,
// "/sys/fs/cgroup" on Linux.
func Apply(s Settings, getenv func(string) string, cgroupRoot string) (Applied, error) {
	var a Applied
	if v := getenv("GOGC"); v != "" {
		// The runtime read GOGC at start; it is only reported here, parsed
		// as the runtime parses it: "off", a number, or else 100.
		a.GCPercent, a.GCPercentFrom = 100, "GOGC"
		if v == "off" {
			a.GCPercent = -1
		} else if n, err := strconv.Atoi(v); err == nil {
			a.GCPercent = n
		}
	} else {
		if !ValidGCPercent(s.GCPercent) {
			return a, fmt.Errorf("gc_percent %d: want a positive percentage or -1", s.GCPercent)
		}
		debug.SetGCPercent(s.GCPercent)
		a.GCPercent, a.GCPercentFrom = s.GCPercent, "config"
	}

	if getenv("GOMEMLIMIT") != "" {
		a.MemoryLimit, a.MemoryLimitFrom = debug.SetMemoryLimit(-1), "GOMEMLIMIT"
		return a, nil
	}
	limit, from, err := memoryLimit(s.MemoryLimit, cgroupRoot)
	if err != nil {
		return a, err
	}
	// GOGC=off from the environment is the operator's explicit choice, as
	// it is for any Go program, so only the configuration's -1 needs a limit.
	if a.GCPercent == -1 && a.GCPercentFrom == "config" && limit == math.MaxInt64 {
		return a, errors.New("gc_percent -1 needs a memory limit, and none is set or found in the cgroup")
	}
	debug.SetMemoryLimit(limit)
	a.MemoryLimit, a.MemoryLimitFrom = limit, from
	return a, nil
}

// ValidGCPercent reports whether p is a valid GCPercent: positive, or -1
// for no target.
func ValidGCPercent(p int) bool {
	return p > 0 || p == -1
}

// memoryLimit resolves the memory_limit setting to bytes and its source.
func memoryLimit(setting, cgroupRoot string) (int64, string, error) {
	switch setting {
	case "", "auto":
		hard, ok, err := CgroupMemoryLimit(cgroupRoot)
		if err != nil {
			return 0, "", err
		}
		if !ok {
			return math.MaxInt64, "none", nil
		}
		return hard / 100 * AutoPercent, "cgroup", nil
	case "off":
		return math.MaxInt64, "none", nil
	}
	n, err := ParseSize(setting)
	if err != nil {
		return 0, "", err
	}
	return n, "config", nil
}

// CgroupMemoryLimit returns the memory limit of the process's cgroup, read
// from cgroupRoot: memory.max under cgroup v2, memory/memory.limit_in_bytes
// under v1. It reports false when neither file exists or the limit is
// unlimited ("max", or the near-2^63 value v1 uses for no limit).
func CgroupMemoryLimit(cgroupRoot string) (int64, bool, error) {
	for _, name := range []string{"memory.max", filepath.Join("memory", "memory.limit_in_bytes")} {
		data, err := os.ReadFile(filepath.Join(cgroupRoot, name))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return 0, false, fmt.Errorf("reading the cgroup memory limit: %w", err)
		}
		v := strings.TrimSpace(string(data))
		if v == "max" {
			return 0, false, nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return 0, false, fmt.Errorf("cgroup memory limit %s: invalid value %q", name, v)
		}
		// cgroup v1 reports no limit as the largest page-aligned int64.
		if n >= 1<<62 {
			return 0, false, nil
		}
		return n, true, nil
	}
	return 0, false, nil
}

// sizeUnits are the units GOMEMLIMIT accepts.
var sizeUnits = []struct {
	suffix string
	factor int64
}{
	{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1},
}

// ParseSize parses a byte count with an optional unit (B, KiB, MiB, GiB,
// TiB), as GOMEMLIMIT does: "512MiB", "1GiB", "1048576".
func ParseSize(s string) (int64, error) {
	digits, factor := s, int64(1)
	for _, u := range sizeUnits {
		if strings.HasSuffix(s, u.suffix) {
			digits, factor = strings.TrimSuffix(s, u.suffix), u.factor
			break
		}
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n <= 0 || digits[0] == '+' {
		return 0, fmt.Errorf("memory size %q: want a positive whole number of bytes, optionally with a unit (B, KiB, MiB, GiB, TiB)", s)
	}
	if n > math.MaxInt64/factor {
		return 0, fmt.Errorf("memory size %q is too large", s)
	}
	return n * factor, nil
}
