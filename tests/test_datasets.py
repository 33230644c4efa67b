"""Datasets: realistic and reproducible generation, loading on both stores, serve --data."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from starlette.testclient import TestClient

from mock_server import Settings, create_app
from mock_server.app import build_services
from mock_server.datasets.generate import MOBILE, DatasetParams, generate_lines
from mock_server.datasets.load import DatasetError, load_dataset, read_dataset
from mock_server.domain import states
from mock_server.domain.ids import user_id_for
from mock_server.domain.phones import normalize_phone
from mock_server.domain.requests import NewShop
from mock_server.domain.timefmt import parse_rfc3339
from mock_server.spec import data_dir
from tests.conftest import Api
from tests.processes import invoke, serving_in_process
from tests.specs import SPECS, wire_spec

DEMO_FILE = data_dir("fixtures") / "datasets" / "demo.jsonl"
WINDOW_MS = Settings().reply_window_seconds * 1000
DAY_MS = 86_400_000
FAILURE_CODES = {-213, -224, 5}
Records = tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]


def parse(lines: list[bytes]) -> Records:
    """Header, shops and consents of a dataset's lines."""
    header, *records = (orjson.loads(line) for line in lines)
    shops = [r for r in records if r["kind"] == "shop"]
    return header, shops, [r for r in records if r["kind"] == "consent"]


def generate_args(header: dict[str, Any]) -> list[str]:
    """The `fixtures generate` options that made a dataset, from its header."""
    counts = header["counts"]
    return [
        *("--seed", str(header["seed"]), "--now", header["now"], "--days", str(header["days"])),
        *("--shops", str(counts["shops"]), "--consents", str(counts["consents"])),
    ]


def shop_api(client: TestClient, shop: dict[str, Any]) -> Api:
    return Api(client, shop["api_key"], shop["shop_key"], shop["oa_ids"][0])


@pytest.fixture(scope="module")
def big() -> Records:
    """Enough consents that every state, reason and failure shows up."""
    return parse(list(generate_lines(DatasetParams(seed=11, shops=6, consents=3000), wire_spec())))


# Generation


def test_the_same_seed_gives_the_same_bytes() -> None:
    def made(seed: int) -> bytes:
        return b"".join(
            generate_lines(DatasetParams(seed=seed, shops=4, consents=300), wire_spec())
        )

    assert made(5) == made(5)
    assert made(5) != made(6)


def test_the_committed_demo_dataset_is_what_the_command_makes(tmp_path: Path) -> None:
    header = orjson.loads(DEMO_FILE.read_bytes().split(b"\n", 1)[0])
    out = tmp_path / "demo.jsonl"
    result = invoke(["fixtures", "generate", *generate_args(header), "--out", str(out)])
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == DEMO_FILE.read_bytes(), (
        "fixtures/datasets/demo.jsonl is stale: regenerate it with "
        f"`etelecom-sandbox fixtures generate {' '.join(generate_args(header))} --out ...`"
    )


def test_shops_have_keys_and_sometimes_several_oas(big: Records) -> None:
    header, shops, consents = big
    assert header["counts"] == {"shops": len(shops), "consents": len(consents)}
    assert len({s["shop_id"] for s in shops}) == len(shops)
    for shop in shops:
        assert shop["api_key"].startswith(f"{shop['shop_id']}:")
        assert shop["shop_key"].startswith(f"shop{shop['shop_id']}:")
    assert max(len(s["oa_ids"]) for s in shops) > 1
    assert min(len(s["oa_ids"]) for s in shops) == 1


def test_customers_are_vietnamese_with_mobile_numbers_in_all_three_forms(big: Records) -> None:
    _, _, consents = big
    pattern = re.compile(wire_spec().schema("Phone")["pattern"])
    for consent in consents:
        assert pattern.fullmatch(consent["phone"]), consent["phone"]
        assert MOBILE.fullmatch("0" + normalize_phone(consent["phone"])[2:]), consent["phone"]
    forms = Counter(
        next(f for f in ("+84", "84", "0") if c["phone"].startswith(f)) for c in consents
    )
    assert set(forms) == {"0", "84", "+84"} and forms["0"] > forms["84"] > forms["+84"]
    names = {c["customer_name"] for c in consents}
    assert len(names) > 100 and any(not name.isascii() for name in names)
    # Customers come back: some phones are asked more than once.
    assert Counter(normalize_phone(c["phone"]) for c in consents).most_common(1)[0][1] > 1


def test_consents_spread_over_shops_oas_reasons_call_types_and_states(big: Records) -> None:
    _, shops, consents = big
    spec = wire_spec()
    assert {c["shop_id"] for c in consents} == {s["shop_id"] for s in shops}
    assert {c["oa_id"] for c in consents} == {oa for s in shops for oa in s["oa_ids"]}
    assert {c["call_type"] for c in consents} == set(spec.enum("CallType"))
    assert {c["reason_code"] for c in consents} == set(spec.enum("ReasonCode"))
    replies = {c["reply_status"] for c in consents}
    assert replies == {*spec.enum("ReplyStatus"), spec.zero_value("ReplyStatus")}
    deliveries = {c["delivery_status"] for c in consents}
    assert deliveries == {*spec.enum("DeliveryStatus"), spec.zero_value("DeliveryStatus")}
    assert {c["error_code"] for c in consents} == {0, *FAILURE_CODES}


def test_each_consent_is_as_its_history_stands_at_now(big: Records) -> None:
    header, shops, consents = big
    now = parse_rfc3339(header["now"])
    oas = {s["shop_id"]: s["oa_ids"] for s in shops}
    unknown = wire_spec().zero_value("DeliveryStatus")
    created = [parse_rfc3339(c["created_at"]) for c in consents]
    assert created == sorted(created) and now - 60 * DAY_MS <= created[0] and created[-1] < now
    for consent, made in zip(consents, created, strict=True):
        check_consent(consent, made, now, unknown)
        assert consent["oa_id"] in oas[consent["shop_id"]]
        phone_norm = normalize_phone(consent["phone"])
        assert consent["user_id"] == str(user_id_for(int(consent["oa_id"]), phone_norm))
    young = [c for c, made in zip(consents, created, strict=True) if now - made < WINDOW_MS]
    assert any(c["reply_status"] == states.REPLY_WAITING for c in young)


def check_consent(consent: dict[str, Any], created: int, now: int, unknown: str) -> None:
    def at(name: str) -> int | None:
        return parse_rfc3339(consent[name]) if consent[name] else None

    updated, expires, reply = at("updated_at"), at("expires_at"), consent["reply_status"]
    assert updated is not None and created <= updated <= now
    assert (consent["delivery_time"] is None) == (consent["delivery_status"] == unknown)
    if consent["status"] == states.STATUS_FAILURE:
        assert not consent["is_charged"] and consent["error_code"] in FAILURE_CODES
        assert consent["error_message"] and expires is None and consent["delivery_time"] is None
        return
    assert consent["is_charged"] and consent["error_code"] == 0
    deadline = created + WINDOW_MS
    assert ("future" in consent) == (reply == states.REPLY_WAITING)
    if reply == states.REPLY_WAITING:
        assert now < deadline and expires == deadline
        check_future(consent, now, deadline)
    elif reply == states.REPLY_NO_RESPONSE:
        assert deadline <= now and expires == deadline == updated
    else:  # answered: only after seeing the prompt, before the deadline
        assert consent["delivery_status"] == states.DELIVERY_SEEN and updated < deadline
        if reply == states.REPLY_AGREED:
            assert expires == updated + 30 * DAY_MS
        else:
            assert reply == states.REPLY_REJECTED and expires == deadline


def check_future(consent: dict[str, Any], now: int, deadline: int) -> None:
    """What is still to come for a waiting consent: later than now, before its deadline."""
    future = consent["future"]
    times = [
        parse_rfc3339(future[k]) for k in ("received_at", "seen_at", "reply_at") if k in future
    ]
    assert times == sorted(times) and all(now < at < deadline for at in times)
    assert ("reply" in future) == ("reply_at" in future)
    assert future.get("reply", states.REPLY_AGREED) in (states.REPLY_AGREED, states.REPLY_REJECTED)
    if "received_at" in future:
        assert consent["delivery_time"] is None
    if "seen_at" in future:
        assert consent["delivery_status"] != states.DELIVERY_SEEN


# Loading


def by_shop(consents: list[dict[str, Any]], shop: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in consents if c["shop_id"] == shop["shop_id"]]


def test_a_loaded_shop_lists_its_consents_and_filters_work(settings: Settings) -> None:
    header, shops, consents = parse(DEMO_FILE.read_bytes().splitlines())
    sandbox = build_services(settings.with_overrides(clock_start=header["now"]), SPECS)
    counts = load_dataset(sandbox, str(DEMO_FILE), SPECS.wire)
    assert (counts.shops_created, counts.consents) == (len(shops), len(consents))
    with TestClient(create_app(settings, SPECS, sandbox)) as client:
        for shop in shops:
            api, mine = shop_api(client, shop), by_shop(consents, shop)
            assert len(api.walk()) == len(mine)
            listed = api.page(paging={"sort": "created_at"}, filter={})["consents"]
            metadata = ("kind", "customer_name", "future")
            first = {k: v for k, v in mine[0].items() if k not in metadata}
            assert listed[0] == {"id": listed[0]["id"], **first}
            waiting = [c for c in mine if c["reply_status"] == states.REPLY_WAITING]
            assert len(api.walk({"reply_status": states.REPLY_WAITING})) == len(waiting)
            assert len(api.walk({"is_charged": False})) == sum(not c["is_charged"] for c in mine)
            phone = normalize_phone(mine[-1]["phone"])
            same = [c for c in mine if normalize_phone(c["phone"]) == phone]
            assert len(api.walk({"phone": "+" + phone})) == len(same)
            oa = shop["oa_ids"][-1]
            assert len(api.walk({"oa_id": oa})) == sum(c["oa_id"] == oa for c in mine)
            partner = api.call("ListRequestConsent", {"paging": {"limit": 1}}, partner=True)
            assert partner.status_code == 200 and partner.json()["consents"]


def test_loaded_waiting_consents_live_on(settings: Settings, tmp_path: Path) -> None:
    """Waiting consents carry on where the dataset left them: planned steps, then deadline."""
    lines = list(generate_lines(DatasetParams(seed=5, shops=2, consents=1500, days=3), wire_spec()))
    path = tmp_path / "recent.jsonl"
    path.write_bytes(b"".join(lines))
    header, shops, consents = parse(lines)
    sandbox = build_services(settings.with_overrides(clock_start=header["now"]), SPECS)
    load_dataset(sandbox, str(path), SPECS.wire)
    waiting = [c for c in consents if c["reply_status"] == states.REPLY_WAITING]
    replying = [c for c in waiting if "reply" in c.get("future", {})]
    assert waiting and replying
    with TestClient(create_app(settings, SPECS, sandbox)) as client:
        client.post("/_sandbox/clock", json={"advance": "2d"})
        for consent in waiting:
            shop = next(s for s in shops if s["shop_id"] == consent["shop_id"])
            api = shop_api(client, shop)
            listed = api.page(filter={"phone": consent["phone"]})["consents"]
            found = [c for c in listed if c["created_at"] == consent["created_at"]]
            want = consent.get("future", {}).get("reply", states.REPLY_NO_RESPONSE)
            assert [c["reply_status"] for c in found] == [want], consent
        assert not client.post("/_sandbox/webhooks/drain", json={}).json()["delivered"]


def test_loading_twice_adds_nothing(settings: Settings) -> None:
    sandbox = build_services(settings, SPECS)
    first = load_dataset(sandbox, str(DEMO_FILE), SPECS.wire)
    again = load_dataset(sandbox, str(DEMO_FILE), SPECS.wire)
    assert (again.shops_created, again.shops_existing) == (0, first.shops_created)
    assert again.already_loaded and sandbox.store.count_consents() == first.consents
    sandbox.close()


def test_serve_data_serves_the_dataset_over_http() -> None:
    header, shops, consents = parse(DEMO_FILE.read_bytes().splitlines())
    with serving_in_process(
        ["--store", "memory", "--clock-rate", "0", "--data", str(DEMO_FILE)]
    ) as (url, _):
        health = httpx.get(f"{url}/_sandbox/health").json()
        assert (health["shops"], health["consents"]) == (len(shops) + 1, len(consents))
        assert httpx.get(f"{url}/_sandbox/clock").json()["now"] == header["now"]
        total = 0
        for shop in shops:
            auth = {"Authorization": f"Bearer {shop['api_key']}"}
            after, listed = ".", []
            while after:
                page = httpx.post(
                    f"{url}/v1/shop.Zalo/ListRequestConsent",
                    json={"paging": {"after": after}},
                    headers=auth,
                ).json()
                listed += page["consents"]
                after = page["paging"]["next"]
            mine = by_shop(consents, shop)
            assert sorted(c["created_at"] for c in listed) == [c["created_at"] for c in mine]
            total += len(listed)
            agreed = httpx.post(
                f"{url}/v1/shop.Zalo/ListRequestConsent",
                json={"filter": {"reply_status": states.REPLY_AGREED}},
                headers=auth,
            ).json()["consents"]
            assert len(agreed) == sum(c["reply_status"] == states.REPLY_AGREED for c in mine)
        assert total == header["counts"]["consents"]


def test_serve_data_twice_on_one_sqlite_store_loads_once(tmp_path: Path) -> None:
    _, shops, consents = parse(DEMO_FILE.read_bytes().splitlines())
    args = ["--store", f"sqlite:{tmp_path / 'kept.sqlite3'}", "--data", str(DEMO_FILE)]
    for _ in range(2):
        with serving_in_process(args) as (url, _):
            health = httpx.get(f"{url}/_sandbox/health").json()
            assert (health["shops"], health["consents"]) == (len(shops) + 1, len(consents))


def write(path: Path, *records: Any) -> Path:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    return path


def demo_records() -> list[Any]:
    return [orjson.loads(line) for line in DEMO_FILE.read_bytes().splitlines()]


def edited(index: int, drop: str = "", **changes: Any) -> Callable[[Path], Path]:
    """A copy of the demo dataset with record `index` changed (and its field `drop` removed)."""

    def make(tmp_path: Path) -> Path:
        records = demo_records()
        records[index] = {k: v for k, v in records[index].items() if k != drop} | changes
        return write(tmp_path / "edited.jsonl", *records)

    return make


def text(content: str) -> Callable[[Path], Path]:
    def make(tmp_path: Path) -> Path:
        path = tmp_path / "data.jsonl"
        path.write_text(content)
        return path

    return make


BAD_FILES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "missing": (lambda tmp: tmp / "nope.jsonl", "cannot read dataset"),
    "empty": (text(""), "empty, not a dataset"),
    "not jsonl": (text('[\n  {"format": 1}\n]\n'), "line 1: not a JSON Lines record"),
    "yaml": (text("format: etelecom-sandbox-dataset\n"), "line 1: not a JSON Lines record"),
    "not a header": (text('{"kind": "shop"}\n'), "line 1: not a dataset header"),
    "wrong version": (edited(0, version=99), "dataset version 99 is not supported"),
    "bad phone": (edited(5, phone="12345"), "line 6: phone must be a Vietnamese phone number"),
    "bad enum": (edited(5, reply_status="X"), 'line 6: reply_status must be one of "S"'),
    "null time": (edited(5, created_at=None), "line 6: created_at must be of type string"),
    "missing field": (edited(5, drop="status"), "line 6: status is required"),
    "unknown field": (edited(5, id="1"), "line 6: record is invalid: "),
    "unknown kind": (edited(5, kind="order"), 'line 6: kind must be "shop" or "consent"'),
    "bad header": (edited(0, now="yesterday"), "line 1 (header): now must be an RFC 3339"),
    "unknown shop": (edited(5, shop_id="42"), "line 6: shop_id 42 is no shop listed above"),
    "foreign oa": (edited(5, oa_id="42"), "line 6: oa_id 42 is not an OA of shop"),
    "counts": (edited(0, counts={"shops": 3, "consents": 7}), "the file holds 3 and 200"),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_a_bad_data_file_names_its_problem(tmp_path: Path, case: str) -> None:
    make, says = BAD_FILES[case]
    with pytest.raises(DatasetError) as caught:
        read_dataset(str(make(tmp_path)), wire_spec())
    message = str(caught.value)
    assert "\n" not in message and says in message, message


def test_serve_with_a_bad_data_file_is_one_clear_line(tmp_path: Path) -> None:
    make, says = BAD_FILES["bad phone"]
    result = invoke(["serve", "--store", "memory", "--port", "0", "--data", str(make(tmp_path))])
    assert result.returncode != 0
    assert result.stderr.startswith("etelecom-sandbox: error: cannot start: "), result.stderr
    assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr
    assert says in result.stderr, result.stderr


def test_a_shop_whose_key_is_taken_stops_the_load(settings: Settings) -> None:
    _, shops, _ = parse(DEMO_FILE.read_bytes().splitlines())
    sandbox = build_services(settings, SPECS)
    sandbox.shops.create_shop(NewShop(42, api_key=shops[0]["api_key"]))
    with pytest.raises(DatasetError, match="its api_key belongs to shop 42"):
        load_dataset(sandbox, str(DEMO_FILE), SPECS.wire)
    sandbox.close()
