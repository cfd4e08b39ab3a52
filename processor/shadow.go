package processor

import (
	"context"
	"slices"
	"time"

	"github.com/phigate/phigate/audit"
	"github.com/phigate/phigate/policy"
)

// shadowTimeout bounds a shadow evaluation, which runs after the active
// decision and must never hold resources for long.
const shadowTimeout = 2 * time.Second

// compareShadow evaluates the candidate policy on the same input in the
// background and, where its decision differs from the active one, logs it
// and appends a shadow record. The candidate never affects the request.
func (ex *exchange) compareShadow(shadow *policy.Engine, in policy.Input, active policy.Decision, activeErr error) {
	s := ex.s
	s.background.Add(1)
	go func() {
		defer s.background.Done()
		ctx, cancel := context.WithTimeout(context.Background(), shadowTimeout)
		defer cancel()
		growStack()

		// The candidate's risk weights are part of the candidate, so its
		// input carries a score from its own model.
		in.Risk = shadow.RiskModelFor(in.Request.Tenant).Score(in.PHI, in.Health, in.Providers[in.Request.RequestedProvider].BAA)
		candidate, err := shadow.Decide(ctx, in)
		if err == nil && activeErr == nil && sameDecision(active, candidate) {
			return
		}
		rec := &audit.Record{
			Kind:           audit.KindShadow,
			RequestID:      ex.id,
			Action:         candidate.Action,
			Provider:       candidate.Provider,
			Reasons:        candidate.Reasons,
			Template:       candidate.Template,
			PolicyRevision: shadow.Revision(),
			RedactedTypes:  redactedTypes(candidate),
		}
		if err != nil {
			rec.Error = "shadow policy error: " + err.Error()
		}
		s.metrics.shadowDiffs.Add(ctx, 1)
		ex.logger.Info("shadow policy decision differs",
			"active_action", active.Action, "active_provider", active.Provider,
			"shadow_action", candidate.Action, "shadow_provider", candidate.Provider,
			"active_redacted_types", redactedTypes(active), "shadow_redacted_types", redactedTypes(candidate),
			"shadow_revision", shadow.Revision())
		if err := s.opts.Audit.Append(ctx, rec); err != nil {
			s.metrics.auditErrors.Add(ctx, 1)
			ex.logger.Error("audit write failed for a shadow decision", "error", err)
		}
	}()
}

// sameDecision compares what two decisions do to the request; reasons and
// templates may differ in wording without changing the outcome.
func sameDecision(a, b policy.Decision) bool {
	if a.Action != b.Action || a.Provider != b.Provider || a.Model != b.Model || a.Status != b.Status {
		return false
	}
	return slices.Equal(redactedTypes(a), redactedTypes(b))
}

// redactedTypes returns the PHI types a decision removes, or nil.
func redactedTypes(d policy.Decision) []string {
	if d.Redact == nil {
		return nil
	}
	return d.Redact.Types
}
