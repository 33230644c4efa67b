"""Dataset files (JSON Lines): read and check one, then load it into a sandbox.

Line 1 is a header (format, version, seed, now, counts); every other line is one shop or one
consent. A consent record is the spec's Consent without `id` (the store assigns ids, in file
order), plus metadata the API does not have (`customer_name`; `future`, the events still to come
for a consent that waits), so its schema is built from the spec and no enum is typed here.
Shops come before the consents that name them. The whole file is checked before anything is
written, so a bad file leaves the sandbox untouched.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

import orjson

from mock_server.domain.model import Consent, Shop
from mock_server.domain.phones import normalize_phone
from mock_server.domain.timefmt import parse_rfc3339
from mock_server.spec import wire_spec
from mock_server.store import Conflict
from mock_server.twirp import TwirpError
from mock_server.validation import BodyValidator

if TYPE_CHECKING:
    from mock_server.sandbox import Sandbox

FORMAT = "etelecom-sandbox-dataset"
VERSION = 1
# Meta key (+ the file's sha256) marking a dataset whose consents a store holds already, so
# serving the same file again on a kept SQLite store does not load its consents twice.
LOADED_META = "dataset:"


class DatasetError(ValueError):
    """A dataset that cannot be used; the message names the file and, when it can, the line."""


@dataclass(frozen=True)
class Header:
    now: str
    shops: int
    consents: int
    seed: int | None = None
    days: int | None = None


@dataclass
class Dataset:
    path: str
    header: Header
    shops: list[Shop]
    consents: list[Consent]  # file order; ids are 0 until stored
    futures: list[dict[str, Any] | None]  # each consent's planned events after `now`, if any
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


def read_dataset(path: str) -> Dataset:
    """Parse and check a whole dataset file; `DatasetError` on the first problem."""
    digest = hashlib.sha256()
    header: Header | None = None
    shops: dict[int, Shop] = {}
    consents: list[Consent] = []
    futures: list[dict[str, Any] | None] = []
    validators = _validators()
    try:
        with open(path, "rb") as handle:
            for number, line in enumerate(handle, 1):
                digest.update(line)
                if not line.strip():
                    continue
                where = f"{path} line {number}"
                record = _json(line, where)
                if header is None:
                    header = _header(record, where)
                    continue
                kind = record.get("kind")
                if kind not in ("shop", "consent"):
                    raise DatasetError(f'{where}: kind must be "shop" or "consent" (got {kind!r})')
                _check(validators[kind], record, where)
                if kind == "shop":
                    shop = _shop(record)
                    if shop.shop_id in shops:
                        raise DatasetError(f"{where}: shop {shop.shop_id} appears twice")
                    shops[shop.shop_id] = shop
                else:
                    consents.append(_consent(record, shops, where))
                    futures.append(record.get("future"))
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


def load(sandbox: Sandbox, dataset: Dataset) -> LoadCounts:
    """Create the dataset's shops (skipping ones already there) and insert its consents once."""
    created = existing = 0
    for shop in dataset.shops:
        found = sandbox.store.shop_by_key(shop.api_key, partner=False)
        if found is not None and found.shop_id == shop.shop_id:
            existing += 1
            continue
        problem = f"{dataset.path}: cannot create shop {shop.shop_id}"
        if found is not None:
            raise DatasetError(f"{problem}: its api_key belongs to shop {found.shop_id}")
        try:
            sandbox.create_shop(shop.shop_id, shop.api_key, shop.shop_key, shop.oa_ids)
        except Conflict as exc:
            raise DatasetError(f"{problem}: {exc}") from None
        created += 1
    marker = LOADED_META + dataset.sha256
    if sandbox.store.get_meta(marker) is not None:
        return LoadCounts(created, existing, 0, already_loaded=True)
    count = sandbox.load_consents(dataset.consents, dataset.futures)
    sandbox.store.set_meta(marker, str(count))
    return LoadCounts(created, existing, count, already_loaded=False)


def load_dataset(sandbox: Sandbox, path: str) -> LoadCounts:
    return load(sandbox, read_dataset(path))


def _json(line: bytes, where: str) -> dict[str, Any]:
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise DatasetError(f"{where}: not a JSON Lines record ({exc})") from None
    if not isinstance(record, dict):
        raise DatasetError(f"{where}: a record must be a JSON object, one per line")
    return record


def _header(record: dict[str, Any], where: str) -> Header:
    if record.get("format") != FORMAT:
        raise DatasetError(f'{where}: not a dataset header (expected "format": "{FORMAT}")')
    if record.get("version") != VERSION:
        raise DatasetError(
            f"{where}: dataset version {record.get('version')!r} is not supported "
            f"(this sandbox reads version {VERSION})"
        )
    _check(_validators()["header"], record, f"{where} (header)")
    counts = record["counts"]
    return Header(
        record["now"], counts["shops"], counts["consents"], record.get("seed"), record.get("days")
    )


def _check(validator: BodyValidator, record: dict[str, Any], where: str) -> None:
    try:
        validator.validate(record)
    except TwirpError as exc:
        # The validator calls the whole object "body", as in a request; here it is a record.
        problem = "record" + exc.msg[4:] if exc.meta.get("argument") == "body" else exc.msg
        raise DatasetError(f"{where}: {problem}") from None


def _shop(record: dict[str, Any]) -> Shop:
    oa_ids = tuple(dict.fromkeys(int(oa) for oa in record["oa_ids"]))
    return Shop(int(record["shop_id"]), record["api_key"], record["shop_key"], oa_ids)


def _consent(record: dict[str, Any], shops: dict[int, Shop], where: str) -> Consent:
    shop = shops.get(int(record["shop_id"]))
    if shop is None:
        raise DatasetError(f"{where}: shop_id {record['shop_id']} is no shop listed above")
    oa_id = int(record["oa_id"])
    if oa_id not in shop.oa_ids:
        raise DatasetError(f"{where}: oa_id {oa_id} is not an OA of shop {shop.shop_id}")
    delivery_time, expires_at = record["delivery_time"], record["expires_at"]
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
        delivery_time=parse_rfc3339(delivery_time) if delivery_time else None,
        is_charged=record["is_charged"],
        error_code=record["error_code"],
        error_message=record["error_message"],
        expires_at=parse_rfc3339(expires_at) if expires_at else None,
        created_at=parse_rfc3339(record["created_at"]),
        updated_at=parse_rfc3339(record["updated_at"]),
    )


@cache
def _validators() -> dict[str, BodyValidator]:
    """Header, shop and consent record schemas; `#/components/...` refs point into the spec."""
    spec = wire_spec()
    consent = spec.schema("Consent")
    consent_record = {
        "type": "object",
        "required": ["kind", *(name for name in consent["required"] if name != "id")],
        "properties": {
            **{name: rule for name, rule in consent["properties"].items() if name != "id"},
            "kind": {"const": "consent"},
            "phone": {"$ref": "#/components/schemas/Phone"},  # as RequestConsent accepts it
            "customer_name": {"type": "string"},
            "future": {
                "type": "object",
                "properties": {
                    "received_at": {"$ref": "#/components/schemas/DateTime"},
                    "seen_at": {"$ref": "#/components/schemas/DateTime"},
                    "reply_at": {"$ref": "#/components/schemas/DateTime"},
                    "reply": {"$ref": "#/components/schemas/ReplyStatus"},
                },
                "additionalProperties": False,
            },
        },
        "additionalProperties": False,
    }
    shop_record = {
        "type": "object",
        "required": ["kind", "shop_id", "api_key", "shop_key", "oa_ids"],
        "properties": {
            "kind": {"const": "shop"},
            "shop_id": {"$ref": "#/components/schemas/OAId"},  # any non-zero int64
            "name": {"type": "string"},
            "api_key": {"type": "string", "minLength": 1},
            "shop_key": {"type": "string", "minLength": 1},
            "oa_ids": {
                "type": "array",
                "minItems": 1,
                "items": {"$ref": "#/components/schemas/OAId"},
            },
        },
        "additionalProperties": False,
    }
    count = {"type": "integer", "minimum": 0}
    header = {
        "type": "object",
        "required": ["format", "version", "now", "counts"],
        "properties": {
            "now": {"$ref": "#/components/schemas/DateTime"},
            "seed": {"type": "integer"},
            "days": {"type": "integer", "minimum": 1},
            "counts": {
                "type": "object",
                "required": ["shops", "consents"],
                "properties": {"shops": count, "consents": count},
            },
        },
    }
    return {
        name: BodyValidator(spec.document, schema)
        for name, schema in (("header", header), ("shop", shop_record), ("consent", consent_record))
    }
