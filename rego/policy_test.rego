package phigate_test

import data.phigate

# The APIs each kind of provider serves, as phigate lists them in the input.
openai_apis := ["openai.chat_completions", "openai.responses", "openai.embeddings", "anthropic.messages"]

anthropic_apis := ["anthropic.messages", "anthropic.count_tokens", "openai.chat_completions"]

registry := {
	"openai": {"name": "openai", "cluster": "openai", "format": "openai", "baa": false, "zero_data_retention": false, "apis": openai_apis},
	"openai-baa": {"name": "openai-baa", "cluster": "openai_baa", "format": "openai", "baa": true, "zero_data_retention": true, "apis": openai_apis},
	"anthropic": {"name": "anthropic", "cluster": "anthropic", "format": "anthropic", "baa": true, "zero_data_retention": false, "apis": anthropic_apis},
}

request(provider, phi_types) := request_to(provider, phi_types, registry)

request_to(provider, phi_types, providers) := {
	"request": {
		"api": "openai.chat_completions",
		"requested_provider": provider,
		"body_valid": true,
		"purpose": "",
	},
	"phi": {"total": sum([n | some n in phi_types]), "types": phi_types},
	"providers": providers,
}

test_clean_request_routes_as_requested if {
	d := phigate.decision with input as request("openai", {})
	d.action == "allow"
	d.provider == "openai"
}

test_phi_to_baa_provider_routes_as_requested if {
	doc := object.union(request("anthropic", {"SSN": 1}), {"request": {"api": "anthropic.messages", "requested_provider": "anthropic", "body_valid": true, "purpose": ""}})
	d := phigate.decision with input as doc
	d.action == "allow"
	d.provider == "anthropic"
}

test_phi_without_baa_reroutes_to_same_format if {
	d := phigate.decision with input as request("openai", {"NAME": 2, "DATE": 1})
	d.action == "allow"
	d.provider == "openai-baa"
}

test_phi_without_baa_alternative_is_redacted if {
	reg := object.remove(registry, ["openai-baa"])
	doc := request_to("openai", {"SSN": 1, "NAME": 1}, reg)
	d := phigate.decision with input as doc
	d.action == "redact"
	d.provider == "openai"
	d.redact.types == ["NAME", "SSN"]
	d.redact.operator == "pseudonymize"
	endswith(d.reasons[0], "pseudonymized NAME, SSN")
}

test_redact_operator_setting_masks if {
	reg := object.remove(registry, ["openai-baa"])
	doc := request_to("openai", {"SSN": 1}, reg)
	d := phigate.decision with input as doc with data.phigate.settings.redact_operator as "mask"
	d.action == "redact"
	d.redact.operator == "mask"
	endswith(d.reasons[0], "masked SSN")
}

test_research_masks_whatever_the_operator_setting if {
	doc := object.union(request("openai-baa", {"NAME": 1}), {"request": {"purpose": "research"}})
	d := phigate.decision with input as doc with data.phigate.settings.redact_operator as "pseudonymize"
	d.action == "redact"
	d.redact.operator == "mask"
}

test_phi_without_baa_alternative_denied_when_configured if {
	reg := object.remove(registry, ["openai-baa"])
	doc := request_to("openai", {"SSN": 1}, reg)
	d := phigate.decision with input as doc with data.phigate.settings.no_baa_action as "deny"
	d.action == "deny"
	d.status == 403
}

test_zero_data_retention_preferred if {
	reg := object.union(registry, {"openai-baa-2": {"name": "openai-baa-2", "cluster": "x", "format": "openai", "baa": true, "zero_data_retention": false, "apis": openai_apis}})
	doc := request_to("openai", {"SSN": 1}, reg)
	d := phigate.decision with input as doc
	d.provider == "openai-baa"
}

test_unknown_provider_denied if {
	d := phigate.decision with input as request("nosuch", {})
	d.action == "deny"
	d.status == 400
}

test_invalid_body_denied if {
	doc := object.union(request("openai", {}), {"request": {"api": "openai.chat_completions", "requested_provider": "openai", "body_valid": false}})
	d := phigate.decision with input as doc
	d.action == "deny"
	d.status == 400
}

test_invalid_body_on_unknown_api_is_scanned_as_text if {
	doc := object.union(request("openai", {}), {"request": {"api": "unknown", "requested_provider": "openai", "body_valid": false}})
	d := phigate.decision with input as doc
	d.action == "allow"
}

test_marketing_with_phi_denied if {
	doc := object.union(request("anthropic", {"NAME": 1}), {"request": {"api": "anthropic.messages", "requested_provider": "anthropic", "body_valid": true, "purpose": "marketing"}})
	d := phigate.decision with input as doc
	d.action == "deny"
	d.status == 403
}

test_marketing_without_phi_allowed if {
	doc := object.union(request("openai", {}), {"request": {"api": "openai.chat_completions", "requested_provider": "openai", "body_valid": true, "purpose": "marketing"}})
	d := phigate.decision with input as doc
	d.action == "allow"
}

with_purpose(doc, purpose) := object.union(doc, {"request": {"purpose": purpose}})

with_tenant(doc, tenant) := object.union(doc, {"request": {"tenant": tenant}})

test_default_purpose_is_treatment if {
	d := phigate.decision with input as request("openai", {"SSN": 1})
	d.template == "treatment"
	d.provider == "openai-baa"
}

test_treatment_reroutes_phi if {
	d := phigate.decision with input as with_purpose(request("openai", {"NAME": 1}), "treatment")
	d.action == "allow"
	d.provider == "openai-baa"
	d.template == "treatment"
}

test_payment_reroutes_phi if {
	d := phigate.decision with input as with_purpose(request("openai", {"HEALTH_PLAN_ID": 1}), "payment")
	d.action == "allow"
	d.provider == "openai-baa"
	d.template == "payment"
}

test_operations_masks_unneeded_identifiers if {
	d := phigate.decision with input as with_purpose(request("anthropic", {"NAME": 1, "SSN": 1}), "operations")
	d.action == "redact"
	d.provider == "anthropic"
	d.redact.types == ["SSN"]
}

test_operations_without_unneeded_identifiers_allowed if {
	d := phigate.decision with input as with_purpose(request("anthropic", {"NAME": 1}), "operations")
	d.action == "allow"
	d.provider == "anthropic"
}

test_research_masks_every_type_even_with_baa if {
	d := phigate.decision with input as with_purpose(request("anthropic", {"NAME": 2, "DATE": 1}), "research")
	d.action == "redact"
	d.provider == "anthropic"
	d.redact.types == ["DATE", "NAME"]
	d.template == "research"
}

test_research_without_phi_allowed if {
	d := phigate.decision with input as with_purpose(request("openai", {}), "research")
	d.action == "allow"
	d.provider == "openai"
}

test_unknown_purpose_is_strict if {
	reg := object.remove(registry, ["openai-baa"])
	d := phigate.decision with input as with_purpose(request_to("openai", {"NAME": 1}, reg), "curiosity")
	d.action == "deny"
	d.template == "strict"
}

test_strict_still_reroutes_to_baa if {
	d := phigate.decision with input as with_purpose(request("openai", {"NAME": 1}), "curiosity")
	d.action == "allow"
	d.provider == "openai-baa"
	d.template == "strict"
}

test_claim_overrides_header_purpose if {
	doc := object.union(with_purpose(request("anthropic", {"NAME": 1}), "treatment"), {"request": {"claims": {"purpose_of_use": "research"}}})
	d := phigate.decision with input as doc
	d.template == "research"
	d.action == "redact"
}

test_tenant_default_purpose if {
	d := phigate.decision with input as with_tenant(request("anthropic", {"NAME": 1}), "example-research-lab")
	d.template == "research"
	d.action == "redact"
}

test_tenant_header_purpose_wins_over_tenant_default if {
	doc := with_purpose(with_tenant(request("anthropic", {"NAME": 1}), "example-research-lab"), "treatment")
	d := phigate.decision with input as doc
	d.template == "treatment"
	d.action == "allow"
}

eu_registry := object.union(registry, {
	"openai-eu": {"name": "openai-eu", "cluster": "openai_eu", "format": "openai", "baa": true, "zero_data_retention": false, "regions": ["eu"], "apis": openai_apis},
	"openai": {"regions": ["us"]},
	"openai-baa": {"regions": ["us"]},
})

test_region_rule_reroutes_clean_request if {
	d := phigate.decision with input as with_tenant(request_to("openai", {}, eu_registry), "example-eu-clinic")
	d.action == "allow"
	d.provider == "openai-eu"
}

test_region_rule_reroutes_phi_to_baa_in_region if {
	d := phigate.decision with input as with_tenant(request_to("openai", {"NAME": 1}, eu_registry), "example-eu-clinic")
	d.action == "allow"
	d.provider == "openai-eu"
}

test_region_rule_denies_without_provider_in_region if {
	d := phigate.decision with input as with_tenant(request("openai", {}), "example-eu-clinic")
	d.action == "deny"
	d.status == 403
}

test_tenant_no_baa_action_override if {
	reg := {"openai": object.union(registry.openai, {"regions": ["eu"]})}
	d := phigate.decision with input as with_tenant(request_to("openai", {"NAME": 1}, reg), "example-eu-clinic")
	d.action == "deny"
}

test_phi_rerouted_across_formats_when_allowed if {
	reg := object.remove(registry, ["openai-baa"])
	doc := request_to("openai", {"SSN": 1}, reg)
	d := phigate.decision with input as doc with data.phigate.settings.reroute_across_formats as true
	d.action == "allow"
	d.provider == "anthropic"
}

test_phi_not_rerouted_across_formats_by_default if {
	reg := object.remove(registry, ["openai-baa"])
	doc := request_to("openai", {"SSN": 1}, reg)
	d := phigate.decision with input as doc
	d.action == "redact"
	d.provider == "openai"
}

test_alternative_must_serve_the_api if {
	# A BAA-covered provider that serves chat only cannot take embeddings.
	chat_only := object.union(registry, {"openai-baa": {"apis": ["openai.chat_completions"]}})
	doc := object.union(request_to("openai", {"SSN": 1}, chat_only), {"request": {"api": "openai.embeddings"}})
	d := phigate.decision with input as doc
	d.action == "redact"
	d.provider == "openai"
}

test_embeddings_never_rerouted_across_formats if {
	reg := object.remove(registry, ["openai-baa"])
	doc := object.union(request_to("openai", {"SSN": 1}, reg), {"request": {"api": "openai.embeddings"}})
	d := phigate.decision with input as doc with data.phigate.settings.reroute_across_formats as true
	d.provider == "openai"
}

test_response_redact_from_template if {
	doc := object.union(request("openai-baa", {}), {"request": {"purpose": "research"}})
	d := phigate.decision with input as doc
	d.action == "allow"
	"SSN" in d.response_redact.types
}

test_no_response_redact_by_default if {
	d := phigate.decision with input as request("openai-baa", {"NAME": 1})
	d.action == "allow"
	not d.response_redact
}

test_deny_has_no_response_redact if {
	doc := object.union(request("openai", {"NAME": 1}), {"request": {"purpose": "marketing"}})
	d := phigate.decision with input as doc with data.phigate.settings.response_redact_types as ["NAME"]
	d.action == "deny"
	not d.response_redact
}

test_research_out_of_region_rerouted_masked if {
	doc := with_purpose(with_tenant(request_to("openai", {"NAME": 1, "SSN": 1}, eu_registry), "example-eu-clinic"), "research")
	d := phigate.decision with input as doc
	d.action == "redact"
	d.provider == "openai-eu"
	d.redact.types == ["NAME", "SSN"]
	d.redact.operator == "mask"
}

test_research_without_provider_in_region_denied if {
	doc := with_purpose(with_tenant(request("openai", {"NAME": 1}), "example-eu-clinic"), "research")
	d := phigate.decision with input as doc
	d.action == "deny"
	d.status == 403
	d.template == "research"
}

test_reroute_to_provider_without_retention_field if {
	reg := {
		"openai": {"name": "openai", "cluster": "openai", "format": "openai", "baa": false, "apis": openai_apis},
		"openai-baa": {"name": "openai-baa", "cluster": "openai_baa", "format": "openai", "baa": true, "apis": openai_apis},
	}
	d := phigate.decision with input as request_to("openai", {"SSN": 1}, reg)
	d.action == "allow"
	d.provider == "openai-baa"
}
