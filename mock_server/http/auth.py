"""The control token: sent as `Authorization: Bearer <token>` by programs, or kept by a browser
in a cookie that the inspector's sign-in sets (a page cannot add a header to a link)."""

from __future__ import annotations

import hmac

from starlette.requests import HTTPConnection

COOKIE = "etelecom_sandbox_token"
COOKIE_PATH = "/_sandbox"


def given_token(connection: HTTPConnection) -> str:
    """The token a request carries: its bearer token, else its cookie, else ""."""
    scheme, _, given = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and given.strip():
        return given.strip()
    return connection.cookies.get(COOKIE, "")


def has_token(connection: HTTPConnection, token: str | None) -> bool:
    """Whether the request may use the control API (always, when no token is set)."""
    return token is None or matches(given_token(connection), token)


def matches(given: str, token: str) -> bool:
    return hmac.compare_digest(given.encode(), token.encode())


def cookie_header(token: str) -> str:
    """The Set-Cookie value of a signed-in browser: script-proof and never sent cross-site."""
    return f"{COOKIE}={token}; Path={COOKIE_PATH}; HttpOnly; SameSite=Strict"
