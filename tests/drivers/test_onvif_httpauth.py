"""The snapshot's HTTP authentication: challenges parsed as cameras send them, Digest
answers checked against RFC 7616's own examples, the scheme chosen from the challenge."""

from __future__ import annotations

import base64

from drivers.onvif.httpauth import Challenge, SnapshotLogin, parse_challenges
from simulators.onvif.security import parse_auth_fields

# RFC 7616, 3.9.1: the example request and its expected responses.
RFC_CHALLENGE = ('Digest realm="http-auth@example.org", qop="auth, auth-int", '
                 'algorithm={alg}, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", '
                 'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"')
RFC_CNONCE = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"


def test_digest_answers_match_the_rfc_7616_examples() -> None:
    for algorithm, expected in (
            ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
            ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1")):
        login = SnapshotLogin("Mufasa", "Circle of Life", cnonce=lambda: RFC_CNONCE)
        header = login.answer(parse_challenges([RFC_CHALLENGE.format(alg=algorithm)]), "GET",
                              "/dir/index.html")
        assert header is not None and header.startswith("Digest ")
        fields = parse_auth_fields(header[7:])
        assert fields["response"] == expected
        assert (fields["qop"], fields["nc"], fields["uri"], fields["algorithm"]) == (
            "auth", "00000001", "/dir/index.html", algorithm)
        assert fields["opaque"] == "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"
        assert login.scheme == "digest" and login.scheme_name == "HTTP Digest"
        # The next request reuses the challenge with the next nonce count.
        again = login.authorization("GET", "/dir/index.html")
        assert again is not None and parse_auth_fields(again[7:])["nc"] == "00000002"


def test_basic_is_answered_when_the_camera_asks_for_basic() -> None:
    login = SnapshotLogin("admin", "pässword")
    assert login.authorization("GET", "/snap.jpg") is None  # nothing asked yet
    header = login.answer(parse_challenges(['Basic realm="IPyCam"']), "GET", "/snap.jpg")
    assert header == "Basic " + base64.b64encode("admin:pässword".encode()).decode()
    assert login.scheme == "basic" and login.scheme_name == "HTTP Basic"
    assert login.authorization("GET", "/other") == header  # sent up front from now on


def test_digest_is_preferred_when_both_are_offered_in_one_header_or_two() -> None:
    together = parse_challenges(['Basic realm="cam", Digest realm="cam", nonce="abc", '
                                 'qop="auth", algorithm=MD5'])
    assert [c.scheme for c in together] == ["basic", "digest"]
    assert together[1].params == {"realm": "cam", "nonce": "abc", "qop": "auth",
                                  "algorithm": "MD5"}
    separate = parse_challenges(['Basic realm="cam"', 'Digest realm="cam", nonce="n,1"'])
    assert separate[1].params["nonce"] == "n,1"  # a comma inside quotes is no separator
    for challenges in (together, separate):
        login = SnapshotLogin("admin", "secret")
        header = login.answer(challenges, "GET", "/s")
        assert header is not None and header.startswith("Digest ")


def test_a_scheme_the_gateway_does_not_speak_is_named_not_answered() -> None:
    login = SnapshotLogin("admin", "secret")
    for headers, offered in (
            (["NTLM", "Negotiate"], "Ntlm, Negotiate"),
            (['Digest realm="x", nonce="y", algorithm=SHA-1-FANCY'],
             "Digest (algorithm SHA-1-FANCY)"),
            ([], "no scheme (the 401 has no WWW-Authenticate header)")):
        challenges = parse_challenges(headers)
        assert login.answer(challenges, "GET", "/s") is None
        assert login.offered(challenges) == offered
    assert login.scheme is None
    assert parse_challenges(['Bearer realm="x", error="invalid_token"']) == [
        Challenge("bearer", {"realm": "x", "error": "invalid_token"})]
