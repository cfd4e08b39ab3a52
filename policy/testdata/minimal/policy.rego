# A bundle whose decision is a constant: BenchmarkDecide/minimal runs it
# to measure what every decision costs outside the policy's own rules.
package phigate

decision := {"action": "deny", "reasons": ["minimal bundle"]}
