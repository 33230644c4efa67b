"""PostgreSQL store URLs: which strings name one, and how to show one without its password."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit, urlunsplit

SCHEMES = ("postgresql", "postgres")
MASK = "***"


def is_postgres_url(text: str) -> bool:
    return text.partition("://")[0].lower() in SCHEMES and "://" in text


def secrets_of(url: str) -> list[str]:
    """The URL's password, as written and decoded (either may show up in a message)."""
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    if not password:
        return []
    return sorted({password, unquote(password)}, key=len, reverse=True)


def mask(url: str) -> str:
    """The URL with its password replaced by ***, for messages and logs."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        user = parts.username or ""
        host = parts.netloc.rpartition("@")[2]
        return urlunsplit(parts._replace(netloc=f"{user}:{MASK}@{host}"))
    except ValueError:  # not even a URL: show nothing of what follows the scheme
        return f"{url.partition('://')[0]}://{MASK}"


def scrub(text: str, url: str) -> str:
    """`text` without the URL's password anywhere in it."""
    for secret in secrets_of(url):
        text = text.replace(secret, MASK)
    return text
