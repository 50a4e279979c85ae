"""Media service (ver10/media): two H.264 profiles, their stream URIs and the snapshot URI.

There is no RTSP server behind the stream URIs; the snapshot URI is real (HTTP Digest).
"""

from __future__ import annotations

from dataclasses import dataclass

from simulators.onvif.calls import Call, Operation
from simulators.onvif.soap import SoapFault, xml_attr, xml_text


@dataclass(frozen=True, slots=True)
class Profile:
    token: str
    name: str
    width: int
    height: int
    bitrate: int


PROFILES = (Profile("Profile_1", "MainStream", 1920, 1080, 4096),
            Profile("Profile_2", "SubStream", 640, 360, 512))
_BY_TOKEN = {p.token: p for p in PROFILES}


def _profile(token: str | None) -> Profile:
    profile = _BY_TOKEN.get(token or "")
    if profile is None:
        raise SoapFault("Sender", ("ter:InvalidArgVal", "ter:NoProfile"),
                        f"no media profile {token!r}; this camera has "
                        f"{', '.join(_BY_TOKEN)}")
    return profile


def _profile_xml(p: Profile) -> str:
    return (
        f'<trt:Profiles token={xml_attr(p.token)} fixed="true">'
        f"<tt:Name>{p.name}</tt:Name>"
        '<tt:VideoSourceConfiguration token="VideoSourceConfig_1">'
        "<tt:Name>VideoSourceConfig</tt:Name><tt:UseCount>2</tt:UseCount>"
        "<tt:SourceToken>VideoSource_1</tt:SourceToken>"
        '<tt:Bounds x="0" y="0" width="1920" height="1080"/></tt:VideoSourceConfiguration>'
        f'<tt:VideoEncoderConfiguration token="VideoEncoder_{p.token[-1]}">'
        f"<tt:Name>{p.name}Encoder</tt:Name><tt:UseCount>1</tt:UseCount>"
        "<tt:Encoding>H264</tt:Encoding>"
        f"<tt:Resolution><tt:Width>{p.width}</tt:Width><tt:Height>{p.height}</tt:Height>"
        "</tt:Resolution><tt:Quality>4</tt:Quality>"
        "<tt:RateControl><tt:FrameRateLimit>25</tt:FrameRateLimit>"
        "<tt:EncodingInterval>1</tt:EncodingInterval>"
        f"<tt:BitrateLimit>{p.bitrate}</tt:BitrateLimit></tt:RateControl>"
        "<tt:H264><tt:GovLength>50</tt:GovLength><tt:H264Profile>Main</tt:H264Profile></tt:H264>"
        "<tt:Multicast><tt:Address><tt:Type>IPv4</tt:Type>"
        "<tt:IPv4Address>0.0.0.0</tt:IPv4Address></tt:Address><tt:Port>0</tt:Port>"
        "<tt:TTL>0</tt:TTL><tt:AutoStart>false</tt:AutoStart></tt:Multicast>"
        "<tt:SessionTimeout>PT60S</tt:SessionTimeout></tt:VideoEncoderConfiguration>"
        "</trt:Profiles>")


def _media_uri(uri: str) -> str:
    return (f"<trt:MediaUri><tt:Uri>{xml_text(uri)}</tt:Uri>"
            "<tt:InvalidAfterConnect>false</tt:InvalidAfterConnect>"
            "<tt:InvalidAfterReboot>false</tt:InvalidAfterReboot>"
            "<tt:Timeout>PT0S</tt:Timeout></trt:MediaUri>")


async def get_profiles(call: Call) -> str:
    return f"<trt:GetProfilesResponse>{''.join(map(_profile_xml, PROFILES))}" \
           "</trt:GetProfilesResponse>"


async def get_profile(call: Call) -> str:
    p = _profile(call.request.text("trt:ProfileToken"))
    return f"<trt:GetProfileResponse>{_profile_xml(p).replace('trt:Profiles', 'trt:Profile')}" \
           "</trt:GetProfileResponse>"


async def get_stream_uri(call: Call) -> str:
    p = _profile(call.request.text("trt:ProfileToken"))
    protocol = call.request.text("trt:StreamSetup/tt:Transport/tt:Protocol", "RTSP")
    if protocol not in ("RTSP", "TCP", "UDP", "HTTP"):
        raise SoapFault("Sender", ("ter:InvalidArgVal", "ter:InvalidStreamSetup"),
                        f"transport protocol {protocol!r} is not offered (RTSP, TCP, UDP, HTTP)")
    uri = f"rtsp://{call.camera.host}:554/{call.camera.spec.id}/{p.name.lower()}"
    return f"<trt:GetStreamUriResponse>{_media_uri(uri)}</trt:GetStreamUriResponse>"


async def get_snapshot_uri(call: Call) -> str:
    p = _profile(call.request.text("trt:ProfileToken"))
    uri = call.camera.snapshot_url(p.token)
    return f"<trt:GetSnapshotUriResponse>{_media_uri(uri)}</trt:GetSnapshotUriResponse>"


OPERATIONS: dict[str, Operation] = {
    "GetProfiles": get_profiles,
    "GetProfile": get_profile,
    "GetStreamUri": get_stream_uri,
    "GetSnapshotUri": get_snapshot_uri,
}
