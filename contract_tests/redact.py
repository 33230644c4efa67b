"""Keys never leave a run: every report (terminal, JUnit XML, captured output and logs) is
scrubbed of them before anyone reads it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pytest

MASK = "***"


class Redactor:
    def __init__(self, secrets: Sequence[str]) -> None:
        self.secrets = tuple(secrets)

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            # The secret part of `<id>:<secret>` is masked too, should a server echo only that.
            for part in {secret, secret.partition(":")[2]}:
                if len(part) >= 4:
                    text = text.replace(part, MASK)
        return text

    def scrub_report(self, report: pytest.TestReport | pytest.CollectReport) -> None:
        if not self.secrets:
            return
        longrepr = report.longrepr
        if isinstance(longrepr, tuple):
            # A skip: (path, line, reason), a shape the terminal summary relies on.
            path, line, reason = longrepr
            report.longrepr = (path, line, self.scrub(reason))
        elif longrepr is not None:
            text = str(longrepr)
            clean = self.scrub(text)
            if clean != text:
                report.longrepr = clean
        report.sections = [(title, self.scrub(content)) for title, content in report.sections]
