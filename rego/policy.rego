# Default phigate policy.
#
# phigate queries data.phigate.decision once per request. The input document
# describes the request, the PHI found in it (types and counts, never values),
# a risk score and the provider registry; see README.md in this directory.
package phigate

# A request that matches no rule below is denied.
default decision := {
	"action": "deny",
	"status": 403,
	"reasons": ["no policy rule allowed the request"],
}

requested := input.providers[input.request.requested_provider]

has_phi if input.phi.total > 0

found_types := sort(object.keys(input.phi.types))

# no_baa_action is what happens to PHI bound for a provider without a BAA
# when no BAA-covered provider of the same wire format exists: "redact" or
# "deny". Set it in phigate/settings/data.json.
no_baa_action := object.get(data.phigate.settings, "no_baa_action", "deny")

# BAA-covered providers that speak the requested provider's wire format,
# zero-data-retention ones first, each group sorted by name so the choice is
# stable.
baa_alternatives := array.concat(
	sort([name | some name, p in input.providers; p.baa; p.format == requested.format; p.zero_data_retention]),
	sort([name | some name, p in input.providers; p.baa; p.format == requested.format; not p.zero_data_retention]),
)

decision := d if {
	not requested
	d := {
		"action": "deny",
		"status": 400,
		"reasons": [sprintf("unknown provider %q", [input.request.requested_provider])],
	}
} else := d if {
	not input.request.body_valid
	input.request.api != "unknown"
	d := {
		"action": "deny",
		"status": 400,
		"reasons": ["request body is not valid JSON"],
	}
} else := d if {
	has_phi
	input.request.purpose == "marketing"
	d := {
		"action": "deny",
		"status": 403,
		"reasons": ["PHI may not be used for marketing without the patient's written authorization"],
	}
} else := d if {
	not has_phi
	d := {
		"action": "allow",
		"provider": input.request.requested_provider,
		"reasons": ["no PHI found"],
	}
} else := d if {
	requested.baa
	d := {
		"action": "allow",
		"provider": input.request.requested_provider,
		"reasons": ["PHI found; the requested provider has a BAA"],
	}
} else := d if {
	count(baa_alternatives) > 0
	d := {
		"action": "allow",
		"provider": baa_alternatives[0],
		"reasons": [sprintf("PHI found; rerouted from %s, which has no BAA, to %s", [input.request.requested_provider, baa_alternatives[0]])],
	}
} else := d if {
	no_baa_action == "redact"
	d := {
		"action": "redact",
		"provider": input.request.requested_provider,
		"redact": {"types": found_types, "operator": "mask"},
		"reasons": [sprintf("PHI found and no BAA-covered %s provider is configured; masked %s", [requested.format, concat(", ", found_types)])],
	}
} else := d if {
	d := {
		"action": "deny",
		"status": 403,
		"reasons": [sprintf("PHI found (%s) and no BAA-covered %s provider is configured", [concat(", ", found_types), requested.format])],
	}
}
