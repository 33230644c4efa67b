"""What keeps a page on another site from driving or reading the sandbox through the browser of
the developer who runs it. Only `/_sandbox/` is guarded; the wire API answers real clients as
before (its calls need a key a foreign page does not have).

- DNS rebinding: a foreign name made to point at 127.0.0.1 reaches the sandbox with that name
  as its Host. The control API and the inspector answer only to loopback names, the address
  the request came in on, the bound host and `allowed_hosts` (`*` allows any).
- Cross-site requests: a form or a fetch from another site may send a request (it cannot read
  the answer). A call that changes state is refused when the browser says it comes from
  another origin (`Origin`) or site (`Sec-Fetch-Site`); programs send neither. The control API
  also needs a JSON Content-Type for such calls, which no form can send.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from mock_server.hosts import is_loopback

GUARDED = "/_sandbox"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
DEFAULT_PORTS = {"http": "80", "https": "443"}


def _split(host: str) -> tuple[str, str]:
    """`127.0.0.1:8080` -> (`127.0.0.1`, `8080`); `[::1]` -> (`::1`, ``)."""
    host = host.strip().lower()
    if host.startswith("["):
        name, _, rest = host[1:].partition("]")
        return name, rest.removeprefix(":")
    if host.count(":") == 1:
        name, _, port = host.partition(":")
        return name, port
    return host, ""


def _host_name(host: str) -> str:
    return _split(host)[0]


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", ())}


class Guard:
    def __init__(self, allowed_hosts: Iterable[str]) -> None:
        self.any_host = "*" in allowed_hosts
        self.allowed = {_host_name(h) for h in allowed_hosts if h.strip() and h != "*"}

    def host_allowed(self, host: str, server: str | None) -> bool:
        name = _host_name(host)
        return (
            self.any_host
            or not name
            or is_loopback(name)
            or name.endswith(".localhost")
            or name in self.allowed
            or (server is not None and name == _host_name(server))
        )

    def refusal(self, scope: Scope) -> str | None:
        """Why a request under /_sandbox/ is refused, or None."""
        headers = _headers(scope)
        host = headers.get("host", "")
        server = scope.get("server")
        if not self.host_allowed(host, server[0] if server else None):
            return (
                f'Host "{host}" is not one this sandbox answers to on /_sandbox/ (loopback '
                "names, the address it was reached on, allowed_hosts)"
            )
        if scope["method"] in SAFE_METHODS:
            return None
        site = headers.get("sec-fetch-site", "")
        if site in ("cross-site", "same-site"):
            return f"a {site} request may not change the sandbox (Sec-Fetch-Site)"
        origin = headers.get("origin")
        if origin is not None and not _same_origin(origin, scope.get("scheme", "http"), host):
            return f'a request from origin "{origin}" may not change the sandbox'
        return None


def _same_origin(origin: str, scheme: str, host: str) -> bool:
    parts = urlsplit(origin)
    if parts.scheme != scheme or scheme not in DEFAULT_PORTS or not parts.hostname:
        return False  # "null" (a sandboxed frame, a file), another scheme, or something odd
    default = DEFAULT_PORTS[parts.scheme]
    name, port = _split(host)
    return parts.hostname.lower() == name and str(parts.port or default) == (port or default)


class GuardMiddleware:
    def __init__(self, app: ASGIApp, guard: Guard, refuse: Callable[[str], Response]) -> None:
        self.app = app
        self.guard = guard
        self.refuse = refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(GUARDED):
            problem = self.guard.refusal(scope)
            if problem is not None:
                await self.refuse(problem)(scope, receive, send)
                return
        await self.app(scope, receive, send)
