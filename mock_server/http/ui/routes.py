"""The inspector's routes: each view as HTML (a whole page, or with `fragment=1` just its live
region) or as JSON (`Accept: application/json` or `format=json`), the live event stream, the
sign-in for a sandbox with a control token, and the static files (no CDN: they ship here)."""

from __future__ import annotations

import inspect
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from mock_server.domain.errors import DomainError
from mock_server.http.auth import cookie_header, has_token, matches
from mock_server.http.bodies import json_response
from mock_server.http.twirp import TwirpError
from mock_server.http.ui import (
    consents_pages,
    coverage_page,
    sandbox_pages,
    timeline_page,
    traffic_pages,
)
from mock_server.http.ui.context import Inspector
from mock_server.http.ui.html import el
from mock_server.http.ui.layout import (
    BASE,
    SECURITY_HEADERS,
    STATIC,
    View,
    clock_data,
    page,
    sign_in,
)
from mock_server.http.ui.live import LiveUpdates

STATIC_DIR = Path(__file__).resolve().parent / "static"
Build = Callable[[Inspector, Request], View | Awaitable[View]]


def wants_json(request: Request) -> bool:
    if request.query_params.get("format") == "json":
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def _html(content: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(content, status_code=status, headers=SECURITY_HEADERS)


def _unauthorized(request: Request) -> Response:
    if wants_json(request):
        raise TwirpError("unauthenticated", "the inspector needs the control token")
    return _html(sign_in(), 401)


class Fragments:
    """Live regions by URL when it names the version a push announced (`v`): every page open on
    a view reloads it on the same tick, and one rendering serves them all."""

    SIZE = 64

    def __init__(self) -> None:
        self._kept: OrderedDict[str, tuple[str, int]] = OrderedDict()

    def get(self, url: str) -> tuple[str, int] | None:
        return self._kept.get(url)

    def keep(self, url: str, body: str, status: int) -> None:
        self._kept[url] = (body, status)
        while len(self._kept) > self.SIZE:
            self._kept.popitem(last=False)


def view_endpoint(
    ins: Inspector, build: Build, fragments: Fragments
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        if not has_token(request, ins.token):
            return _unauthorized(request)
        shared = request.query_params.get("fragment") and request.query_params.get("v")
        if shared and not wants_json(request):
            kept = fragments.get(str(request.url))
            if kept is not None:
                return _html(*kept)
        try:
            made = build(ins, request)
            view = await made if inspect.isawaitable(made) else made
        except DomainError as error:
            data, status = ins.problem(error)
            live = el("p", data["msg"], class_="error", role="alert")
            view = View("", "Not found" if status == 404 else "Refused", data, live, status=status)
        if wants_json(request):
            return json_response(view.data, view.status)
        if request.query_params.get("fragment"):
            if shared:
                fragments.keep(str(request.url), view.live, view.status)
            return _html(view.live, view.status)
        clock = ins.services.time.get_clock()
        return _html(page(view, clock_data(clock.now, clock.rate), ins.journal.seq), view.status)

    return endpoint


def events_endpoint(ins: Inspector, live: LiveUpdates) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        if not has_token(request, ins.token):
            raise TwirpError("unauthenticated", "the inspector needs the control token")
        raw = request.headers.get("last-event-id", "")
        last_id = int(raw) if raw.isdigit() else None
        return StreamingResponse(
            live.stream(last_id),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    return endpoint


def login_endpoint(ins: Inspector) -> Callable[[Request], Awaitable[Response]]:
    """A browser gives the control token once; it is kept in an HttpOnly, SameSite cookie."""

    async def endpoint(request: Request) -> Response:
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        given = (form.get("token") or [""])[0]
        if ins.token is None:
            return RedirectResponse(BASE, status_code=303)
        if not given or not matches(given, ins.token):
            return _html(sign_in("That is not this sandbox's control token."), 401)
        response = RedirectResponse(BASE, status_code=303)
        response.headers["Set-Cookie"] = cookie_header(ins.token)
        return response

    return endpoint


def ui_routes(ins: Inspector, live: LiveUpdates) -> list[BaseRoute]:
    views: list[tuple[str, Build]] = [
        (BASE, consents_pages.shops),
        (f"{BASE}/shops/{{shop_id:int}}/consents", consents_pages.consents),
        (f"{BASE}/shops/{{shop_id:int}}/coverage", coverage_page.coverage),
        (f"{BASE}/consents/{{consent_id:int}}", timeline_page.timeline),
        (f"{BASE}/clock", sandbox_pages.clock),
        (f"{BASE}/rules", sandbox_pages.rules),
        (f"{BASE}/faults", sandbox_pages.faults),
        (f"{BASE}/outbox", traffic_pages.outbox),
        (f"{BASE}/journal", traffic_pages.journal),
    ]
    fragments = Fragments()
    routes: list[BaseRoute] = [
        Route(path, view_endpoint(ins, build, fragments), methods=["GET"]) for path, build in views
    ]
    routes += [
        Route(f"{BASE}/events", events_endpoint(ins, live), methods=["GET"]),
        Route(f"{BASE}/login", login_endpoint(ins), methods=["POST"]),
        Mount(STATIC, StaticFiles(directory=STATIC_DIR), name="inspector-static"),
    ]
    return routes
