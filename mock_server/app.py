"""The composition root: specs + settings -> store, services, routes, lifespan.

`create_app(settings, specs=None)` is the public way to get the Starlette app (ASGI). Nothing
here is cached at module level: each app reads the specs it is given (or the bundled ones).
"""

from __future__ import annotations

import os
from pathlib import Path

from starlette.applications import Starlette

from mock_server import collector
from mock_server.domain import check, lifecycle
from mock_server.domain.behaviour import FAILURES
from mock_server.domain.clock import Clock
from mock_server.domain.coverage import Model, Tally, coverage_model
from mock_server.domain.coverage_read import Burst
from mock_server.domain.fault_book import FaultBook
from mock_server.domain.faults import FaultPolicy
from mock_server.domain.ids import secret_for
from mock_server.domain.paging import CursorCodec
from mock_server.domain.policy import Behaviours, Policy
from mock_server.domain.scenarios import RuleBook
from mock_server.domain.timefmt import parse_rfc3339, within_range
from mock_server.domain.world import World
from mock_server.http.asgi import EdgeSettings, build_app
from mock_server.http.faults import HEADER_MODES
from mock_server.services import ClockStart, Services
from mock_server.services.clock import ClockService
from mock_server.services.consents import ConsentService
from mock_server.services.coverage import CoverageService, Reading
from mock_server.services.faults import FaultService
from mock_server.services.inspector import InspectorService
from mock_server.services.loading import LoadService
from mock_server.services.scenarios import ScenarioService, load_scenario_file, read_scenario_file
from mock_server.services.shops import DemoShop, ShopService
from mock_server.services.webhook_faults import DeliveryFaults
from mock_server.services.webhooks import DeliveryRules, WebhookService
from mock_server.settings import Settings
from mock_server.spec import Specs, data_dir, load_specs
from mock_server.spec.facts import SpecFacts
from mock_server.store import KINDS, PostgresOptions, open_store

MAGIC_PHONES = "magic-phones.yaml"


def create_app(
    settings: Settings | None = None,
    specs: Specs | None = None,
    services: Services | None = None,
) -> Starlette:
    """The sandbox as an ASGI app. Give `services` to serve ones built already (a dataset
    loaded into them, say); they must come from the same settings and specs."""
    settings = settings or Settings()
    specs = specs or load_specs()
    facts = SpecFacts.read(specs, KINDS)
    services = services or build_services(settings, specs, facts)
    edge = EdgeSettings(
        control_token=settings.control_token,
        journal_size=settings.journal_size,
        journal_bytes=settings.journal_mb * 1024 * 1024,
        foreign_oa_error=settings.foreign_oa_error,
        encode_cache_bytes=settings.encode_cache_mb * 1024 * 1024,
        list_cache_bytes=settings.list_cache_mb * 1024 * 1024,
        fault_headers=settings.fault_headers,
        fault_hang_seconds=settings.fault_hang_seconds,
        allowed_hosts=tuple(h.strip() for h in settings.allowed_hosts.split(",") if h.strip()),
    )
    return build_app(services, specs, facts, edge)


WORKER_SETTINGS = "ETELECOM_SANDBOX_WORKER_SETTINGS"


def worker_app() -> Starlette:
    """The app of one `serve --workers N` process: the parent's settings, from its environment.
    The parent made the store ready (schema, demo shop, dataset) before the workers start.
    Its collector is tuned as `serve`'s is: this process serves once its app is made."""
    with collector.loading():
        app = create_app(Settings.from_json(os.environ[WORKER_SETTINGS]))
    collector.serving()
    return app


def build_services(
    settings: Settings, specs: Specs | None = None, facts: SpecFacts | None = None
) -> Services:
    """Open the store and build every service on it, started (demo shop, clock, rules)."""
    specs = specs or load_specs()
    facts = facts or SpecFacts.read(specs, KINDS)
    policy = policy_for(settings, facts)
    validate_file = specs.control.validators.body(
        specs.control.schema("ScenarioFile"), whole="file"
    ).validate
    magic = (
        read_scenario_file(data_dir("fixtures") / "scenarios" / MAGIC_PHONES, validate_file)
        if settings.magic_phones
        else []
    )
    fault_policy = fault_policy_for(settings, facts)
    scenario_file = (
        load_scenario_file(Path(settings.scenarios), validate_file, fault_policy)
        if settings.scenarios
        else None
    )
    model, reading = model_for(settings, facts), reading_for(settings)
    store = open_store(
        settings.store_kind,
        settings.store_path,
        PostgresOptions(
            settings.postgres_pool_size,
            settings.postgres_timeout_seconds,
            settings.postgres_synchronous_commit,
        ),
    )
    clock = Clock(store)
    faults = FaultService(
        store,
        clock,
        FaultBook(store, fault_policy),
        scenario_file.faults if scenario_file else None,
    )
    world = World(store, clock, policy.webhook_app_id)
    tally = Tally(settings.coverage)
    rules = RuleBook(store, magic)
    demo = DemoShop(
        settings.demo_shop_id, settings.demo_api_key, settings.demo_shop_key, settings.demo_oa_ids
    )
    start = _clock_start(settings.clock_start)
    services = Services(
        store=store,
        clock=clock,
        world=world,
        clock_start=ClockStart(start, settings.clock_rate),
        shops=ShopService(store, settings.seed, demo),
        consents=ConsentService(
            store,
            world,
            rules,
            policy,
            CursorCodec(secret_for(settings.seed, "cursor")),
            facts.check_messages,
        ),
        time=ClockService(store, clock),
        scenarios=ScenarioService(rules, scenario_file.rules if scenario_file else None),
        webhooks=WebhookService(
            store,
            world,
            DeliveryRules(
                settings.webhook_max_attempts,
                settings.webhook_backoff_seconds,
                settings.webhook_timeout_seconds,
                settings.drain_seconds,
            ),
            faults=DeliveryFaults(store, clock, faults),
            tally=tally,
        ),
        loading=LoadService(store, policy.call_window_ms),
        faults=faults,
        inspector=InspectorService(store, world),
        coverage=CoverageService(store, world, model, tally, reading),
    )
    try:
        services.start()
    except BaseException:
        store.close()
        raise
    return services


def policy_for(settings: Settings, facts: SpecFacts) -> Policy:
    """The domain's policy; settings the spec cannot honour stop the sandbox (ValueError)."""
    s = settings
    if s.foreign_oa_error not in facts.twirp_codes:
        raise ValueError(f"foreign_oa_error {s.foreign_oa_error!r} is no Twirp code")
    if s.phone_echo not in ("as_sent", "normalized"):
        raise ValueError(f"phone_echo {s.phone_echo!r}: use as_sent or normalized")
    if s.pending_duplicate not in ("fail", "allow"):
        raise ValueError(f"pending_duplicate {s.pending_duplicate!r}: use fail or allow")
    if not s.default_sort or s.default_sort not in facts.sort_fields:
        raise ValueError(f"default_sort {s.default_sort!r} is not a sort the spec has")
    if not 0 <= s.p_agree + s.p_reject <= 1 or min(s.p_agree, s.p_reject) < 0:
        raise ValueError("p_agree and p_reject must be chances that add up to at most 1")
    return Policy(
        seed=s.seed,
        reply_window_ms=s.reply_window_seconds * 1000,
        call_window_ms=s.call_window_seconds * 1000,
        behaviours=Behaviours(
            receive_delay_s=_range("receive_delay_seconds", s.receive_delay_seconds),
            see_delay_s=_range("see_delay_seconds", s.see_delay_seconds),
            reply_delay_s=_range("reply_delay_seconds", s.reply_delay_seconds),
            p_agree=s.p_agree,
            p_reject=s.p_reject,
        ),
        fail_pending_duplicate=s.pending_duplicate == "fail",
        duplicate_error_code=s.duplicate_error_code,
        echo_phone_as_sent=s.phone_echo == "as_sent",
        default_sort=s.default_sort,
        default_limit=facts.default_limit,
        max_limit=facts.max_limit,
        delivery_unset=facts.zero_values["DeliveryStatus"],
        sort_fields=facts.sort_fields,
        webhook_app_id=s.webhook_app_id,
    )


def model_for(settings: Settings, facts: SpecFacts) -> Model:
    """The coverage items: the domain's tables, with the spec's messages, codes and statuses."""
    return coverage_model(
        FAILURES,
        settings.duplicate_error_code,
        {code: facts.check_messages[code] for code in check.CODES},
        lifecycle.WEBHOOK_VALUES,
        facts.coverage_codes,
    )


def reading_for(settings: Settings) -> Reading:
    if settings.misuse_burst_requests < 1 or settings.misuse_burst_window_seconds < 1:
        raise ValueError("misuse_burst_requests and misuse_burst_window_seconds must be positive")
    return Reading(
        failure_codes=frozenset(code for code, _ in FAILURES.values()),
        duplicate_code=settings.duplicate_error_code,
        burst=Burst(settings.misuse_burst_requests, settings.misuse_burst_window_seconds * 1000),
    )


def fault_policy_for(settings: Settings, facts: SpecFacts) -> FaultPolicy:
    """What fault rules may name and how far their durations go: the specs say."""
    if settings.fault_hang_seconds <= 0:
        raise ValueError("fault_hang_seconds must be a positive number of seconds")
    if settings.fault_headers not in HEADER_MODES:
        raise ValueError(f"fault_headers {settings.fault_headers!r}: use {', '.join(HEADER_MODES)}")
    return FaultPolicy(
        operations=frozenset(facts.operation_names),
        events=frozenset(facts.webhook_events),
        codes=frozenset(facts.twirp_codes),
        max_delay_ms=facts.fault_limits["FaultDelayDuration"],
        max_retry_after_ms=facts.fault_limits["FaultRetryAfter"],
        max_ttl_ms=facts.fault_limits["FaultTtl"],
        seed=settings.seed,
    )


def _clock_start(text: str | None) -> int | None:
    if not text:
        return None
    start = parse_rfc3339(text)  # ValueError: one line from the CLI
    if not within_range(start):
        raise ValueError(f"clock_start {text!r} is outside years 1 to 9999 (UTC)")
    return start


def _range(name: str, bounds: tuple[int, ...]) -> tuple[int, int]:
    if not bounds or min(bounds) < 0:
        raise ValueError(f"{name} must be one or two non-negative numbers of seconds")
    return bounds[0], bounds[-1]
