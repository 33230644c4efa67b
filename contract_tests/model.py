"""A reference model of one shop's consents: what a listing must contain, in which order.

Pure functions over consents as the wire shows them (dicts); no HTTP. Every failure message
starts with the rule it breaks: [filter <name>], [sort <order>], [paging], [shop isolation].
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from contract_tests.specfacts import SpecFacts
from mock_server.domain.phones import normalize_phone

Consent = Mapping[str, Any]
SORTS = ("created_at", "-created_at", "updated_at", "-updated_at")
# Two plain phones, and two of the sandbox's magic phones (one agrees within a minute, one is
# not on Zalo and fails at once) so that states differ; elsewhere they are plain phones.
PHONES = ("0912345678", "0987654321", "0900000001", "0900000004")
# Fields a consent keeps for life; the others (states, updated_at) may change as time passes.
IMMUTABLE = ("id", "shop_id", "user_id", "oa_id", "call_type", "reason_code", "created_at")


def phone_forms(phone: str) -> list[str]:
    """A phone as 0…, 84… and +84…."""
    local = phone[1:]
    return ["0" + local, "84" + local, "+84" + local]


def instant(text: str) -> datetime:
    """An RFC 3339 instant; one without an offset is read as UTC, as the sandbox does."""
    moment = datetime.fromisoformat(text.replace("z", "Z"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def zero_values(facts: SpecFacts) -> dict[str, Any]:
    """Per filter field, the zero value that means "no filter" (from the `...OrZero` schemas)."""
    props = facts.schemas["ConsentFilter"]["properties"]
    zeros: dict[str, Any] = {}
    for name, node in props.items():
        for branch in facts.resolve(node).get("anyOf", []):
            if "const" in branch:
                zeros[name] = branch["const"]
    return zeros


def matches(consent: Consent, filter_: Mapping[str, Any], zeros: Mapping[str, Any]) -> bool:
    """Whether `consent` passes every filter; empty, null or zero values do not filter."""
    return not failed_filters(consent, filter_, zeros)


def failed_filters(
    consent: Consent, filter_: Mapping[str, Any], zeros: Mapping[str, Any]
) -> list[str]:
    failed = []
    for name, value in filter_.items():
        if value is None or value == "" or (name in zeros and value == zeros[name]):
            continue
        if name in ("oa_id", "user_id"):
            ok = int(value) == 0 or str(int(value)) == consent[name]
        elif name == "phone":
            ok = normalize_phone(value) == normalize_phone(consent["phone"])
        elif name == "date_from":
            ok = instant(consent["created_at"]) >= instant(value)
        elif name == "date_to":
            ok = instant(consent["created_at"]) < instant(value)
        elif name in consent:
            ok = consent[name] == value
        else:
            continue  # not a filter: servers ignore unknown fields
        if not ok:
            failed.append(name)
    return failed


def sort_value(consent: Consent, sort: str) -> datetime:
    return instant(consent[sort.removeprefix("-")])


def check_listing(
    walked: Sequence[Sequence[Consent]],
    expected: Iterable[Consent],
    filter_: Mapping[str, Any],
    sort: str,
    limit: int,
    direction: str,
    zeros: Mapping[str, Any],
    foreign: Iterable[str] = (),
) -> None:
    """One walk over every page (in reading order) against what the model expects."""
    where = f"{direction} walk, filter {dict(filter_)!r}, sort {sort!r}, limit {limit}"
    ids: list[str] = []
    listed: dict[str, Consent] = {}
    for number, page in enumerate(walked):
        if len(page) > limit:
            raise AssertionError(
                f"[paging] page {number} holds {len(page)} > {limit} items ({where})"
            )
        for consent in page:
            if consent["id"] in ids:
                raise AssertionError(
                    f"[paging] consent {consent['id']} is listed twice, again on page {number} "
                    f"({where}): an item is repeated across pages"
                )
            ids.append(consent["id"])
            listed[consent["id"]] = consent
    wanted = {c["id"]: c for c in expected}
    strangers = set(foreign) & set(ids)
    if strangers:
        raise AssertionError(
            f"[shop isolation] consents {sorted(strangers)} of another shop are listed ({where})"
        )
    extra = [i for i in ids if i not in wanted]
    if extra:
        names = sorted({n for i in extra for n in failed_filters(listed[i], filter_, zeros)})
        rule = f"filter {', '.join(names)}" if names else "filter"
        raise AssertionError(
            f"[{rule}] consents {extra} do not pass the filter but are listed ({where})"
        )
    missing = [i for i in wanted if i not in ids]
    if missing:
        raise AssertionError(
            f"[filter] consents {missing} pass the filter but are not listed ({where}): "
            "a filter is ignored or wrong, or paging misses items"
        )
    values = [sort_value(wanted[i], sort) for i in ids]
    descending = sort.startswith("-")
    for before, after, at in zip(values, values[1:], ids[1:], strict=False):
        if (after > before) if descending else (after < before):
            raise AssertionError(f"[sort {sort}] consent {at} is out of order ({where})")
