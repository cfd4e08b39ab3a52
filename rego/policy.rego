# Default phigate policy.
#
# phigate queries data.phigate.decision once per request. The input document
# describes the request, the PHI found in it (types and counts, never values),
# health context, a risk score and the provider registry; README.md in this
# directory documents it, and policy/schema/ in the repository has its JSON
# Schema. Settings, templates, tenant overrides and risk weights are data, in
# phigate/settings/data.json.
package phigate

# A request that matches no rule below is denied.
default decision := {
	"action": "deny",
	"status": 403,
	"reasons": ["no policy rule allowed the request"],
}

# Settings: the bundle's, with the tenant's overrides merged over them.
default base_settings := {}

base_settings := data.phigate.settings

tenant_settings := object.get(object.get(base_settings, "tenants", {}), object.get(input.request, "tenant", ""), {})

effective_settings := object.union(base_settings, tenant_settings) if {
	count(tenant_settings) > 0
} else := base_settings

# Purpose of use: a verified JWT claim first, then the client's header, then
# the tenant's or bundle's default.
purpose := p if {
	p := input.request.claims[object.get(effective_settings, "purpose_claim", "purpose_of_use")]
	is_string(p)
	p != ""
} else := p if {
	p := object.get(input.request, "purpose", "")
	p != ""
} else := object.get(effective_settings, "default_purpose", "")

# Each known purpose has a template; any other purpose gets "strict".
template := purpose if {
	purpose in {"treatment", "payment", "operations", "research", "marketing"}
} else := "strict"

template_settings := object.get(object.get(effective_settings, "templates", {}), template, {})

requested := input.providers[input.request.requested_provider]

has_phi if input.phi.total > 0

found_types := sort(object.keys(input.phi.types))

# no_baa_action is what happens to PHI bound for a provider without a BAA
# when no BAA-covered provider can take it (see baa_alternative): "redact"
# or "deny". The strict template always denies.
no_baa_action := object.get(effective_settings, "no_baa_action", "deny")

# A provider is in region when the settings name no regions, or when one of
# its regions is allowed. The set is built once per decision.
allowed_regions := {r | some r in effective_settings.regions}

region_limited if effective_settings.regions

in_region(_) if not region_limited

in_region(p) if {
	some r in p.regions
	allowed_regions[r]
}

requested_in_region if in_region(requested)

# serves(p) is true when provider p serves the request's API, by its own
# format or, for chat, by translation. Requests to unrecognised paths go
# only to providers of the client's format, as do all requests when the
# input lists no APIs for a provider.
serves(p) if input.request.api in p.apis

serves(p) if {
	object.get(p, "apis", null) == null
	p.format == requested.format
}

serves(p) if {
	input.request.api == "unknown"
	p.format == requested.format
}

# reroute_across_formats lets PHI go to a BAA-covered provider of the other
# wire format, with the request translated, when none of the client's
# format is allowed. It is off unless the settings turn it on, because it
# changes the model vendor the application asked for.
default reroute_across_formats := false

reroute_across_formats := object.get(effective_settings, "reroute_across_formats", false)

# baa_alternative is the provider that takes PHI instead of the requested
# one: BAA-covered, in region, serving the API. The client's wire format
# comes first, then (when allowed) the other one; within each, zero data
# retention wins, then the name that sorts first.
baa_candidates := {name | some name, p in input.providers; p.baa; in_region(p); serves(p)}

baa_alternative := min(s) if {
	s := {n | some n in baa_candidates; input.providers[n].format == requested.format; input.providers[n].zero_data_retention}
	count(s) > 0
} else := min(s) if {
	s := {n | some n in baa_candidates; input.providers[n].format == requested.format}
	count(s) > 0
} else := min(s) if {
	reroute_across_formats
	s := {n | some n in baa_candidates; input.providers[n].zero_data_retention}
	count(s) > 0
} else := min(baa_candidates) if {
	reroute_across_formats
}

# region_alternative takes a request without PHI whose provider is out of
# region: same wire format, in region, serving the API, the name that
# sorts first.
region_alternative := min({name | some name, p in input.providers; p.format == requested.format; in_region(p); serves(p)})

# Types masked even on the way to a BAA-covered provider, because the
# template's purpose does not need them (HIPAA's minimum necessary rule).
unneeded_types := object.get(template_settings, "redact_types", [])

# found_types is sorted, so this is too.
minimum_necessary_types := [t | some t in found_types; t in unneeded_types]

# redact_operator is how values are removed on the way to a provider:
# "mask" replaces each with its type, "pseudonymize" with a numbered
# placeholder that phigate puts back into the response. The template's
# setting wins over the tenant's and bundle's. Research always masks.
redact_operator := object.get(template_settings, "redact_operator", object.get(effective_settings, "redact_operator", "mask"))

# forward routes the request to provider name, masking the types the
# template does not need.
forward(name, reason) := d if {
	count(minimum_necessary_types) == 0
	d := {"action": "allow", "provider": name, "reasons": [reason], "template": template}
} else := {
	"action": "redact",
	"provider": name,
	"redact": {"types": minimum_necessary_types, "operator": redact_operator},
	"reasons": [reason, sprintf("%s: masked %s, which the purpose does not need", [template, concat(", ", minimum_necessary_types)])],
	"template": template,
}

deny(status, reason) := {"action": "deny", "status": status, "reasons": [reason], "template": template}

# response_redact_types are the PHI types masked in the model's output when
# the request did not contain the same value; the template's setting wins
# over the tenant's and the bundle's.
response_redact_types := object.get(template_settings, "response_redact_types", object.get(effective_settings, "response_redact_types", []))

# decision is the routing decision, with response_redact added to allow and
# redact decisions when response_redact_types is not empty.
decision := d if {
	d0 := routing_decision
	d0.action != "deny"
	count(response_redact_types) > 0
	d := object.union(d0, {"response_redact": {"types": response_redact_types}})
} else := routing_decision

# The decision chain. A rule applies only when none above it does, so the
# order is the policy, and README.md lists it. Requests without PHI and
# with PHI take separate chains, which saves testing for PHI at every
# step.
routing_decision := d if {
	not requested
	d := deny(400, sprintf("unknown provider %q", [input.request.requested_provider]))
} else := d if {
	not input.request.body_valid
	input.request.api != "unknown"
	d := deny(400, "request body is not valid JSON")
} else := clean_decision if {
	not has_phi
} else := phi_decision if {
	has_phi
}

clean_decision := forward(input.request.requested_provider, "no PHI found") if {
	requested_in_region
} else := d if {
	name := region_alternative
	d := forward(name, sprintf("%s is outside the regions allowed for this tenant; rerouted to %s", [input.request.requested_provider, name]))
} else := deny(403, sprintf("no %s provider is in the regions allowed for this tenant", [requested.format]))

phi_decision := deny(403, "PHI may not be used for marketing without the patient's written authorization") if {
	template == "marketing"
} else := d if {
	template == "research"
	requested_in_region
	d := {
		"action": "redact",
		"provider": input.request.requested_provider,
		"redact": {"types": found_types, "operator": "mask"},
		"reasons": [sprintf("research: only de-identified data may be used; masked %s", [concat(", ", found_types)])],
		"template": template,
	}
} else := d if {
	requested.baa
	requested_in_region
	d := forward(input.request.requested_provider, "PHI found; the requested provider has a BAA")
} else := d if {
	name := baa_alternative
	d := forward(name, sprintf("PHI found; rerouted from %s to %s, which has a BAA and is in region", [input.request.requested_provider, name]))
} else := d if {
	template == "strict"
	d := deny(403, sprintf("PHI found (%s) and no BAA-covered %s provider is allowed; purposes other than treatment, payment, operations and research get the strict template", [concat(", ", found_types), requested.format]))
} else := d if {
	no_baa_action == "redact"
	requested_in_region
	d := {
		"action": "redact",
		"provider": input.request.requested_provider,
		"redact": {"types": found_types, "operator": redact_operator},
		"reasons": [sprintf("PHI found and no BAA-covered %s provider is allowed; masked %s", [requested.format, concat(", ", found_types)])],
		"template": template,
	}
} else := deny(403, sprintf("PHI found (%s) and no BAA-covered %s provider is allowed", [concat(", ", found_types), requested.format]))
