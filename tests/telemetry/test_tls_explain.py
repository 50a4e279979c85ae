"""What a TLS failure message means to the person who must fix it: each of OpenSSL's
words maps to the setting to change, and anything else is not called a TLS problem."""

from __future__ import annotations

from telemetry.tls import TlsNames, explain_failure

NAMES = TlsNames("uplink.tls.ca_file", "uplink.tls.cert_file", "uplink.tls.key_file")


def test_an_unknown_ca_alert_names_the_client_certificate_setting() -> None:
    said = explain_failure("failed to receive on socket: [SSL: TLSV1_ALERT_UNKNOWN_CA] tlsv1 "
                           "alert unknown ca (_ssl.c:2427)", NAMES)
    assert said == ("the broker refused the client certificate in uplink.tls.cert_file "
                    "([SSL: TLSV1_ALERT_UNKNOWN_CA] tlsv1 alert unknown ca (_ssl.c:2427)): it "
                    "must be current and signed by the CA the broker trusts (its cafile)")


def test_a_close_without_an_alert_is_explained_as_a_guess_naming_the_certificate() -> None:
    """Under TLS 1.3 a refused client certificate can reach the client as a bare EOF."""
    said = explain_failure("failed to receive on socket: EOF occurred in violation of "
                           "protocol (_ssl.c:2427)", NAMES)
    assert said == ("the broker closed the TLS connection without saying why (EOF occurred "
                    "in violation of protocol (_ssl.c:2427)): if it asks for client "
                    "certificates, uplink.tls.cert_file must be current and signed by the CA "
                    "the broker trusts (its cafile); the broker's log names the cause")


def test_a_failure_that_is_not_about_tls_is_left_to_the_caller() -> None:
    assert explain_failure("[Errno 111] Connection refused", NAMES) is None
    assert explain_failure("", NAMES) is None
