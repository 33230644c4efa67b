"""Realistic datasets: Vietnamese shops, customers and consents in every state (Faker vi_VN).

`generate_lines(params)` yields a dataset file's lines (the format is in datasets_load.py); the
same parameters give the same bytes. Each consent gets a whole history (delivered, seen,
replied, deadline) drawn when it is created, and is written as that history stands at the
dataset's `now`: requests older than the reply window are final, younger ones may still wait.
Randomness comes from one random.Random and one Faker, both seeded from `params.seed`.
"""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

import orjson

from mock_server.datasets_load import FORMAT, VERSION
from mock_server.domain import states
from mock_server.domain.behaviour import FAILURES as REFUSALS
from mock_server.domain.ids import user_id_for
from mock_server.domain.phones import normalize_phone
from mock_server.domain.timefmt import format_rfc3339, parse_rfc3339
from mock_server.settings import Settings
from mock_server.spec import wire_spec

if TYPE_CHECKING:
    from faker import Faker

DEFAULT_NOW = "2026-01-01T00:00:00Z"  # fixed, so output does not depend on the day it is made
CALL_WINDOW_MS = Settings().call_window_seconds * 1000  # the sandbox's default window
# Requests refused at once, with the lifecycle's codes, and how often each is seen among them.
NO_ZALO, OA_QUOTA, TOO_MANY = (REFUSALS[k] for k in ("no_zalo", "oa_quota", "too_many"))
FAILURES = ((NO_ZALO, 6), (OA_QUOTA, 2), (TOO_MANY, 2))
P_FAILURE = 0.04
# Of the requests that go out: delivered; of those, seen; then answered; then agreed (INF).
P_RECEIVED, P_SEEN, P_REPLY, P_AGREE = 0.92, 0.8, 0.75, 0.8
# Vietnamese mobile prefixes (03x, 05x, 07x, 08x, 09x ranges in use since 2018).
MOBILE = re.compile(r"0(?:3[2-9]|5[25689]|7[06-9]|8[1-9]|9\d)\d{7}")
VN_OFFSET_MS = 7 * 3_600_000  # Vietnam is UTC+7; requests cluster in its business hours
DAY_MS = 86_400_000


@dataclass(frozen=True)
class DatasetParams:
    seed: int = 0
    shops: int = 3
    consents: int = 200
    now: str = DEFAULT_NOW
    days: int = 60  # consents are created over this many days before `now`

    def __post_init__(self) -> None:
        # Checked here so a bad parameter fails before any file is opened.
        if self.shops < 1 or self.consents < 0 or self.days < 1:
            raise ValueError("a dataset needs at least one shop and one day, and no negative count")
        try:
            parse_rfc3339(self.now)
        except ValueError:
            raise ValueError(f"now must be an RFC 3339 date-time (got {self.now!r})") from None


@dataclass(frozen=True)
class _Shop:
    shop_id: int
    oa_ids: tuple[int, ...]
    customers: tuple[tuple[str, str], ...]  # (name, 0xxxxxxxxx)


def write_dataset(params: DatasetParams, out: IO[bytes]) -> None:
    for line in generate_lines(params):
        out.write(line)


def generate_lines(params: DatasetParams) -> Iterator[bytes]:
    """The header, then the shops, then the consents oldest first (ids follow that order)."""
    now = parse_rfc3339(params.now)
    from faker import Faker  # here, so the CLI starts without loading every Faker locale

    rng = random.Random(params.seed)
    fake = Faker("vi_VN")
    fake.seed_instance(params.seed)
    header = {
        "format": FORMAT,
        "version": VERSION,
        "seed": params.seed,
        "now": format_rfc3339(now),
        "days": params.days,
        "counts": {"shops": params.shops, "consents": params.consents},
    }
    yield _line(header)
    # Some shops are much busier than others; each has its own customers.
    weights = [rng.paretovariate(1.5) for _ in range(params.shops)]
    share = [w / sum(weights) for w in weights]
    shops: list[_Shop] = []
    for index in range(params.shops):
        shop, record = _shop(rng, fake, max(1, round(params.consents * share[index] / 3)))
        shops.append(shop)
        yield _line(record)
    yield from _consents(rng, params, now, shops, weights)


def _shop(rng: random.Random, fake: Faker, customers: int) -> tuple[_Shop, dict[str, Any]]:
    shop_id = rng.randrange(10**18, 9 * 10**18)
    oa_count = rng.choices((1, 2, 3), weights=(6, 3, 1))[0]
    oa_ids = tuple(rng.randrange(10**18, 9 * 10**18) for _ in range(oa_count))
    names_by_phone = {mobile_phone(fake): str(fake.name()) for _ in range(customers)}
    record = {
        "kind": "shop",
        "shop_id": str(shop_id),
        "name": str(fake.company()),
        "api_key": f"{shop_id}:{rng.getrandbits(96):024x}",
        "shop_key": f"shop{shop_id}:{rng.getrandbits(96):024x}",
        "oa_ids": [str(oa) for oa in oa_ids],
    }
    people = tuple((name, phone) for phone, name in names_by_phone.items())
    return _Shop(shop_id, oa_ids, people), record


def mobile_phone(fake: Faker) -> str:
    """A Faker vi_VN number as 0xxxxxxxxx; landlines and short numbers are drawn again."""
    for _ in range(1000):
        digits = re.sub(r"\D", "", str(fake.phone_number()))
        if digits.startswith("84"):
            digits = "0" + digits[2:]
        if MOBILE.fullmatch(digits):
            return digits
    raise RuntimeError("Faker's vi_VN phone numbers no longer include mobile numbers")


def _consents(
    rng: random.Random, params: DatasetParams, now: int, shops: list[_Shop], weights: list[float]
) -> Iterator[bytes]:
    spec = wire_spec()
    call_types, reasons = spec.enum("CallType"), spec.enum("ReasonCode")
    window = Settings().reply_window_seconds * 1000
    unknown, unset = spec.zero_value("DeliveryStatus"), spec.zero_value("ReplyStatus")
    cumulative = list(itertools.accumulate(weights))
    # One request at a time per OA and phone: a customer still being asked is rarely asked
    # again, and when it happens Zalo refuses it ("too many requests").
    busy: dict[tuple[int, str], int] = {}
    times = sorted(_created_at(rng, now, params.days, window) for _ in range(params.consents))
    for created in times:
        shop = rng.choices(shops, cum_weights=cumulative)[0]
        oa_id = rng.choice(shop.oa_ids)
        for _ in range(3):
            name, phone = rng.choice(shop.customers)
            asked_already = busy.get((oa_id, phone), 0) > created
            if not asked_already:
                break
        record: dict[str, Any] = {
            "kind": "consent",
            "shop_id": str(shop.shop_id),
            "oa_id": str(oa_id),
            "user_id": str(user_id_for(oa_id, normalize_phone(phone))),
            "phone": _as_sent(rng, phone),
            "customer_name": name,
            "call_type": rng.choice(call_types),
            "reason_code": rng.choice(reasons),
        }
        if asked_already or rng.random() < P_FAILURE:
            # The customer is being asked already, or Zalo refuses: not sent, not charged.
            code, message = TOO_MANY if asked_already else _failure(rng)
            state = _State(states.STATUS_FAILURE, unset, unknown, False, created, created)
            state.error_code, state.error_message = code, message
        else:
            state, done = _history(rng, created, created + window, now, unknown)
            busy[(oa_id, phone)] = done
        record.update(state.fields())
        yield _line(record)


def _created_at(rng: random.Random, now: int, days: int, window: int) -> int:
    """Mostly spread over `days`, one in ten inside the last reply window; daytime in Vietnam."""
    span = window if rng.random() < 0.1 else days * DAY_MS
    created = now - 1 - rng.randrange(span)
    for _ in range(8):
        hour = (created + VN_OFFSET_MS) % DAY_MS // 3_600_000
        if 7 <= hour < 22 or rng.random() < 0.15:
            break
        created = now - 1 - rng.randrange(span)
    return created


def _as_sent(rng: random.Random, phone: str) -> str:
    """Most integrators send 0xxxxxxxxx; some send 84… or +84…."""
    form = rng.random()
    if form < 0.85:
        return phone
    return ("84" if form < 0.95 else "+84") + phone[1:]


def _failure(rng: random.Random) -> tuple[int, str]:
    return rng.choices([f for f, _ in FAILURES], weights=[w for _, w in FAILURES])[0]


_WIRE_ORDER = (
    "status",
    "reply_status",
    "delivery_status",
    "delivery_time",
    "is_charged",
    "error_code",
    "error_message",
    "expires_at",
    "created_at",
    "updated_at",
)


@dataclass
class _State:
    """The fields of a consent that change over its life (times in epoch ms)."""

    status: str
    reply_status: str
    delivery_status: str
    is_charged: bool
    created_at: int
    updated_at: int
    delivery_time: int | None = None
    error_code: int = 0
    error_message: str = ""
    expires_at: int | None = None
    # While waiting: what is still to come (event -> time, and the answer), metadata that the
    # API does not show. A loader that schedules events can play the rest out as generated.
    future: dict[str, Any] | None = None

    def fields(self) -> dict[str, Any]:
        """As the wire writes them, in its order (then `future`, when waiting)."""
        out = {name: getattr(self, name) for name in _WIRE_ORDER}
        for name in ("delivery_time", "expires_at", "created_at", "updated_at"):
            out[name] = _time(out[name])
        if self.future is not None:
            out["future"] = self.future
        return out


def _history(
    rng: random.Random, created: int, deadline: int, now: int, unknown: str
) -> tuple[_State, int]:
    """The request as it stands at `now`, and when it stops waiting (its reply or deadline)."""
    received = created + rng.randrange(1_000, 60_000) if rng.random() < P_RECEIVED else None
    seen = None
    if received is not None and rng.random() < P_SEEN:
        seen = received + int(rng.expovariate(1 / 900_000))  # minutes, sometimes hours
        seen = seen if seen < deadline else None
    replied, answer = None, ""
    if seen is not None and rng.random() < P_REPLY:
        replied = seen + int(rng.expovariate(1 / 1_800_000))
        answer = states.REPLY_AGREED if rng.random() < P_AGREE else states.REPLY_REJECTED
        replied = replied if replied < deadline else None

    state = _State(states.STATUS_SUCCESS, states.REPLY_WAITING, unknown, True, created, created)
    state.expires_at = deadline
    if received is not None and received <= now:
        state.delivery_status = states.DELIVERY_RECEIVED
        state.delivery_time = state.updated_at = received
    if seen is not None and seen <= now:
        state.delivery_status, state.updated_at = states.DELIVERY_SEEN, seen
    if replied is not None and replied <= now:
        state.reply_status, state.updated_at = answer, replied
        if answer == states.REPLY_AGREED:
            state.expires_at = replied + CALL_WINDOW_MS
    elif deadline <= now:
        # Nobody answered in time: final, and the deadline stays as expires_at.
        state.reply_status, state.updated_at = states.REPLY_NO_RESPONSE, deadline
    else:
        steps = {"received_at": received, "seen_at": seen, "reply_at": replied}
        state.future = {name: _time(at) for name, at in steps.items() if at and at > now}
        if "reply_at" in state.future:
            state.future["reply"] = answer
    return state, replied or deadline


def _time(ms: int | None) -> str | None:
    return None if ms is None else format_rfc3339(ms)


def _line(record: dict[str, Any]) -> bytes:
    return orjson.dumps(record) + b"\n"
