"""The enum values the lifecycle gives meaning to.

The spec lists every value; these names say which value means what. spec/facts.py checks at
start-up that the spec still has each of them, so a spec that drops or renames one stops the
sandbox instead of misbehaving.
"""

from __future__ import annotations

STATUS_SUCCESS = "P"
STATUS_FAILURE = "N"
REPLY_WAITING = "S"
REPLY_AGREED = "P"
REPLY_REJECTED = "N"
REPLY_NO_RESPONSE = "NS"
REPLY_UNSET = "Z"  # a request that failed at once was never put to the customer
DELIVERY_RECEIVED = "received"
DELIVERY_SEEN = "seen"
ACCOUNT_SHOP = "shop"  # CurrentAccount's `type` for a shop key

# Which spec enum (schema name) must hold which of these values.
NAMED = {
    "Status": (STATUS_SUCCESS, STATUS_FAILURE),
    "ReplyStatus": (REPLY_WAITING, REPLY_AGREED, REPLY_REJECTED, REPLY_NO_RESPONSE),
    "DeliveryStatus": (DELIVERY_RECEIVED, DELIVERY_SEEN),
    "AccountType": (ACCOUNT_SHOP,),
}
