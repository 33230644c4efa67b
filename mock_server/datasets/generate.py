"""Realistic datasets: Vietnamese shops, customers and consents in every state (Faker vi_VN).

`generate_lines(params, wire)` yields a dataset file's lines (format.py); the same parameters give
the same bytes. Each consent's life is planned by the domain's lifecycle, as the sandbox plans
it, from a behaviour drawn here with realistic odds: the events due by the dataset's `now` are
applied, the rest are written as the consent's `future`. Randomness comes from one
random.Random and one Faker, both seeded from `params.seed`.
"""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

import orjson

from mock_server.datasets.format import FORMAT, STATE_FIELDS, VERSION
from mock_server.domain import lifecycle, states
from mock_server.domain.behaviour import AGREE, FAILURES, IGNORE, REJECT, UNDELIVERED, Behaviour
from mock_server.domain.model import Consent
from mock_server.domain.names import oa_name
from mock_server.domain.policy import Policy
from mock_server.domain.requests import ConsentRequest
from mock_server.domain.timefmt import format_rfc3339, parse_rfc3339
from mock_server.spec import SpecDocument

if TYPE_CHECKING:
    from faker import Faker

DEFAULT_NOW = "2026-01-01T00:00:00Z"  # fixed, so output does not depend on the day it is made
POLICY = Policy()  # the sandbox's default windows: 24 h to reply, 30 days to call
# Requests refused at once (the lifecycle's outcomes) and how often each is seen among them.
REFUSALS = (("no_zalo", 6), ("oa_quota", 2), ("too_many", 2))
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


def write_dataset(
    params: DatasetParams,
    wire: SpecDocument,
    out: IO[bytes],
    progress: Callable[[int], None] | None = None,
) -> None:
    """Write the dataset; `progress` is told of every consent written."""
    for line in generate_lines(params, wire):
        out.write(line)
        if progress is not None and line.startswith(b'{"kind":"consent"'):
            progress(1)


def generate_lines(params: DatasetParams, wire: SpecDocument) -> Iterator[bytes]:
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
    yield from _consents(rng, wire, params, now, shops, weights)


def _shop(rng: random.Random, fake: Faker, customers: int) -> tuple[_Shop, dict[str, Any]]:
    shop_id = rng.randrange(10**18, 9 * 10**18)
    oa_count = rng.choices((1, 2, 3), weights=(6, 3, 1))[0]
    oa_ids = tuple(rng.randrange(10**18, 9 * 10**18) for _ in range(oa_count))
    names_by_phone = {mobile_phone(fake): str(fake.name()) for _ in range(customers)}
    name = str(fake.company())
    record = {
        "kind": "shop",
        "shop_id": str(shop_id),
        "name": name,
        "api_key": f"{shop_id}:{rng.getrandbits(96):024x}",
        "shop_key": f"shop{shop_id}:{rng.getrandbits(96):024x}",
        "oa_ids": [str(oa) for oa in oa_ids],
        # Named after the shop (names.py draws nothing from rng: the rest stays as it was).
        "oa_names": [oa_name(name, n) for n in range(len(oa_ids))],
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
    rng: random.Random,
    wire: SpecDocument,
    params: DatasetParams,
    now: int,
    shops: list[_Shop],
    weights: list[float],
) -> Iterator[bytes]:
    call_types, reasons = wire.enum("CallType"), wire.enum("ReasonCode")
    policy = Policy(delivery_unset=wire.zero_value("DeliveryStatus"))
    cumulative = list(itertools.accumulate(weights))
    # One request at a time per OA and phone: a customer still being asked is rarely asked
    # again, and when it happens Zalo refuses it ("too many requests").
    busy: dict[tuple[int, str], int] = {}
    times = sorted(_created_at(rng, now, params.days, policy) for _ in range(params.consents))
    for created in times:
        shop = rng.choices(shops, cum_weights=cumulative)[0]
        oa_id = rng.choice(shop.oa_ids)
        for _ in range(3):
            name, phone = rng.choice(shop.customers)
            asked_already = busy.get((oa_id, phone), 0) > created
            if not asked_already:
                break
        request = ConsentRequest(
            oa_id=oa_id,
            phone=_as_sent(rng, phone),
            call_type=rng.choice(call_types),
            reason_code=rng.choice(reasons),
        )
        consent = lifecycle.new_consent(shop.shop_id, request, created, policy)
        record: dict[str, Any] = {
            "kind": "consent",
            "shop_id": str(shop.shop_id),
            "oa_id": str(oa_id),
            "user_id": str(consent.user_id),
            "phone": request.phone,
            "customer_name": name,
            "call_type": request.call_type,
            "reason_code": request.reason_code,
        }
        if asked_already or rng.random() < P_FAILURE:
            # The customer is being asked already, or Zalo refuses: not sent, not charged.
            outcome = "too_many" if asked_already else _refusal(rng)
            lifecycle.fail_at_once(consent, FAILURES[outcome])
            future = None
        else:
            future, done = _live(consent, _behaviour(rng), now, policy)
            busy[(oa_id, phone)] = done
        record.update(_state(consent))
        if consent.reply_status == states.REPLY_WAITING:
            record["future"] = future  # what is still to come (maybe nothing)
        yield _line(record)


def _behaviour(rng: random.Random) -> Behaviour:
    """What this customer will do: realistic odds (INF), offsets from the request in ms."""
    if rng.random() >= P_RECEIVED:
        return Behaviour(UNDELIVERED)
    received = rng.randrange(1_000, 60_000)
    if rng.random() >= P_SEEN:
        return Behaviour(IGNORE, received)
    seen = received + int(rng.expovariate(1 / 900_000))  # minutes, sometimes hours
    if rng.random() >= P_REPLY:
        return Behaviour(IGNORE, received, seen)
    reply = seen + int(rng.expovariate(1 / 1_800_000))
    return Behaviour(AGREE if rng.random() < P_AGREE else REJECT, received, seen, reply)


def _live(
    consent: Consent, behaviour: Behaviour, now: int, policy: Policy
) -> tuple[dict[str, Any], int]:
    """Play the consent's planned events up to `now`; the rest is its `future`. Also when it
    stops waiting (its reply, or the deadline)."""
    events = lifecycle.plan(consent, behaviour, policy.call_window_ms)
    future: dict[str, Any] = {}
    done = consent.expires_at or consent.created_at
    for event in events:
        if event.kind == lifecycle.REPLY:
            done = event.due
        if event.due <= now:
            lifecycle.apply(consent, event)
        elif event.kind != lifecycle.DEADLINE:
            future[f"{event.kind}_at"] = format_rfc3339(event.due)
            if event.kind == lifecycle.REPLY:
                future["reply"] = event.value
    return future, done


def _state(consent: Consent) -> dict[str, Any]:
    """The fields of a consent that change over its life, as the wire writes them."""
    out = {name: getattr(consent, name) for name in STATE_FIELDS}
    for name in ("delivery_time", "expires_at", "created_at", "updated_at"):
        out[name] = None if out[name] is None else format_rfc3339(out[name])
    return out


def _created_at(rng: random.Random, now: int, days: int, policy: Policy) -> int:
    """Mostly spread over `days`, one in ten inside the last reply window; daytime in Vietnam."""
    span = policy.reply_window_ms if rng.random() < 0.1 else days * DAY_MS
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


def _refusal(rng: random.Random) -> str:
    return rng.choices([name for name, _ in REFUSALS], weights=[w for _, w in REFUSALS])[0]


def _line(record: dict[str, Any]) -> bytes:
    return orjson.dumps(record) + b"\n"
