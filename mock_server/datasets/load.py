"""Read and check a dataset file, then load it into a sandbox's services.

The whole file is checked before anything is written, so a bad file leaves the sandbox
untouched. Waiting consents get their deadline and planned `future` as events, so they play out
as the clock moves.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from mock_server.datasets.format import FORMAT, KINDS, VERSION, record_validators
from mock_server.domain.errors import AlreadyExists, InvalidField
from mock_server.domain.lifecycle import Future
from mock_server.domain.model import Consent
from mock_server.domain.phones import normalize_phone
from mock_server.domain.requests import NewShop
from mock_server.domain.timefmt import parse_rfc3339, within_range
from mock_server.services import Services
from mock_server.spec import SpecDocument
from mock_server.spec.validator import BodyValidator

# Meta key (+ the file's sha256) marking a dataset whose consents a store holds already, so
# serving the same file again on a kept SQLite store does not load its consents twice.
LOADED_META = "dataset:"
Progress = Callable[[int], None]  # called with the bytes read since the last call


class DatasetError(ValueError):
    """A dataset that cannot be used; the message names the file and, when it can, the line."""


@dataclass(frozen=True)
class Header:
    now: str
    shops: int
    consents: int
    seed: int | None = None
    days: int | None = None


@dataclass(frozen=True)
class ShopRecord:
    shop_id: int
    api_key: str
    shop_key: str
    oa_ids: tuple[int, ...]
    name: str | None
    oa_names: tuple[str, ...]

    def new_shop(self) -> NewShop:
        return NewShop(
            self.shop_id, self.api_key, self.shop_key, self.oa_ids, self.name, self.oa_names
        )


@dataclass
class Dataset:
    path: str
    header: Header
    shops: list[ShopRecord]
    consents: list[Consent]  # file order; ids are 0 until stored
    futures: list[Future | None]  # each consent's planned events after `now`, if any
    sha256: str


@dataclass(frozen=True)
class LoadCounts:
    shops_created: int
    shops_existing: int  # same id and api_key in the sandbox already: skipped
    consents: int
    already_loaded: bool  # this very file's consents were in the store already

    def describe(self) -> str:
        shops = f"{self.shops_created} shops created, {self.shops_existing} already there"
        if self.already_loaded:
            return f"{shops}; its consents were loaded before"
        return f"{shops}; {self.consents} consents loaded"


def read_dataset(path: str, wire: SpecDocument, progress: Progress | None = None) -> Dataset:
    """Parse and check a whole dataset file; `DatasetError` on the first problem."""
    digest = hashlib.sha256()
    header: Header | None = None
    shops: dict[int, ShopRecord] = {}
    consents: list[Consent] = []
    futures: list[Future | None] = []
    validators = record_validators(wire)
    try:
        with open(path, "rb") as handle:
            for number, line in enumerate(handle, 1):
                digest.update(line)
                if progress is not None:
                    progress(len(line))
                if not line.strip():
                    continue
                where = f"{path} line {number}"
                record = _json(line, where)
                if header is None:
                    header = _header(record, validators["header"], where)
                    continue
                kind = record.get("kind")
                if kind not in KINDS:
                    raise DatasetError(f'{where}: kind must be "shop" or "consent" (got {kind!r})')
                _check(validators[kind], record, where)
                if kind == "shop":
                    shop = _shop(record)
                    if shop.shop_id in shops:
                        raise DatasetError(f"{where}: shop {shop.shop_id} appears twice")
                    shops[shop.shop_id] = shop
                else:
                    consents.append(_consent(record, shops, where))
                    futures.append(_future(record.get("future"), where))
    except OSError as exc:
        raise DatasetError(f"cannot read dataset {path}: {exc.strerror or exc}") from None
    if header is None:
        raise DatasetError(f"{path}: empty, not a dataset")
    found = (len(shops), len(consents))
    if found != (header.shops, header.consents):
        raise DatasetError(
            f"{path}: the header counts {header.shops} shops and {header.consents} consents, "
            f"the file holds {found[0]} and {found[1]}"
        )
    return Dataset(path, header, list(shops.values()), consents, futures, digest.hexdigest())


def load(services: Services, dataset: Dataset) -> LoadCounts:
    """Create the dataset's shops (skipping ones already there) and insert its consents once."""
    created = existing = 0
    for shop in dataset.shops:
        found = services.store.shop_by_key(shop.api_key, partner=False)
        if found is not None and found.shop_id == shop.shop_id:
            existing += 1
            continue
        problem = f"{dataset.path}: cannot create shop {shop.shop_id}"
        if found is not None:
            raise DatasetError(f"{problem}: its api_key belongs to shop {found.shop_id}")
        try:
            services.shops.create_shop(shop.new_shop())
        except AlreadyExists as exc:
            raise DatasetError(f"{problem}: {exc.message}") from None
        created += 1
    marker = LOADED_META + dataset.sha256
    count = services.loading.load_once(marker, dataset.consents, dataset.futures)
    if count is None:
        return LoadCounts(created, existing, 0, already_loaded=True)
    return LoadCounts(created, existing, count, already_loaded=False)


def _json(line: bytes, where: str) -> dict[str, Any]:
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise DatasetError(f"{where}: not a JSON Lines record ({exc})") from None
    if not isinstance(record, dict):
        raise DatasetError(f"{where}: a record must be a JSON object, one per line")
    return record


def _header(record: dict[str, Any], validator: BodyValidator, where: str) -> Header:
    if record.get("format") != FORMAT:
        raise DatasetError(f'{where}: not a dataset header (expected "format": "{FORMAT}")')
    if record.get("version") != VERSION:
        raise DatasetError(
            f"{where}: dataset version {record.get('version')!r} is not supported "
            f"(this sandbox reads version {VERSION})"
        )
    _check(validator, record, f"{where} (header)")
    counts = record["counts"]
    return Header(
        record["now"], counts["shops"], counts["consents"], record.get("seed"), record.get("days")
    )


def _check(validator: BodyValidator, record: dict[str, Any], where: str) -> None:
    try:
        validator.validate(record)
    except InvalidField as exc:
        raise DatasetError(f"{where}: {exc.message}") from None


def _instant(value: str | None, where: str, name: str) -> int | None:
    if not value:
        return None
    try:
        ms = parse_rfc3339(value)
    except ValueError as exc:
        raise DatasetError(f"{where}: {name} {exc}") from None
    if not within_range(ms):
        raise DatasetError(f"{where}: {name} is outside years 1 to 9999 (UTC)")
    return ms


def _shop(record: dict[str, Any]) -> ShopRecord:
    oa_ids = tuple(int(oa) for oa in record["oa_ids"])
    return ShopRecord(
        shop_id=int(record["shop_id"]),
        api_key=record["api_key"],
        shop_key=record["shop_key"],
        oa_ids=oa_ids,
        name=record.get("name") or None,
        oa_names=tuple(record.get("oa_names") or ()),
    )


def _consent(record: dict[str, Any], shops: dict[int, ShopRecord], where: str) -> Consent:
    shop = shops.get(int(record["shop_id"]))
    if shop is None:
        raise DatasetError(f"{where}: shop_id {record['shop_id']} is no shop listed above")
    oa_id = int(record["oa_id"])
    if oa_id not in shop.oa_ids:
        raise DatasetError(f"{where}: oa_id {oa_id} is not an OA of shop {shop.shop_id}")
    created = _instant(record["created_at"], where, "created_at")
    updated = _instant(record["updated_at"], where, "updated_at")
    assert created is not None and updated is not None  # required by the schema
    return Consent(
        id=0,
        shop_id=shop.shop_id,
        user_id=int(record["user_id"]),
        oa_id=oa_id,
        phone=record["phone"],
        phone_norm=normalize_phone(record["phone"]),
        call_type=record["call_type"],
        reason_code=record["reason_code"],
        status=record["status"],
        reply_status=record["reply_status"],
        delivery_status=record["delivery_status"],
        delivery_time=_instant(record["delivery_time"], where, "delivery_time"),
        is_charged=record["is_charged"],
        error_code=record["error_code"],
        error_message=record["error_message"],
        expires_at=_instant(record["expires_at"], where, "expires_at"),
        created_at=created,
        updated_at=updated,
    )


def _future(plan: dict[str, Any] | None, where: str) -> Future | None:
    if not plan:
        return None
    reply_at = _instant(plan.get("reply_at"), where, "future.reply_at")
    return Future(
        received_at=_instant(plan.get("received_at"), where, "future.received_at"),
        seen_at=_instant(plan.get("seen_at"), where, "future.seen_at"),
        reply_at=reply_at if plan.get("reply") else None,
        reply=plan.get("reply", ""),
    )


def load_dataset(services: Services, path: str, wire: SpecDocument | None = None) -> LoadCounts:
    """Read (against the bundled spec unless given one) and load a dataset file."""
    from mock_server.spec import load_specs

    return load(services, read_dataset(path, wire or load_specs().wire))
