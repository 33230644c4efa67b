"""CheckConsent: may the OA call this phone now? Answered in Zalo's check-consent codes (3P).

The answer follows the newest request that reached Zalo for (shop, OA, phone); a request that
failed at once only speaks when nothing else was ever sent. The mapping is INF and listed in
the fidelity notes.
"""

from __future__ import annotations

from dataclasses import dataclass

from mock_server.domain import states
from mock_server.domain.behaviour import FAILURES
from mock_server.domain.model import Consent

APPROVED, REQUEST_SENT, REJECTED, TOO_MANY = 0, 2, 3, 5
WAITING, NEVER_INTERACTED, EXPIRED, NEVER_SENT = 8, 9, 16, 20
CODES = (
    APPROVED,
    REQUEST_SENT,
    REJECTED,
    TOO_MANY,
    WAITING,
    NEVER_INTERACTED,
    EXPIRED,
    NEVER_SENT,
)
_BY_FAILURE = {FAILURES["no_zalo"][0]: NEVER_INTERACTED, FAILURES["too_many"][0]: TOO_MANY}


@dataclass(frozen=True)
class Answer:
    error: int
    expired_time: int | None


def check(
    agreement: Consent | None, newest_sent: Consent | None, newest_failed: Consent | None, now: int
) -> Answer:
    """The answer from three indexed facts: the agreement that runs longest, the newest request
    that reached Zalo, and the newest that failed at once (it speaks only when none went out)."""
    # An agreement still running wins over a newer request that is pending or was refused.
    if agreement is not None and agreement.expires_at is not None and now < agreement.expires_at:
        return Answer(APPROVED, agreement.expires_at)
    if newest_sent is None:
        failed = newest_failed
        code = _BY_FAILURE.get(failed.error_code, NEVER_SENT) if failed else NEVER_SENT
        return Answer(code, None)
    c = newest_sent
    if c.reply_status == states.REPLY_WAITING:
        code = REQUEST_SENT if c.delivery_time is None else WAITING
        return Answer(code, c.expires_at)
    if c.reply_status == states.REPLY_REJECTED:
        return Answer(REJECTED, None)
    return Answer(EXPIRED, c.expires_at)  # NS, or an agreement whose window has ended
