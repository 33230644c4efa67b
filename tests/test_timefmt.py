"""Times on the wire: RFC 3339 in UTC, Go's RFC3339Nano trimming, exact round trips."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from mock_server.domain.timefmt import format_rfc3339, parse_rfc3339

instants = st.integers(min_value=-(10**12), max_value=253402300799999)


@given(instants)
def test_format_then_parse_is_exact(ms: int) -> None:
    assert parse_rfc3339(format_rfc3339(ms)) == ms


@given(instants)
def test_format_agrees_with_datetime(ms: int) -> None:
    moment = datetime.fromtimestamp(ms // 1000, UTC)
    text = format_rfc3339(ms)
    assert text.startswith(moment.strftime("%Y-%m-%dT%H:%M:%S"))
    assert text.endswith("Z")
    fraction = text[19:-1]
    assert fraction == ("" if ms % 1000 == 0 else f".{ms % 1000:03d}".rstrip("0"))


def test_examples() -> None:
    assert format_rfc3339(1566656122000) == "2019-08-24T14:15:22Z"  # the docs' example
    assert format_rfc3339(1566656122100) == "2019-08-24T14:15:22.1Z"
    assert parse_rfc3339("2019-08-24T21:15:22+07:00") == 1566656122000
    assert parse_rfc3339("2019-08-24T14:15:22") == 1566656122000  # no offset: UTC
