"""The live-mode guard on its own: what counts as live, what it lets through, the cap."""

from __future__ import annotations

import unittest

import orjson
import pytest

from contract_tests.guard import Guard, LiveWriteRefused, RequestCapReached
from contract_tests.redact import MASK, Redactor
from contract_tests.specfacts import facts
from mock_server.hosts import is_local_url as is_local

WRITE = facts().operation("RequestConsent").path
READ = facts().operation("ListRequestConsent").path


def consent(phone: str) -> bytes:
    return orjson.dumps({"oa_id": "1", "phone": phone, "call_type": "audio"})


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("http://127.0.0.1:8080", True),
        ("http://127.3.4.5", True),
        ("http://localhost:1", True),
        ("http://[::1]:8080", True),
        ("https://api.etelecom.vn", False),
        ("http://10.0.0.7:8080", False),
        ("http://0.0.0.0:8080", False),
        ("http://localhost.example.com", False),
    ],
)
def test_only_loopback_is_local(url: str, local: bool) -> None:
    assert is_local(url) is local


def test_the_spec_marks_request_consent_as_a_write() -> None:
    # The guard's notion of a write comes from `x-writes`; losing it would open live writes.
    assert {op.name for op in facts().operations if op.writes} >= {"RequestConsent"}


def test_live_without_permission_refuses_writes_and_unknown_paths() -> None:
    guard = Guard(facts(), live=True)
    guard.admit("POST", READ, b"{}")
    for path in (WRITE, "/_sandbox/shops", "/v1/shop.Zalo/Unknown"):
        with pytest.raises(LiveWriteRefused, match="--allow-writes"):
            guard.admit("POST", path, consent("0911111111"))
    assert (guard.sent, guard.refused) == (1, 3)


def test_live_with_permission_takes_only_the_test_phones_in_any_form() -> None:
    guard = Guard(facts(), live=True, allow_writes=True, test_phones=["0911111111"])
    for phone in ("0911111111", "84911111111", "+84911111111"):
        guard.admit("POST", WRITE, consent(phone))
    for body in (consent("0922222222"), b"{not json", b"{}"):
        with pytest.raises(LiveWriteRefused, match="--test-phone"):
            guard.admit("POST", WRITE, body)
    assert guard.sent == 3


def test_permission_without_a_test_phone_is_no_permission() -> None:
    guard = Guard(facts(), live=True, allow_writes=True)
    assert not guard.writes_allowed
    with pytest.raises(LiveWriteRefused):
        guard.admit("POST", WRITE, consent("0911111111"))


def test_local_targets_take_anything() -> None:
    guard = Guard(facts(), live=False)
    guard.admit("POST", WRITE, consent("0922222222"))
    guard.admit("GET", "/_sandbox/health", b"")
    assert guard.sent == 2


def test_the_cap_stops_the_run_as_a_skip() -> None:
    guard = Guard(facts(), live=False, max_requests=2)
    guard.admit("POST", READ, b"{}")
    guard.admit("POST", READ, b"{}")
    assert guard.exhausted
    with pytest.raises(RequestCapReached, match="request cap") as caught:
        guard.admit("POST", READ, b"{}")
    # A skip: Hypothesis re-raises it at once instead of shrinking, pytest reports a skip.
    assert isinstance(caught.value, unittest.SkipTest)
    assert guard.sent == 2


def test_redaction_masks_keys_and_their_secret_part() -> None:
    redactor = Redactor(["42:very-secret-part"])
    text = redactor.scrub("Bearer 42:very-secret-part; echoed very-secret-part")
    assert "very-secret-part" not in text and text.count(MASK) == 2
