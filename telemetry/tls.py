"""TLS on the link between a gateway (or ingest) and the central broker: the client's SSL
context, checked when the configuration is read, and failures explained by which setting
to change.

Shared by both ends because both build the same kind of context (the broker's CA, and a
client certificate when the broker asks for mutual TLS) and both face the same handshake
failures; standard library only, like the rest of the wire contract.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path


class TlsSetupError(ValueError):
    """A CA, certificate or key file cannot be used; the message names the file and why,
    `setting` which of them it is: "ca_file", "cert_file" or "key_file"."""

    def __init__(self, message: str, setting: str) -> None:
        super().__init__(message)
        self.setting = setting


@dataclass(frozen=True, slots=True)
class TlsNames:
    """What the settings are called where the user sets them, for messages."""

    ca_file: str = "ca_file"
    cert_file: str = "cert_file"
    key_file: str = "key_file"


def client_context(ca_file: str | Path, cert_file: str | Path | None = None,
                   key_file: str | Path | None = None,
                   names: TlsNames = TlsNames()) -> ssl.SSLContext:
    """A client context trusting only `ca_file`, verifying the broker's host name, TLS 1.2
    at least, presenting `cert_file` / `key_file` when given (the key may sit in the
    certificate file)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies chain and host name
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_verify_locations(cafile=str(ca_file))
    except OSError as exc:
        raise TlsSetupError(_file_problem(names.ca_file, ca_file, exc, "CA certificate"),
                            "ca_file") from None
    if key_file is not None and cert_file is None:
        raise TlsSetupError(f"{names.key_file} is set without {names.cert_file}; add the "
                            "client certificate that goes with the key", "key_file")
    if cert_file is not None:
        try:
            context.load_cert_chain(str(cert_file), str(key_file) if key_file else None)
        except OSError as exc:
            setting, message = _cert_problem(names, cert_file, key_file, exc)
            raise TlsSetupError(message, setting) from None
    return context


def _file_problem(name: str, path: str | Path, exc: OSError, what: str) -> str:
    if isinstance(exc, ssl.SSLError):
        return (f"{name} {str(path)!r} holds no usable {what} ({exc.reason or exc}); give a "
                "PEM file (-----BEGIN CERTIFICATE-----)")
    return f"{name} {str(path)!r} cannot be read: {exc.strerror or exc}; check the path"


def _cert_problem(names: TlsNames, cert: str | Path, key: str | Path | None,
                  exc: OSError) -> tuple[str, str]:
    """(setting, message) for a client certificate and key that cannot be loaded."""
    if not isinstance(exc, ssl.SSLError):
        if key is not None and not Path(key).is_file():
            return "key_file", (f"{names.key_file} {str(key)!r} cannot be read: "
                                f"{exc.strerror or exc}; check the path")
        return "cert_file", (f"{names.cert_file} {str(cert)!r} cannot be read: "
                             f"{exc.strerror or exc}; check the path")
    if exc.reason == "KEY_VALUES_MISMATCH":
        return "key_file", (f"{names.key_file} {str(key)!r} is not the key of "
                            f"{names.cert_file} {str(cert)!r}; give the key the certificate "
                            "was issued for")
    where = f"{names.cert_file} {str(cert)!r}" + \
        (f" with {names.key_file} {str(key)!r}" if key is not None else "")
    return "cert_file", (f"{where}: not a usable PEM certificate and unencrypted private "
                         f"key ({exc.reason or exc})")


#: What a handshake failure means, by the words OpenSSL uses, and what to change.
_FAILURES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("CERTIFICATE_VERIFY_FAILED",),
     "the broker's certificate was not accepted ({detail}): it must be signed by the CA in "
     "{ca_file} and issued for the host name or address the client connects to"),
    (("CERTIFICATE_REQUIRED", "PEER_DID_NOT_RETURN_A_CERTIFICATE"),
     "the broker requires a client certificate ({detail}): set {cert_file} and {key_file} "
     "to a certificate signed by the CA the broker trusts"),
    (("ALERT_UNKNOWN_CA", "ALERT_BAD_CERTIFICATE", "ALERT_CERTIFICATE_UNKNOWN",
      "ALERT_CERTIFICATE_EXPIRED", "ALERT_CERTIFICATE_REVOKED"),
     "the broker refused the client certificate in {cert_file} ({detail}): it must be "
     "current and signed by the CA the broker trusts (its cafile)"),
    (("WRONG_VERSION_NUMBER",),
     "the broker's port does not speak TLS ({detail}): use its TLS listener's port"),
    # A broker that refuses a client certificate under TLS 1.3 sends its alert after the
    # handshake; when it closes before the alert is read, all the client sees is an EOF.
    (("EOF OCCURRED IN VIOLATION OF PROTOCOL", "UNEXPECTED_EOF"),
     "the broker closed the TLS connection without saying why ({detail}): if it asks for "
     "client certificates, {cert_file} must be current and signed by the CA the broker "
     "trusts (its cafile); the broker's log names the cause"),
)


def explain_failure(message: str, names: TlsNames = TlsNames()) -> str | None:
    """A sentence saying what a TLS failure `message` means and which setting to change,
    or None when the message is not about TLS."""
    upper = message.upper()
    for words, text in _FAILURES:
        if any(word in upper for word in words):
            detail = message.removeprefix("failed to receive on socket: ").strip()
            return text.format(detail=detail, ca_file=names.ca_file,
                               cert_file=names.cert_file, key_file=names.key_file)
    return None
