"""What every inspector view reads from: the services, the wire codec and the spec's values,
the journal, and the control API's operations (for the faults view)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mock_server.domain.errors import DomainError
from mock_server.http.codec import WireCodec
from mock_server.http.journal import Journal
from mock_server.http.twirp import ErrorTable
from mock_server.services import Services
from mock_server.spec import Specs
from mock_server.spec.validator import BodyValidator

# The wire enums the consents view offers in its filters, by filter name.
FILTER_ENUMS = {
    "call_type": "CallType",
    "reason_code": "ReasonCode",
    "status": "Status",
    "reply_status": "ReplyStatus",
}


@dataclass
class Inspector:
    services: Services
    codec: WireCodec
    journal: Journal
    errors: ErrorTable
    list_validator: BodyValidator
    enums: dict[str, tuple[str, ...]]  # filter name -> its documented values; "sort" too
    force_actions: tuple[str, ...]
    # path -> method -> operationId of the control spec, and the handlers by operationId
    control_routes: dict[str, dict[str, str]]
    control_handlers: dict[str, Any]
    token: str | None

    @classmethod
    def build(
        cls,
        services: Services,
        specs: Specs,
        codec: WireCodec,
        journal: Journal,
        errors: ErrorTable,
        handlers: dict[str, Any],
        token: str | None,
    ) -> Inspector:
        wire = specs.wire
        listing = wire.operation("ListRequestConsent")
        assert listing.request_schema is not None
        enums = {name: wire.enum(schema) for name, schema in FILTER_ENUMS.items()}
        enums["sort"] = wire.enum("SortField")
        return cls(
            services=services,
            codec=codec,
            journal=journal,
            errors=errors,
            list_validator=wire.validators.body(listing.request_schema),
            enums=enums,
            force_actions=specs.control.enum("ForceConsent", "action"),
            control_routes={
                path: {method: op.operation_id for method, op in ops.items()}
                for path, ops in specs.control.routes.items()
            },
            control_handlers=handlers,
            token=token,
        )

    def problem(self, error: DomainError) -> tuple[dict[str, Any], int]:
        """A domain error as the control API would answer it: Twirp body and status."""
        twirp = self.errors.from_domain(error)
        return twirp.body(), self.errors.status_by_code.get(twirp.code, 500)
