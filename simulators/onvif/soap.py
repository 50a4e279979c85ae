"""SOAP 1.2 for the simulated camera: parse a request envelope, wrap an answer, build faults,
and the xs:dateTime / xs:duration text ONVIF uses."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.sax.saxutils import escape, quoteattr

NS = {
    "env": "http://www.w3.org/2003/05/soap-envelope",
    "wsse": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd",
    "wsu": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd",
    "wsa": "http://www.w3.org/2005/08/addressing",
    "tt": "http://www.onvif.org/ver10/schema",
    "tds": "http://www.onvif.org/ver10/device/wsdl",
    "trt": "http://www.onvif.org/ver10/media/wsdl",
    "tev": "http://www.onvif.org/ver10/events/wsdl",
    "wsnt": "http://docs.oasis-open.org/wsn/b-2",
    "wstop": "http://docs.oasis-open.org/wsn/t-1",
    "tns1": "http://www.onvif.org/ver10/topics",
    "ter": "http://www.onvif.org/ver10/error",
    "wsrf-rw": "http://docs.oasis-open.org/wsrf/rw-2",
    "xs": "http://www.w3.org/2001/XMLSchema",
}
SOAP11_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
CONTENT_TYPE = "application/soap+xml; charset=utf-8"

# Every answer declares all prefixes on the envelope, so templates can use any of them and
# topic texts such as "tns1:VideoSource/SignalLoss" resolve for the client.
_XMLNS = " ".join(f"xmlns:{p}={quoteattr(u)}" for p, u in NS.items())


def q(prefix: str, local: str) -> str:
    """Clark notation for ElementTree lookups: q("tt", "Date") -> "{...schema}Date"."""
    return f"{{{NS[prefix]}}}{local}"


class SoapFault(Exception):
    """An ONVIF fault: `code` Sender|Receiver, `subcodes` like ("ter:NotAuthorized",)."""

    def __init__(self, code: str, subcodes: tuple[str, ...], reason: str) -> None:
        super().__init__(reason)
        self.code, self.subcodes, self.reason = code, subcodes, reason

    @property
    def http_status(self) -> int:
        return 400 if self.code == "Sender" else 500


def not_authorized(reason: str) -> SoapFault:
    return SoapFault("Sender", ("ter:NotAuthorized",), f"Sender not Authorized: {reason}")


def invalid_arg(reason: str, detail: str = "ter:InvalidArgVal") -> SoapFault:
    return SoapFault("Sender", ("ter:InvalidArgVal", detail), reason)


def action_not_supported(operation: str, service: str) -> SoapFault:
    return SoapFault("Receiver", ("ter:ActionNotSupported",),
                     f"{operation} is not supported by the simulated {service} service")


@dataclass(slots=True)
class SoapRequest:
    """A parsed request: the operation is the local name of the Body's first element."""

    operation: str
    namespace: str
    payload: ET.Element
    header: ET.Element | None

    def text(self, path: str, default: str | None = None) -> str | None:
        """Text of the first element under the payload at `path` (prefixes from NS)."""
        node = self.payload.find(path, NS)
        if node is None or node.text is None:
            return default
        return node.text.strip()


def parse(body: bytes) -> SoapRequest:
    """Parse a SOAP 1.2 request; a malformed one is a Sender fault that says why."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise SoapFault("Sender", ("ter:WellFormed",), f"request is not well-formed XML: "
                                                         f"{exc}") from None
    if root.tag == f"{{{SOAP11_ENV}}}Envelope":
        raise SoapFault("VersionMismatch", (), "this camera speaks SOAP 1.2 only "
                        f"({NS['env']}); the request used SOAP 1.1")
    if root.tag != q("env", "Envelope"):
        raise SoapFault("Sender", ("ter:WellFormed",),
                        f"root element is {root.tag}, expected a SOAP 1.2 Envelope")
    body_el = root.find("env:Body", NS)
    if body_el is None or len(body_el) == 0:
        raise SoapFault("Sender", ("ter:WellFormed",), "the SOAP Body is missing or empty")
    payload = body_el[0]
    namespace, _, local = payload.tag[1:].partition("}") if payload.tag.startswith("{") \
        else ("", "", payload.tag)
    return SoapRequest(local, namespace, payload, root.find("env:Header", NS))


def envelope(body_xml: str, header_xml: str = "") -> bytes:
    header = f"<env:Header>{header_xml}</env:Header>" if header_xml else ""
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<env:Envelope {_XMLNS}>{header}'
            f"<env:Body>{body_xml}</env:Body></env:Envelope>").encode()


def fault_envelope(fault: SoapFault) -> bytes:
    subcode = ""
    for value in reversed(fault.subcodes):
        subcode = f"<env:Subcode><env:Value>{value}</env:Value>{subcode}</env:Subcode>"
    return envelope(
        f"<env:Fault><env:Code><env:Value>env:{fault.code}</env:Value>{subcode}</env:Code>"
        f'<env:Reason><env:Text xml:lang="en">{escape(fault.reason)}</env:Text></env:Reason>'
        "</env:Fault>")


def xml_text(value: object) -> str:
    return escape(str(value))


def xml_attr(value: object) -> str:
    """A quoted attribute value, quotes included."""
    return quoteattr(str(value))


def xsd_datetime(when: datetime, *, millis: bool = False) -> str:
    text = when.astimezone(UTC).isoformat(timespec="milliseconds" if millis else "seconds")
    return text.replace("+00:00", "Z")


def parse_datetime(text: str) -> datetime:
    """xs:dateTime as UTC; one without a zone is taken as UTC (as cameras do)."""
    when = datetime.fromisoformat(text.strip())
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


_DURATION = re.compile(r"^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?"
                       r"(?:(\d+(?:\.\d+)?)S)?)?$")


def parse_duration(text: str) -> float:
    """xs:duration in seconds (days, hours, minutes, seconds; no years or months)."""
    m = _DURATION.match(text.strip())
    if not m or text.strip() in ("P", "PT"):
        raise ValueError(f"{text!r} is not an xs:duration such as PT60S")
    days, hours, minutes, seconds = (float(g) if g else 0.0 for g in m.groups())
    return days * 86400 + hours * 3600 + minutes * 60 + seconds


def seconds_until(text: str, now: datetime) -> float:
    """A WS-BaseNotification termination time (duration or absolute) as seconds from `now`."""
    text = text.strip()
    if text.startswith("P"):
        return parse_duration(text)
    return (parse_datetime(text) - now).total_seconds()
