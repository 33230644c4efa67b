"""The enum values the lifecycle gives meaning to.

The spec lists every value; these names say which value means what. `check_against` runs at
start-up so a spec that drops or renames one of them stops the sandbox instead of misbehaving.
"""

from __future__ import annotations

from mock_server.spec import Spec

STATUS_SUCCESS = "P"
STATUS_FAILURE = "N"
REPLY_WAITING = "S"
REPLY_AGREED = "P"
REPLY_REJECTED = "N"
REPLY_NO_RESPONSE = "NS"
REPLY_UNSET = "Z"  # a request that failed at once was never put to the customer
DELIVERY_RECEIVED = "received"
DELIVERY_SEEN = "seen"

_NAMED = {
    "Status": (STATUS_SUCCESS, STATUS_FAILURE),
    "ReplyStatus": (REPLY_WAITING, REPLY_AGREED, REPLY_REJECTED, REPLY_NO_RESPONSE),
    "DeliveryStatus": (DELIVERY_RECEIVED, DELIVERY_SEEN),
}


def check_against(spec: Spec) -> None:
    if spec.zero_value("ReplyStatus") != REPLY_UNSET:
        raise RuntimeError("the spec's ReplyStatus zero value is not REPLY_UNSET")
    for schema, values in _NAMED.items():
        missing = set(values) - set(spec.enum(schema))
        if missing:
            raise RuntimeError(
                f"the spec's {schema} lacks {sorted(missing)}, which the domain needs"
            )
