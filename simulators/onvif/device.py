"""Device management service (ver10/device): clock, identity, and where the other services
are. GetSystemDateAndTime answers without credentials so clients can learn the offset."""

from __future__ import annotations

from datetime import datetime, timedelta

from simulators.onvif.calls import Call, Operation
from simulators.onvif.soap import xml_text

# Cameras sold in China report China Standard Time; clients must use UTCDateTime.
_TZ, _TZ_OFFSET = "CST-8", timedelta(hours=8)


async def get_system_date_and_time(call: Call) -> str:
    cam = call.camera
    utc = cam.now()
    local = utc + _TZ_OFFSET
    kind = "Manual" if cam.skew else "NTP"
    return ("<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime>"
            f"<tt:DateTimeType>{kind}</tt:DateTimeType>"
            "<tt:DaylightSavings>false</tt:DaylightSavings>"
            f"<tt:TimeZone><tt:TZ>{_TZ}</tt:TZ></tt:TimeZone>"
            f"<tt:UTCDateTime>{_date_time(utc)}</tt:UTCDateTime>"
            f"<tt:LocalDateTime>{_date_time(local)}</tt:LocalDateTime>"
            "</tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>")


def _date_time(t: datetime) -> str:
    return (f"<tt:Time><tt:Hour>{t.hour}</tt:Hour><tt:Minute>{t.minute}</tt:Minute>"
            f"<tt:Second>{t.second}</tt:Second></tt:Time>"
            f"<tt:Date><tt:Year>{t.year}</tt:Year><tt:Month>{t.month}</tt:Month>"
            f"<tt:Day>{t.day}</tt:Day></tt:Date>")


async def get_device_information(call: Call) -> str:
    spec = call.camera.spec
    return ("<tds:GetDeviceInformationResponse>"
            f"<tds:Manufacturer>{xml_text(spec.manufacturer)}</tds:Manufacturer>"
            f"<tds:Model>{xml_text(spec.model)}</tds:Model>"
            "<tds:FirmwareVersion>V5.7.3 build 240101 (scg-sim)</tds:FirmwareVersion>"
            f"<tds:SerialNumber>{xml_text(spec.serial)}</tds:SerialNumber>"
            f"<tds:HardwareId>{xml_text(spec.model)}</tds:HardwareId>"
            "</tds:GetDeviceInformationResponse>")


_SERVICES = (("device", "http://www.onvif.org/ver10/device/wsdl", 2, 60),
             ("media", "http://www.onvif.org/ver10/media/wsdl", 2, 60),
             ("events", "http://www.onvif.org/ver10/events/wsdl", 2, 60))


async def get_services(call: Call) -> str:
    cam = call.camera
    services = "".join(
        f"<tds:Service><tds:Namespace>{ns}</tds:Namespace>"
        f"<tds:XAddr>{xml_text(cam.xaddr(name))}</tds:XAddr>"
        f"<tds:Version><tt:Major>{major}</tt:Major><tt:Minor>{minor}</tt:Minor></tds:Version>"
        "</tds:Service>" for name, ns, major, minor in _SERVICES)
    return f"<tds:GetServicesResponse>{services}</tds:GetServicesResponse>"


async def get_capabilities(call: Call) -> str:
    cam = call.camera
    return (
        "<tds:GetCapabilitiesResponse><tds:Capabilities>"
        f"<tt:Device><tt:XAddr>{xml_text(cam.xaddr('device'))}</tt:XAddr>"
        "<tt:System><tt:DiscoveryResolve>false</tt:DiscoveryResolve>"
        "<tt:DiscoveryBye>false</tt:DiscoveryBye><tt:RemoteDiscovery>false</tt:RemoteDiscovery>"
        "<tt:SystemBackup>false</tt:SystemBackup><tt:SystemLogging>false</tt:SystemLogging>"
        "<tt:FirmwareUpgrade>false</tt:FirmwareUpgrade>"
        "<tt:SupportedVersions><tt:Major>2</tt:Major><tt:Minor>60</tt:Minor>"
        "</tt:SupportedVersions></tt:System></tt:Device>"
        f"<tt:Events><tt:XAddr>{xml_text(cam.xaddr('events'))}</tt:XAddr>"
        "<tt:WSSubscriptionPolicySupport>false</tt:WSSubscriptionPolicySupport>"
        "<tt:WSPullPointSupport>true</tt:WSPullPointSupport>"
        "<tt:WSPausableSubscriptionManagerInterfaceSupport>false"
        "</tt:WSPausableSubscriptionManagerInterfaceSupport></tt:Events>"
        f"<tt:Media><tt:XAddr>{xml_text(cam.xaddr('media'))}</tt:XAddr>"
        "<tt:StreamingCapabilities><tt:RTPMulticast>false</tt:RTPMulticast>"
        "<tt:RTP_TCP>true</tt:RTP_TCP><tt:RTP_RTSP_TCP>true</tt:RTP_RTSP_TCP>"
        "</tt:StreamingCapabilities></tt:Media>"
        "</tds:Capabilities></tds:GetCapabilitiesResponse>")


#: operation name -> handler; GetSystemDateAndTime is the one that needs no credentials
OPERATIONS: dict[str, Operation] = {
    "GetSystemDateAndTime": get_system_date_and_time,
    "GetDeviceInformation": get_device_information,
    "GetServices": get_services,
    "GetCapabilities": get_capabilities,
}
WITHOUT_AUTH = frozenset({"GetSystemDateAndTime"})
