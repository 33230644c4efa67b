"""The PostgreSQL store as its users meet it: named by a URL (flag or environment), its schema
made once and kept across restarts, a newer schema refused in one line, and its password
never shown, whether `serve` starts or fails."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace

import psycopg
import pytest
from starlette.testclient import TestClient

from mock_server import Settings, create_app
from mock_server.app import build_services
from mock_server.datasets.load import load_dataset
from mock_server.domain.model import Consent, OfficialAccount, Shop
from mock_server.domain.query import ConsentQuery
from mock_server.settings import settings_from_env
from mock_server.spec import data_dir
from mock_server.store import PostgresOptions
from mock_server.store.postgres import PostgresStore, _where
from mock_server.store.postgres_schema import VERSION, VERSION_TABLE
from tests.conftest import DEMO, QUIET, START, Api, new_shop
from tests.postgres import fresh_schema
from tests.processes import read_line, run_cli
from tests.specs import SPECS

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_a_url_names_the_store_from_the_environment(scheme: str) -> None:
    url = f"{scheme}://team:s3cret@db.internal:5432/sandbox"
    settings = settings_from_env({"ETELECOM_SANDBOX_STORE": url})
    assert (settings.store_kind, settings.store_path) == ("postgresql", url)
    assert settings.store_label == f"postgresql {scheme}://team:***@db.internal:5432/sandbox"


def test_the_schema_is_made_once_and_kept_across_restarts(postgres_store: str) -> None:
    settings = Settings(store=postgres_store, clock_start=START, clock_rate=0, **QUIET)
    with TestClient(create_app(settings, SPECS)) as client:
        api = Api(client, DEMO.demo_api_key, DEMO.demo_shop_key, str(DEMO.demo_oa_ids[0]))
        made = [api.request_consent(phone=f"091{n:07d}") for n in range(1, 4)]
        other = new_shop(client, api_key="keep-me", shop_key="shop-keep-me")
        theirs = other.request_consent()
        client.post("/_sandbox/clock", json={"advance": "3h"})
    with TestClient(create_app(settings, SPECS)) as client:
        api = Api(client, DEMO.demo_api_key, DEMO.demo_shop_key, str(DEMO.demo_oa_ids[0]))
        assert api.page()["consents"] == list(reversed(made))
        assert Api(client, "keep-me", "shop-keep-me", theirs["oa_id"]).page()["consents"] == [
            theirs
        ]
        assert client.get("/_sandbox/clock").json()["now"] == "2026-01-01T03:00:00Z"
        assert client.get("/_sandbox/health").json()["store"] == "postgresql"
    with psycopg.connect(postgres_store) as db:
        assert db.execute(f"SELECT version FROM {VERSION_TABLE}").fetchall() == [(VERSION,)]


def test_a_newer_schema_is_refused_in_one_line() -> None:
    with fresh_schema() as store:  # its own: its version is changed
        PostgresStore(store, PostgresOptions()).close()
        with psycopg.connect(store) as db:
            db.execute(f"UPDATE {VERSION_TABLE} SET version = %s", (VERSION + 1,))
        result = run_cli(["serve", "--port", "0", "--store", store])
    assert result.returncode == 2
    line = result.stderr.strip()
    assert "\n" not in line and line.startswith("etelecom-sandbox: error: cannot start: ")
    assert f"version {VERSION + 1}, newer than this sandbox's {VERSION}" in line, line
    assert ":***@" in line and password_of(store) not in line


def password_of(url: str) -> str:
    return url.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]


def test_the_password_never_shows_when_serve_cannot_connect(postgres_store: str) -> None:
    wrong = postgres_store.replace(password_of(postgres_store), "not-the-password-42")
    unreachable = "postgresql://team:hunter2-secret@127.0.0.1:1/sandbox"
    for url, secret in ((wrong, "not-the-password-42"), (unreachable, "hunter2-secret")):
        result = run_cli(["serve", "--port", "0", "--store", url])
        assert result.returncode == 2
        line = result.stderr.strip()
        assert "\n" not in line and "cannot start: cannot reach postgresql://" in line, line
        assert secret not in result.stderr + result.stdout and ":***@" in line


def test_the_readiness_line_shows_the_url_masked(postgres_store: str) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "mock_server", "serve", "--port", "0", "--workers", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "ETELECOM_SANDBOX_STORE": postgres_store},
    )
    try:
        ready = read_line(process.stdout, timeout=60)
    finally:
        process.terminate()
        out, err = process.communicate(timeout=30)
    secret = password_of(postgres_store)
    assert f"(store postgresql {postgres_store.replace(secret, '***')}, 2 workers;" in ready
    assert secret not in ready + out + err


def test_listing_is_served_by_an_index(postgres_store: str) -> None:
    """Each listing order, with and without a phone filter, walks an index: no sort of the
    whole result (with sequential scans off, so the small test table does not hide it)."""
    PostgresStore(postgres_store, PostgresOptions()).close()  # makes the schema
    cases = [
        (ConsentQuery(shop_id=1), "consents_by_created"),
        (ConsentQuery(shop_id=1, descending=False), "consents_by_created"),
        (ConsentQuery(shop_id=1, sort_field="updated_at"), "consents_by_updated"),
        (ConsentQuery(shop_id=1, phone_norm="84912345678"), "consents_by_phone"),
        (ConsentQuery(shop_id=1, call_type="audio", status="P"), "consents_by_created"),
    ]
    with psycopg.connect(postgres_store) as db:
        db.execute("SET enable_seqscan = off")
        for query, index in cases:
            where, params = _where(query)
            where.append(f"({query.sort_field}, id) < (%s, %s)")
            order = "DESC" if query.descending else "ASC"
            plan = db.execute(
                f"EXPLAIN SELECT * FROM consents WHERE {' AND '.join(where)} "
                f"ORDER BY {query.sort_field} {order}, id {order} LIMIT 101",
                (*params, 0, 0),
            ).fetchall()
            text = " ".join(str(row[0]) for row in plan)
            assert f"using {index}" in text and "Sort" not in text, (query, text)


PLANNED_PAGES = 5_000  # consents: past ~1,600, `LIMIT $n` was planned afresh every time


def test_a_list_page_is_planned_once_however_many_consents_are_stored(postgres_store: str) -> None:
    """Pages on a large table reuse their plan: after psycopg prepares a list statement, the
    server's plan cache picks its generic plan. With the limit passed as a parameter it
    expected a tenth of the table and chose a new custom plan for every page instead."""
    store = PostgresStore(postgres_store, PostgresOptions(pool_size=1))  # one session to ask
    try:
        shop = Shop(7, "plan-key", "plan-shop-key", (OfficialAccount(70, "oa"),))
        store.create_shop(shop)
        phones = [f"8490{n:07d}" for n in range(50)]
        template = Consent(0, 7, 1, 70, "", "", "audio", "r", "S", "P", "unknown", None, False,
                           0, "", None, 0, 0)  # fmt: skip
        made = store.insert_many(
            replace(template, phone_norm=phones[n % 50], created_at=n, updated_at=n)
            for n in range(PLANNED_PAGES)
        )
        assert made == PLANNED_PAGES
        queries = {  # a page of 101 rows asked, and how many there are
            ConsentQuery(shop_id=7): 101,
            ConsentQuery(shop_id=7, phone_norm=phones[3]): PLANNED_PAGES // len(phones),
            ConsentQuery(shop_id=7, reply_status="P"): 101,
        }
        for query, rows in queries.items():
            for _ in range(30):  # psycopg prepares at the 6th; the server plans 5 custom first
                assert len(store.scan_rows(query, None, False, 101)) == rows
        plans = store._db.run(
            lambda conn: conn.execute(
                "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements "
                "WHERE statement LIKE '%FROM consents WHERE shop_id%'"
            ).fetchall()
        )
    finally:
        store.close()
    assert len(plans) == len(queries), plans
    assert all(generic > custom for _, generic, custom in plans), plans


def test_commits_wait_for_their_flush_only_when_asked(postgres_store: str) -> None:
    """By default the store's connections acknowledge a commit before its flush; asked, they
    keep the server's own setting (`on` on the test server)."""
    shown = []
    for durable in (False, True):
        store = PostgresStore(postgres_store, PostgresOptions(synchronous_commit=durable))
        try:
            shown.append(
                store._db.run(lambda conn: conn.execute("SHOW synchronous_commit").fetchone())
            )
        finally:
            store.close()
    assert shown == [("off",), ("on",)]


def test_a_dataset_load_leaves_the_planner_fresh_statistics(postgres_store: str) -> None:
    """A table just filled by COPY is analysed at once (autovacuum comes later): a filtered
    page is then planned on the index, not as if the table were empty."""
    settings = Settings(store=postgres_store, clock_start=START, clock_rate=0)
    sandbox = build_services(settings, SPECS)
    loaded = load_dataset(
        sandbox, str(data_dir("fixtures") / "datasets" / "demo.jsonl"), SPECS.wire
    )
    sandbox.close()
    assert loaded.consents > 0
    with psycopg.connect(postgres_store) as db:
        stats = db.execute(
            "SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables "
            "WHERE relid = 'consents'::regclass"
        ).fetchone()
    assert stats == (True,), stats  # analysed, not left to autovacuum
