"""Camera failures are named by what the operator should do: no answer, refused
credentials, a clock that could not be corrected, a wrong answer."""

from __future__ import annotations

import aiohttp
import pytest
import zeep.exceptions
from lxml import etree

from drivers.base import Outcome
from drivers.onvif.failures import NotAuthorized, ProbeFailure, auth_reason, classify
from drivers.onvif.picture import Check


def not_authorized() -> zeep.exceptions.Fault:
    code = etree.QName("http://www.onvif.org/ver10/error", "NotAuthorized")
    return zeep.exceptions.Fault("Sender not Authorized", code="env:Sender",
                                 subcodes=[code])


def test_wrong_password_with_an_agreeing_clock_is_wrong_credentials() -> None:
    reason = auth_reason("cam-001", "admin", 0.4, None)
    assert reason.startswith("wrong credentials: camera answered NotAuthorized")
    assert "options.username/password of cam-001" in reason


def test_a_snapshot_refusing_the_same_credentials_proves_them_wrong_even_with_skew() -> None:
    assert auth_reason("cam-001", "admin", 300.0, False).startswith(
        "wrong credentials: camera answered NotAuthorized")


def test_a_big_offset_that_did_not_help_is_uncorrectable_clock_skew() -> None:
    reason = auth_reason("cam-001", "admin", 120.4, None)
    assert reason.startswith("clock skew 120 s could not be corrected")
    assert "120 s ahead of ours" in reason and "NTP" in reason
    behind = auth_reason("cam-001", "admin", -75.0, True)
    assert behind.startswith("clock skew 75 s could not be corrected")
    assert "behind ours" in behind and "snapshot accepts the same credentials" in behind


def test_a_camera_that_will_not_tell_its_clock_gets_both_causes() -> None:
    reason = auth_reason("cam-001", None, None, None)
    assert reason.startswith("wrong credentials or clock skew")
    assert "no user name" in reason


def test_good_credentials_and_clock_but_refused_means_missing_onvif_rights() -> None:
    assert auth_reason("cam-001", "viewer", 0.0, True).startswith("ONVIF access refused")


@pytest.mark.parametrize(("exc", "check", "outcome", "words"), [
    (TimeoutError(), Check.TIMEOUT, Outcome.FAILED, ["within 2 s", "10.0.0.5:80"]),
    (aiohttp.ServerTimeoutError("slow"), Check.TIMEOUT, Outcome.FAILED, ["GetProfiles"]),
    (aiohttp.ClientConnectionError("refused"), Check.UNREACHABLE, Outcome.FAILED,
     ["unreachable at 10.0.0.5:80", "refused"]),
    (aiohttp.ServerDisconnectedError(), Check.UNREACHABLE, Outcome.FAILED,
     ["unreachable"]),
    (aiohttp.ClientPayloadError("cut short"), Check.HTTP_ERROR, Outcome.DEGRADED,
     ["broke off", "cut short"]),
    (ConnectionRefusedError(111, "Connection refused"), Check.UNREACHABLE, Outcome.FAILED,
     ["Connection refused"]),
    (zeep.exceptions.Fault("Action not supported"), Check.HTTP_ERROR, Outcome.DEGRADED,
     ["SOAP fault", "Action not supported"]),
    (zeep.exceptions.TransportError("Server error", status_code=500), Check.HTTP_ERROR,
     Outcome.DEGRADED, ["HTTP 500"]),
    (zeep.exceptions.XMLSyntaxError("junk"), Check.HTTP_ERROR, Outcome.DEGRADED,
     ["not a valid ONVIF response"]),
])
def test_exceptions_are_classified_with_step_and_place(exc: Exception, check: Check,
                                                       outcome: Outcome,
                                                       words: list[str]) -> None:
    failure = classify(exc, "GetProfiles", "10.0.0.5:80", 2.0)
    assert (failure.check, failure.outcome) == (check, outcome)
    for word in words:
        assert word in failure.reason


def test_a_not_authorized_fault_or_http_401_is_an_auth_failure() -> None:
    for exc in (not_authorized(),
                zeep.exceptions.TransportError("Unauthorized", status_code=401)):
        failure = classify(exc, "GetDeviceInformation", "h:1", 1.0)
        assert isinstance(failure, NotAuthorized)
        assert failure.check is Check.AUTH and failure.outcome is Outcome.DEGRADED


def test_our_own_bugs_are_not_blamed_on_the_camera() -> None:
    with pytest.raises(KeyError):
        classify(KeyError("oops"), "snapshot", "h:1", 1.0)
    failure = ProbeFailure(Check.BLACK, "x")
    assert classify(failure, "s", "h", 1.0) is failure
