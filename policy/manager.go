package policy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Manager keeps the active policy, and optionally a shadow candidate, up to
// date with their sources.
//
// Reloading works like this:
//  1. Every poll interval, each source is asked for its bundle, passing the
//     version last loaded. An unchanged source returns no bundle.
//  2. A changed bundle is compiled into a new Engine.
//  3. On success the Engine replaces the old one with an atomic store.
//     Requests already holding the old Engine finish with it, so none is
//     dropped or decided by a half-loaded policy.
//  4. On failure the last good Engine stays in place; the error is logged
//     and kept in Status until a later load succeeds.
type Manager struct {
	opts   ManagerOptions
	active slot
	shadow slot
}

// ManagerOptions configures a Manager.
type ManagerOptions struct {
	Active Source
	// Shadow, when set, is a candidate bundle evaluated beside the active
	// one; its decisions are recorded but never applied.
	Shadow Source
	// Interval between polls; zero disables polling (Reload still works).
	Interval time.Duration
	Logger   *slog.Logger
	// OnLoad, when set, is called after every attempt to load a changed
	// bundle, with the slot ("active" or "shadow") and the error, if any;
	// phigate counts these in its metrics.
	OnLoad func(slot string, err error)
}

// slot is one source and the Engine last compiled from it.
type slot struct {
	name   string
	source Source
	engine atomic.Pointer[Engine]

	mu     sync.Mutex
	status SourceStatus
}

// SourceStatus reports the state of one policy source.
type SourceStatus struct {
	Source    string    `json:"source"`
	Revision  string    `json:"revision"`
	LoadedAt  time.Time `json:"loaded_at,omitzero"`
	CheckedAt time.Time `json:"checked_at,omitzero"`
	// LastError is the error of the latest failed check, empty once a
	// check succeeds again.
	LastError string `json:"last_error,omitempty"`
	// Failures counts failed checks since the start.
	Failures int `json:"failures"`
	// version is the source's content version of the loaded bundle.
	version string
	// failedVersion is the version of the last bundle that failed to
	// parse, verify or compile, and failedErr its error.
	failedVersion string
	failedErr     error
}

// Status reports both sources.
type Status struct {
	Active SourceStatus  `json:"active"`
	Shadow *SourceStatus `json:"shadow,omitempty"`
}

// NewManager loads the active bundle, and the shadow bundle if one is
// configured. The active bundle must load; a shadow bundle that fails is
// logged and retried at every poll.
func NewManager(ctx context.Context, opts ManagerOptions) (*Manager, error) {
	if opts.Active == nil {
		return nil, errors.New("creating policy manager: missing active policy source")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	m := &Manager{opts: opts}
	m.active.name, m.active.source = "active", opts.Active
	m.shadow.name, m.shadow.source = "shadow", opts.Shadow

	if err := m.active.reload(ctx, opts.Logger, opts.OnLoad); err != nil {
		return nil, err
	}
	if opts.Shadow != nil {
		_ = m.shadow.reload(ctx, opts.Logger, opts.OnLoad) // logged by reload; retried later
	}
	return m, nil
}

// Current returns the Engine that decides requests now.
func (m *Manager) Current() *Engine { return m.active.engine.Load() }

// Shadow returns the candidate Engine, or nil when there is none.
func (m *Manager) Shadow() *Engine { return m.shadow.engine.Load() }

// Reload checks every source once and returns the active source's error.
func (m *Manager) Reload(ctx context.Context) error {
	err := m.active.reload(ctx, m.opts.Logger, m.opts.OnLoad)
	if m.shadow.source != nil {
		_ = m.shadow.reload(ctx, m.opts.Logger, m.opts.OnLoad)
	}
	return err
}

// Run polls the sources until ctx ends.
func (m *Manager) Run(ctx context.Context) {
	if m.opts.Interval <= 0 {
		return
	}
	t := time.NewTicker(m.opts.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_ = m.Reload(ctx)
		}
	}
}

// Status returns a snapshot of both sources' state.
func (m *Manager) Status() Status {
	st := Status{Active: m.active.snapshot()}
	if m.shadow.source != nil {
		shadow := m.shadow.snapshot()
		st.Shadow = &shadow
	}
	return st
}

func (s *slot) snapshot() SourceStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status
}

// reload fetches and compiles the slot's bundle if it changed.
func (s *slot) reload(ctx context.Context, logger *slog.Logger, onLoad func(string, error)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status.Source = s.source.String()
	s.status.CheckedAt = time.Now().UTC()

	b, version, err := s.source.Fetch(ctx, s.status.version)
	if err == nil && b == nil {
		s.status.LastError = ""
		return nil
	}
	// A source whose version changed without a change of content, such
	// as a bundle server that starts sending ETags, needs no reload.
	if current := s.engine.Load(); err == nil && current != nil && current.sameBundle(b) {
		s.status.version = version
		s.status.LastError = ""
		return nil
	}
	// A bundle that failed before would fail again, so its error is
	// returned without another compile, log line or count. Sources
	// without ETags download it again at every poll.
	if version != "" && version == s.status.failedVersion {
		return s.status.failedErr
	}
	var engine *Engine
	if err == nil {
		engine, err = Compile(ctx, b, s.source.String())
	}
	if onLoad != nil {
		onLoad(s.name, err)
	}
	if err != nil {
		// version is empty when nothing was read, as when a download
		// fails. Such errors may pass, so each is reported.
		s.status.failedVersion = version
		s.status.LastError = err.Error()
		s.status.Failures++
		if current := s.engine.Load(); current != nil {
			logger.Error("policy reload failed; keeping the loaded policy", "policy", s.name, "revision", current.Revision(), "error", err)
			s.status.failedErr = fmt.Errorf("reloading %s policy: %w", s.name, err)
		} else {
			logger.Error("policy load failed", "policy", s.name, "error", err)
			s.status.failedErr = fmt.Errorf("loading %s policy: %w", s.name, err)
		}
		return s.status.failedErr
	}

	previous := s.engine.Swap(engine)
	s.status.version = version
	s.status.failedVersion, s.status.failedErr = "", nil
	s.status.Revision = engine.Revision()
	s.status.LoadedAt = s.status.CheckedAt
	s.status.LastError = ""
	if previous == nil {
		logger.Info("policy loaded", "policy", s.name, "source", s.source.String(), "revision", engine.Revision())
	} else {
		logger.Info("policy reloaded", "policy", s.name, "source", s.source.String(), "revision", engine.Revision(), "previous_revision", previous.Revision())
	}
	return nil
}
