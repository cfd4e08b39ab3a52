# Default phigate policy.
#
# phigate queries data.phigate.decision once per request. The input document
# describes the request, the PHI found in it (types and counts, never values),
# health context, a risk score and the provider registry; README.md in this
# directory documents it, and policy/schema/ in the repository has its JSON
# Schema. Settings, templates, tenant overrides and risk weights are data, in
# phigate/settings/data.json.
#
# Every rule here runs on the request path, so the rules compute each fact
# once (a rule's value is cached for the decision) and build decisions from
# those facts. README.md gives what a rule and a built-in call cost.
package phigate

# A request that matches no rule below is denied.
default decision := {
	"action": "deny",
	"status": 403,
	"reasons": ["no policy rule allowed the request"],
}

# Settings: the bundle's, with the tenant's entry under "tenants" merged
# over them.
default base_settings := {}

base_settings := data.phigate.settings

effective_settings := object.union(base_settings, overrides) if {
	overrides := base_settings.tenants[object.get(input.request, "tenant", "")]
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

# found_types is every PHI type found, sorted.
found_types := sort(object.keys(input.phi.types))

# Types removed even on the way to a BAA-covered provider, because the
# template's purpose does not need them (HIPAA's minimum necessary rule).
# Sorted, like found_types.
minimum_necessary_types := sort(object.keys(object.filter(input.phi.types, template_settings.redact_types))) if {
	template_settings.redact_types
} else := []

# redact_operator is how values are removed on the way to a provider:
# "mask" replaces each with its type, "pseudonymize" with a numbered
# placeholder that phigate puts back into the response. The template's
# setting wins over the tenant's and bundle's. Research always masks.
redact_operator := object.get(template_settings, "redact_operator", object.get(effective_settings, "redact_operator", "mask"))

# redact_verb names what redact_operator does, for reasons.
redact_verb := "pseudonymized" if {
	redact_operator == "pseudonymize"
} else := "masked"

# route_fields go into every allow and redact decision: the template, and
# response_redact when the template's, tenant's or bundle's
# response_redact_types is not empty. Those types are masked in the model's
# output when the request did not contain the same value.
route_fields := {"template": template, "response_redact": {"types": types}} if {
	types := object.get(template_settings, "response_redact_types", object.get(effective_settings, "response_redact_types", []))
	count(types) > 0
} else := {"template": template}

# in_region holds the names of the providers the tenant may use: those with
# one of the regions the settings allow, or all of them when the settings
# name no regions.
in_region := s if {
	regions := effective_settings.regions
	s := {name | some name, p in input.providers; some r in p.regions; r in regions}
} else := object.keys(input.providers)

requested_in_region if input.request.requested_provider in in_region

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

# baa_alternative is the provider that takes PHI instead of the requested
# one: BAA-covered, in region, serving the API. Providers of the client's
# wire format come first; those of the other format qualify only when
# reroute_across_formats is on, because the request is then translated and
# served by another vendor's model. Within each, zero data retention comes
# first, then the name that sorts first: sorting the [other format, without
# zero data retention, name] triples puts the best first.
baa_alternative := ranked[0][2] if {
	format := requested.format
	formats := {false, object.get(effective_settings, "reroute_across_formats", false)}
	ranked := sort([[other_format, without_zdr, name] |
		some name in in_region
		p := input.providers[name]
		p.baa
		other_format := p.format != format
		other_format in formats
		without_zdr := object.get(p, "zero_data_retention", false) == false
		serves(p)
	])
}

# region_alternative takes a request whose provider is out of region when
# no BAA is needed (no PHI, or research data with every type masked): same
# wire format, in region, serving the API, the name that sorts first.
region_alternative := min(s) if {
	format := requested.format
	s := {name | some name in in_region; p := input.providers[name]; p.format == format; serves(p)}
}

# forward sends the request to provider name, removing the types the
# template does not need with redact_operator.
forward(name, reason) := object.union({"action": "allow", "provider": name, "reasons": [reason]}, route_fields) if {
	count(minimum_necessary_types) == 0
} else := object.union(
	{
		"action": "redact",
		"provider": name,
		"redact": {"types": minimum_necessary_types, "operator": redact_operator},
		"reasons": [reason, sprintf("%s: %s %s, which the purpose does not need", [template, redact_verb, concat(", ", minimum_necessary_types)])],
	},
	route_fields,
)

# redact_all sends the request to provider name with every PHI type found
# removed by operator.
redact_all(name, operator, reason) := object.union(
	{
		"action": "redact",
		"provider": name,
		"redact": {"types": found_types, "operator": operator},
		"reasons": [reason],
	},
	route_fields,
)

# research_decision masks every type found, because research may use
# de-identified data only. Masked data needs no BAA, so the request goes to
# the requested provider if it is in region, else to an in-region provider
# of the same format. Without one, it is denied.
research_decision := redact_all(input.request.requested_provider, "mask", sprintf("research: only de-identified data may be used; masked %s", [concat(", ", found_types)])) if {
	requested_in_region
} else := d if {
	name := region_alternative
	d := redact_all(name, "mask", sprintf("research: only de-identified data may be used; masked %s; %s is outside the regions allowed for this tenant, rerouted to %s", [concat(", ", found_types), input.request.requested_provider, name]))
} else := deny(403, sprintf("research: no %s provider is in the regions allowed for this tenant", [requested.format]))

deny(status, reason) := {"action": "deny", "status": status, "reasons": [reason], "template": template}

# The decision chain. A rule applies only when none above it does, so the
# order is the policy, and README.md lists it. Requests without PHI and
# with PHI take separate chains, which saves testing for PHI at every
# step.
decision := d if {
	not requested
	d := deny(400, sprintf("unknown provider %q", [input.request.requested_provider]))
} else := d if {
	not input.request.body_valid
	input.request.api != "unknown"
	d := deny(400, "request body is not valid JSON")
} else := clean_decision if {
	not input.phi.total > 0
} else := phi_decision

clean_decision := forward(input.request.requested_provider, "no PHI found") if {
	requested_in_region
} else := d if {
	name := region_alternative
	d := forward(name, sprintf("%s is outside the regions allowed for this tenant; rerouted to %s", [input.request.requested_provider, name]))
} else := deny(403, sprintf("no %s provider is in the regions allowed for this tenant", [requested.format]))

phi_decision := deny(403, "PHI may not be used for marketing without the patient's written authorization") if {
	template == "marketing"
} else := research_decision if {
	template == "research"
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
	object.get(effective_settings, "no_baa_action", "deny") == "redact"
	requested_in_region
	d := redact_all(input.request.requested_provider, redact_operator, sprintf("PHI found and no BAA-covered %s provider is allowed; %s %s", [requested.format, redact_verb, concat(", ", found_types)]))
} else := deny(403, sprintf("PHI found (%s) and no BAA-covered %s provider is allowed", [concat(", ", found_types), requested.format]))
