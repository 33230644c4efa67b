"""Same seed, same requests, same clock moves: byte-identical answers. Settings from env vars."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from mock_server import Settings, create_app
from mock_server.settings import settings_from_env
from tests.conftest import DEMO, START, STORES
from tests.postgres import fresh_schema
from tests.specs import SPECS


def transcript(settings: Settings) -> list[bytes]:
    auth = {"Authorization": f"Bearer {DEMO.demo_api_key}"}
    out = []
    with TestClient(create_app(settings, SPECS)) as client:
        out.append(client.post("/_sandbox/shops", json={}).content)
        for n in range(6):
            out.append(
                client.post(
                    "/v1/shop.Zalo/RequestConsent",
                    headers=auth,
                    json={
                        "oa_id": str(DEMO.demo_oa_ids[0]),
                        "phone": f"091{n:07d}",
                        "call_type": "audio",
                        "reason_code": "update_order",
                    },
                ).content
            )
            out.append(client.post("/_sandbox/clock", json={"advance": "7m"}).content)
        out.append(
            client.post(
                "/v1/shop.Zalo/ListRequestConsent", headers=auth, json={"paging": {"limit": 4}}
            ).content
        )
    return out


@pytest.mark.parametrize("store", STORES)
def test_same_seed_gives_identical_bytes(tmp_path: Path, store: str) -> None:
    def run(name: str, seed: int) -> list[bytes]:
        with ExitStack() as stack:
            where = "memory" if store == "memory" else f"sqlite:{tmp_path / name}"
            if store == "postgresql":  # a schema of its own: ids start again there
                where = stack.enter_context(fresh_schema())
            return transcript(Settings(store=where, seed=seed, clock_start=START, clock_rate=0))

    first = run("a.sqlite3", 7)
    assert first == run("b.sqlite3", 7)
    assert first != run("c.sqlite3", 8)  # keys and cursors follow the seed


def test_settings_from_environment() -> None:
    settings = settings_from_env(
        {
            "ETELECOM_SANDBOX_SEED": "42",
            "ETELECOM_SANDBOX_STORE": "memory",
            "ETELECOM_SANDBOX_REPLY_WINDOW_SECONDS": "60",
            "ETELECOM_SANDBOX_DEMO_OA_IDS": "1,2",
            "ETELECOM_SANDBOX_CLOCK_RATE": "0",
        }
    )
    assert (settings.seed, settings.store, settings.reply_window_seconds) == (42, "memory", 60)
    assert settings.demo_oa_ids == (1, 2) and settings.clock_rate == 0.0
    with pytest.raises(ValueError, match="ETELECOM_SANDBOX_SEED"):
        settings_from_env({"ETELECOM_SANDBOX_SEED": "x"})


def test_reply_window_setting_moves_expires_at() -> None:
    settings = Settings(store="memory", clock_start=START, clock_rate=0, reply_window_seconds=90)
    with TestClient(create_app(settings, SPECS)) as client:
        created = client.post(
            "/v1/shop.Zalo/RequestConsent",
            headers={"Authorization": f"Bearer {DEMO.demo_api_key}"},
            json={
                "oa_id": str(DEMO.demo_oa_ids[0]),
                "phone": "0912345678",
                "call_type": "audio",
                "reason_code": "update_order",
            },
        ).json()
    assert created["expires_at"] == "2026-01-01T00:01:30Z"


@pytest.mark.parametrize(("code", "status"), [("permission_denied", 403), ("not_found", 404)])
def test_foreign_oa_error_setting(code: str, status: int) -> None:
    settings = Settings(store="memory", foreign_oa_error=code)
    with TestClient(create_app(settings, SPECS)) as client:
        response = client.post(
            "/v1/shop.Zalo/RequestConsent",
            headers={"Authorization": f"Bearer {DEMO.demo_api_key}"},
            json={
                "oa_id": "1",
                "phone": "0912345678",
                "call_type": "audio",
                "reason_code": "update_order",
            },
        )
    assert (response.status_code, response.json()["code"]) == (status, code)


def test_default_sort_and_phone_echo_settings() -> None:
    settings = Settings(store="memory", default_sort="created_at", phone_echo="normalized")
    auth = {"Authorization": f"Bearer {DEMO.demo_api_key}"}
    with TestClient(create_app(settings, SPECS)) as client:
        made = [
            client.post(
                "/v1/shop.Zalo/RequestConsent",
                headers=auth,
                json={
                    "oa_id": str(DEMO.demo_oa_ids[0]),
                    "phone": phone,
                    "call_type": "audio",
                    "reason_code": "update_order",
                },
            ).json()
            for phone in ("0912345678", "+84987654321")
        ]
        page = client.post("/v1/shop.Zalo/ListRequestConsent", headers=auth, json={}).json()
    assert [c["phone"] for c in made] == ["84912345678", "84987654321"]
    assert [c["id"] for c in page["consents"]] == [c["id"] for c in made]
    assert page["paging"]["sort"] == "created_at"


@pytest.mark.parametrize(
    "bad", [{"default_sort": "id"}, {"foreign_oa_error": "nope"}, {"phone_echo": "e164"}]
)
def test_a_setting_the_spec_cannot_honour_stops_start_up(bad: dict[str, str]) -> None:
    with pytest.raises(ValueError, match=next(iter(bad))):
        create_app(Settings(store="memory", **bad))  # type: ignore[arg-type]
