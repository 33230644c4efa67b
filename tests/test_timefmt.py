"""Times on the wire: RFC 3339 in UTC, Go's RFC3339Nano trimming, exact round trips."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_server.domain.timefmt import (
    FIRST_MS,
    LAST_MS,
    clamp,
    format_rfc3339,
    later,
    parse_rfc3339,
)

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


@given(st.datetimes(timezones=st.timezones() | st.just(UTC)), st.booleans())
def test_parse_agrees_with_datetime_for_any_offset(moment: datetime, millis: bool) -> None:
    moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000 if millis else 0)
    offset = moment.utcoffset()
    if offset is None or offset.seconds % 60 or offset.days < -1:
        return  # RFC 3339 offsets are whole minutes
    text = moment.isoformat(timespec="milliseconds")
    try:
        expected = int(moment.timestamp() * 1000)
    except (OverflowError, ValueError):
        return
    assert abs(parse_rfc3339(text) - expected) <= 1


def test_the_edges_of_time() -> None:
    assert parse_rfc3339("0001-01-01T00:00:00Z") == FIRST_MS
    assert parse_rfc3339("9999-12-31T23:59:59.999Z") == LAST_MS
    # Valid RFC 3339 outside the sandbox's time: parsed, for the caller to refuse or clamp.
    assert parse_rfc3339("0000-01-01T00:00:00Z") < FIRST_MS
    assert parse_rfc3339("9999-12-31T23:59:59-01:00") > LAST_MS
    assert clamp(parse_rfc3339("0000-01-01T00:00:00Z")) == FIRST_MS
    # A leap second is the first instant of the next minute.
    assert parse_rfc3339("2016-12-31T23:59:60Z") == parse_rfc3339("2017-01-01T00:00:00Z")
    assert parse_rfc3339("2026-12-31T23:59:60Z") == parse_rfc3339("2027-01-01T00:00:00Z")
    assert format_rfc3339(LAST_MS + 10**9) == "9999-12-31T23:59:59.999Z"
    assert later(LAST_MS - 5, 10**18) == LAST_MS


def test_what_is_no_date_time_is_refused() -> None:
    for text in (
        "2026-02-30T00:00:00Z",
        "2026-13-01T00:00:00Z",
        "2026-01-01T24:00:00Z",
        "2026-01-01T00:00:61Z",
        "2026-01-01T00:00:00+24:00",
        "yesterday",
        "",
    ):
        with pytest.raises(ValueError):
            parse_rfc3339(text)
