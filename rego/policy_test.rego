package phigate_test

import data.phigate

registry := {
	"openai": {"name": "openai", "cluster": "openai", "format": "openai", "baa": false, "zero_data_retention": false},
	"openai-baa": {"name": "openai-baa", "cluster": "openai_baa", "format": "openai", "baa": true, "zero_data_retention": true},
	"anthropic": {"name": "anthropic", "cluster": "anthropic", "format": "anthropic", "baa": true, "zero_data_retention": false},
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
	reg := object.union(registry, {"openai-baa-2": {"name": "openai-baa-2", "cluster": "x", "format": "openai", "baa": true, "zero_data_retention": false}})
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
