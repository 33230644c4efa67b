"""The API's own rules as schemathesis checks, on top of the built-in ones.

Importing this module registers them with schemathesis, so only the kit's suites import it.
"""

from __future__ import annotations

from typing import Any

import schemathesis

from contract_tests.audit import (
    DOCUMENTED_ENUM,
    INT64_AS_STRING,
    PAGING_LIMIT,
    TWIRP_ENVELOPE,
    TWIRP_STATUS,
    UNDOCUMENTED_ERROR_CODE,
    audit_answer,
)
from contract_tests.specfacts import facts

# Built-in checks turned off: they assume REST habits Twirp does not have (405 for a wrong method,
# resources at their own URLs, documented headers). The ones that stay: not_a_server_error,
# status_code_conformance, content_type_conformance, response_schema_conformance,
# negative_data_rejection, positive_data_acceptance, ignored_auth.
OTHER_BUILTIN_CHECKS = (
    "response_headers_conformance",
    "unsupported_method",
    "missing_required_header",
    "use_after_free",
    "ensure_resource_availability",
    "object_level_authorization",
    "allow_header_conformance",
)


def _enforce(case: Any, response: Any, rules: set[str]) -> None:
    op = facts().by_path(case.path)
    if op is None:
        return
    try:
        body = response.json()
    except ValueError:
        body = None
    request_body = case.body if isinstance(case.body, (dict, list)) else None
    broken = [
        str(f)
        for f in audit_answer(facts(), op, response.status_code, body, request_body)
        if f.rule in rules
    ]
    if broken:
        raise AssertionError("\n".join(broken))


@schemathesis.check
def twirp_errors(ctx: Any, response: Any, case: Any) -> bool | None:
    """Errors are Twirp's `{code, msg, meta}`, with the status Twirp's map gives the code."""
    _enforce(case, response, {TWIRP_ENVELOPE, TWIRP_STATUS, UNDOCUMENTED_ERROR_CODE})
    return None


@schemathesis.check
def int64_as_strings(ctx: Any, response: Any, case: Any) -> bool | None:
    """int64 fields (id, shop_id, user_id, oa_id) are decimal strings."""
    _enforce(case, response, {INT64_AS_STRING})
    return None


@schemathesis.check
def documented_enums(ctx: Any, response: Any, case: Any) -> bool | None:
    """Enum fields take only the values the spec lists (zero values included)."""
    _enforce(case, response, {DOCUMENTED_ENUM})
    return None


@schemathesis.check
def paging_limit_clamped(ctx: Any, response: Any, case: Any) -> bool | None:
    """`limit` 0 or absent means the default; above the maximum it is clamped to it."""
    _enforce(case, response, {PAGING_LIMIT})
    return None
