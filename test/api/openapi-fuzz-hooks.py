"""A check of the API fuzz run (test/api/openapi-fuzz.redis.test.ts) that schemathesis has no setting for.

positive_data_acceptance lets a 400 through (see openapi-fuzz.toml), because a request the description
calls valid may still break a rule that no JSON Schema can state: one that depends on the token, the
clock, the records or DNS. This check holds such a 400 to that: every field and rule it names must be
one of those below, so that a rule the description could state but does not still fails the run.
"""

import json
import re

import schemathesis

# (field, rule) -> why the description cannot say it. Fields are regular expressions, matched whole.
RULES_BEYOND_THE_DESCRIPTION = {
    (r"team", "required"): "an admin token must name the team; a team token need not (it depends on the token)",
    (r"team|selector\.team", "own_team"): "a team token may name only its own team",
    (r"selector", "no_members"): "a rollout needs a live cluster that the selector takes (it depends on the records)",
    (r"clusters\..+", ".+"): "a rollout's change is checked on each cluster it takes, against that cluster's spec",
    (r"change\.spec\..+", "write_only"): "which spec fields are write-only (secrets) the blueprint says, per blueprint",
    (r"strategy\.stages", "unique"): "JSON Schema cannot say that one property is unique among the items of an array",
    (r"expiresAt", "future"): "the instant must be after now",
    (r"expiresAt|ttl", "max"): "a token lives at most ten years: an instant's bound moves with the clock, and a ttl's is one "
    "per unit (3650d, 87600h, 5256000m), which the duration pattern shared with clusters does not state",
    (r"expiresAt|ttl", "destroyable"): "the blueprint's destroy rules read the cluster's current spec",
    (r"spec(\..+)?", ".+"): "a blueprint checks its spec beyond its JSON Schema (unique pool names, CIDRs, rules across fields), "
    "a PATCH's spec is a merge patch checked once merged with the current spec, and a change or destroy "
    "is checked against the current spec",
    (r"(maintenance\.)?windows\.\d+\.timezone", "timezone"): "which time zones exist the time zone database says (IANA, as this runtime has it)",
    (r"(maintenance\.)?windows\.\d+\.duration", "max"): "the description states how a duration is written; its total across units "
    "(at most 7 days) no pattern states plainly",
    (r"(maintenance\.)?exclusions\.\d+\.end", "after_start"): "JSON Schema cannot compare two fields (an exclusion ends after it starts)",
    (r"allowExtendedSupport|change\.upgrade\.version", r"support\..+"): "which versions are in standard or extended support the "
    "blueprint's calendar says, by the day of the request",
    (r"query\.cursor", "cursor"): "a cursor is opaque: only one the service issued is valid",
    (r"query\.label", "conflict"): "two selectors of the same key with different values select nothing",
    (r"url", "internal_address"): "whether a host name is internal depends on what DNS answers",
    (r"url", "url"): "the description states how the URL is written; whether its host is a valid IPv4 address "
    "(when it ends in a number) or IPv6 literal, and its port at most 65535, only the WHATWG URL parser says",
    (r".*", "nul_character|unicode"): "the input rules hold every string of every request (no NUL, no lone surrogate: "
    "JSON Schema strings cannot even name a lone surrogate); the description states them once, in info",
    (r".*", "forbidden_key"): "no key of any object of any body may be __proto__, constructor or prototype: a free-form object "
    "(a spec, a merge patch of add-ons) can hold any key, and the description states the rule once, in info",
}


def _explained(field: str, rule: str) -> bool:
    # DOTALL: a key in a spec may hold any character, a newline included.
    return any(re.fullmatch(f, field, re.DOTALL) and re.fullmatch(r, rule) for f, r in RULES_BEYOND_THE_DESCRIPTION)


@schemathesis.check
def valid_data_refused_only_for_rules_beyond_the_description(ctx, response, case):
    """A schema-valid request answered 400 names only rules the description cannot state."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 400:
        return None
    try:
        problem = json.loads(response.content)
    except ValueError:
        raise AssertionError("400 without a problem document")
    issues = [(e.get("field", ""), e.get("rule", "")) for e in problem.get("errors") or []]
    unexplained = [f"{field}: {rule}" for field, rule in issues if not _explained(field, rule)]
    if not issues or unexplained:
        raise AssertionError(
            "Valid data (by the description) was refused for a rule the description could state: "
            + (", ".join(unexplained) or "no field named")
            + f"\n{problem.get('detail', '')}"
        )
    return None
