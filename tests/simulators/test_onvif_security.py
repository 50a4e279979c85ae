"""The camera's locks on the wire: WS-Security UsernameToken digests (window, replay,
PasswordText) and the SOAP faults that say why, checked with hand-made requests."""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from simulators.onvif import CameraFarm, CameraSpec, Fault
from simulators.onvif.security import parse_auth_fields
from simulators.onvif.soap import parse_duration, seconds_until

WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
PROFILE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"


def request(*, password: str = "admin123", created: datetime | None = None,
            nonce: bytes | None = None, text_password: bool = False) -> bytes:
    """GetDeviceInformation with a UsernameToken built by hand (as the spec describes)."""
    nonce = nonce if nonce is not None else os.urandom(16)
    stamp = (created or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    if text_password:
        pw = f'<wsse:Password Type="{PROFILE}#PasswordText">{password}</wsse:Password>'
    else:
        digest = base64.b64encode(hashlib.sha1(nonce + stamp.encode() + password.encode())
                                  .digest()).decode()
        pw = f'<wsse:Password Type="{PROFILE}#PasswordDigest">{digest}</wsse:Password>'
    return (f'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
            f'xmlns:wsse="{WSSE}" xmlns:wsu="{WSU}"><s:Header><wsse:Security>'
            f"<wsse:UsernameToken><wsse:Username>admin</wsse:Username>{pw}"
            f"<wsse:Nonce>{base64.b64encode(nonce).decode()}</wsse:Nonce>"
            f"<wsu:Created>{stamp}</wsu:Created></wsse:UsernameToken></wsse:Security>"
            "</s:Header><s:Body><GetDeviceInformation "
            'xmlns="http://www.onvif.org/ver10/device/wsdl"/></s:Body></s:Envelope>').encode()


@pytest.fixture
async def farm() -> AsyncIterator[CameraFarm]:
    async with CameraFarm([CameraSpec("cam-001")]) as f:
        yield f


Post = Callable[[bytes], Awaitable[httpx.Response]]


@pytest.fixture
async def post(farm: CameraFarm) -> AsyncIterator[Post]:
    async with httpx.AsyncClient() as client:
        async def send(body: bytes) -> httpx.Response:
            return await client.post(farm.device_url("cam-001"), content=body)

        yield send


async def test_a_correct_digest_is_answered(post: Post) -> None:
    answer = await post(request())
    assert answer.status_code == 200 and b"<tds:Model>SC-200</tds:Model>" in answer.content
    assert answer.headers["content-type"].startswith("application/soap+xml")


async def test_a_replayed_nonce_is_refused(post: Post) -> None:
    body = request()
    assert (await post(body)).status_code == 200
    replay = await post(body)
    assert replay.status_code == 400
    assert b"ter:NotAuthorized" in replay.content and b"used before" in replay.content


@pytest.mark.parametrize(("offset", "accepted"), [(3, True), (-3, True), (8, False),
                                                  (-8, False)])
async def test_created_must_be_within_five_seconds_of_the_camera_clock(
        post: Post, offset: int, accepted: bool) -> None:
    created = datetime.now(UTC) + timedelta(seconds=offset)
    answer = await post(request(created=created))
    assert (answer.status_code == 200) is accepted
    if not accepted:
        assert b"allowed \xc2\xb15 s" in answer.content


async def test_the_window_follows_the_skewed_camera_clock(farm: CameraFarm,
                                                          post: Post) -> None:
    farm.set_fault("cam-001", Fault.CLOCK_SKEW, -3600)
    assert (await post(request())).status_code == 400
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    assert (await post(request(created=an_hour_ago))).status_code == 200


async def test_missing_token_and_password_text_are_refused_with_reasons(
        post: Post) -> None:
    plain = request().replace(b"<s:Header>", b"<s:Ignored>").replace(b"</s:Header>",
                                                                      b"</s:Ignored>")
    answer = await post(plain)
    assert answer.status_code == 400 and b"no WS-Security UsernameToken" in answer.content
    text = await post(request(text_password=True))
    assert text.status_code == 400 and b"only PasswordDigest" in text.content


async def test_soap_11_is_answered_with_a_version_mismatch(post: Post) -> None:
    body = (b'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body>'
            b"<x/></e:Body></e:Envelope>")
    answer = await post(body)
    assert answer.status_code == 500 and b"env:VersionMismatch" in answer.content


def test_durations_and_termination_times() -> None:
    assert parse_duration("PT60S") == 60
    assert parse_duration("PT1M30.5S") == 90.5
    assert parse_duration("P1DT1H") == 90000
    for bad in ("60", "PT", "P1Y", "PTS"):
        with pytest.raises(ValueError, match="xs:duration"):
            parse_duration(bad)
    now = datetime(2026, 1, 1, 8, 0, 0, tzinfo=UTC)
    assert seconds_until("PT10S", now) == 10
    assert seconds_until("2026-01-01T08:01:00Z", now) == 60
    assert seconds_until("2026-01-01T08:01:00", now) == 60   # no zone: UTC


def test_authorization_fields_are_parsed_with_quotes_and_escapes() -> None:
    fields = parse_auth_fields('username="ad\\"min", realm="a, b", nc=00000001, qop=auth')
    assert fields == {"username": 'ad"min', "realm": "a, b", "nc": "00000001", "qop": "auth"}
