"""The domain's own errors. The HTTP edge maps each class to a Twirp code (http/twirp.py)."""

from __future__ import annotations


class DomainError(Exception):
    """A request the domain refuses. `field` names the input at fault, when one is."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidField(DomainError):
    """An input value the rules do not accept: the message is "<field> <problem>"."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field} {problem}", field)
        self.problem = problem


class Unauthenticated(DomainError):
    """No key, or a key no shop holds."""


class NotFound(DomainError):
    """A record the request names does not exist."""


class NotOwned(DomainError):
    """An OA id that is not one of the shop's (its Twirp code is a setting: INF)."""


class AlreadyExists(DomainError):
    """A unique value (a shop id, a key) is taken already."""


class Conflict(DomainError):
    """The request conflicts with the state as it is now (a clock asked to go back)."""


class FailedPrecondition(DomainError):
    """The state does not allow the change (a final consent, a clock that cannot go back)."""


class Unavailable(DomainError):
    """The store cannot be reached now (its database connection is lost): try again later."""
