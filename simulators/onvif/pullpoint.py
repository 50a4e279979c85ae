"""Event service (ver10/events) and the PullPoint subscription manager over SOAP: create a
subscription, pull its messages (long-poll), renew, synchronise, unsubscribe."""

from __future__ import annotations

import time
from datetime import timedelta

from simulators.onvif.calls import Call, Operation
from simulators.onvif.events import DEFAULT_LIFETIME, DIALECT, TOPICS, Subscription
from simulators.onvif.soap import (
    SoapFault,
    invalid_arg,
    parse_duration,
    seconds_until,
    xml_text,
    xsd_datetime,
)

MAX_LIFETIME = 86_400.0


def _lifetime(call: Call, path: str, default: float | None) -> float:
    text = call.request.text(path)
    if not text:
        if default is None:
            raise invalid_arg(f"{path.split(':')[-1]} is missing; give a duration such as "
                              "PT60S or an absolute UTC time")
        return default
    try:
        seconds = seconds_until(text, call.camera.now())
    except ValueError:
        raise invalid_arg(f"termination time {text!r} is neither an xs:duration (PT60S) nor "
                          "an xs:dateTime") from None
    if seconds <= 0:
        raise SoapFault("Sender", ("wsnt:UnacceptableTerminationTimeFault",),
                        f"termination time {text!r} is not in the future of the camera clock "
                        f"{xsd_datetime(call.camera.now())}")
    return min(seconds, MAX_LIFETIME)


def _times(call: Call, sub: Subscription, prefix: str) -> tuple[str, str]:
    now = call.camera.now()
    end = now + timedelta(seconds=max(sub.remaining(), 0.0))
    return (f"<{prefix}:CurrentTime>{xsd_datetime(now)}</{prefix}:CurrentTime>",
            f"<{prefix}:TerminationTime>{xsd_datetime(end)}</{prefix}:TerminationTime>")


async def create_pull_point_subscription(call: Call) -> str:
    lifetime = _lifetime(call, "tev:InitialTerminationTime", DEFAULT_LIFETIME)
    sub = call.camera.events.create(lifetime)
    current, termination = _times(call, sub, "wsnt")
    address = call.camera.subscription_url(sub.id)
    return ("<tev:CreatePullPointSubscriptionResponse><tev:SubscriptionReference>"
            f"<wsa:Address>{xml_text(address)}</wsa:Address></tev:SubscriptionReference>"
            f"{current}{termination}</tev:CreatePullPointSubscriptionResponse>")


async def pull_messages(call: Call) -> str:
    hub = call.camera.events
    sub = hub.get(call.resource)
    try:
        timeout = parse_duration(call.request.text("tev:Timeout") or "PT10S")
        limit = int(call.request.text("tev:MessageLimit") or "100")
    except ValueError:
        raise invalid_arg("PullMessages needs Timeout as an xs:duration (PT10S) and "
                          "MessageLimit as an integer") from None
    notes = await hub.pull(sub, timeout, limit)
    current, termination = _times(call, sub, "tev")
    return (f"<tev:PullMessagesResponse>{current}{termination}"
            f"{''.join(n.xml() for n in notes)}</tev:PullMessagesResponse>")


async def renew(call: Call) -> str:
    sub = call.camera.events.get(call.resource)
    sub.expires = time.monotonic() + _lifetime(call, "wsnt:TerminationTime", None)
    current, termination = _times(call, sub, "wsnt")
    return f"<wsnt:RenewResponse>{termination}{current}</wsnt:RenewResponse>"


async def unsubscribe(call: Call) -> str:
    call.camera.events.unsubscribe(call.resource)
    return "<wsnt:UnsubscribeResponse/>"


async def set_synchronization_point(call: Call) -> str:
    hub = call.camera.events
    hub.synchronize(hub.get(call.resource))
    return "<tev:SetSynchronizationPointResponse/>"


async def get_service_capabilities(call: Call) -> str:
    return ('<tev:GetServiceCapabilitiesResponse><tev:Capabilities '
            'WSSubscriptionPolicySupport="false" WSPullPointSupport="true" '
            'WSPausableSubscriptionManagerInterfaceSupport="false" '
            'MaxNotificationProducers="0" MaxPullPoints="10" '
            'PersistentNotificationStorage="false"/></tev:GetServiceCapabilitiesResponse>')


def _description(source: tuple[tuple[str, str], ...], data: str) -> str:
    items = "".join(f'<tt:SimpleItemDescription Name="{name}" Type="tt:ReferenceToken"/>'
                    for name, _ in source)
    return ('<tt:MessageDescription IsProperty="true">'
            f"<tt:Source>{items}</tt:Source><tt:Data>"
            f'<tt:SimpleItemDescription Name="{data}" Type="xs:boolean"/></tt:Data>'
            "</tt:MessageDescription>")


async def get_event_properties(call: Call) -> str:
    tamper, motion, loss = TOPICS["tamper"], TOPICS["motion"], TOPICS["video_loss"]
    topic_set = (
        "<wstop:TopicSet>"
        '<tns1:VideoSource><GlobalSceneChange><ImagingService wstop:topic="true">'
        f"{_description(tamper.source, tamper.data)}</ImagingService></GlobalSceneChange>"
        f'<SignalLoss wstop:topic="true">{_description(loss.source, loss.data)}</SignalLoss>'
        "</tns1:VideoSource>"
        '<tns1:RuleEngine><CellMotionDetector><Motion wstop:topic="true">'
        f"{_description(motion.source, motion.data)}</Motion></CellMotionDetector>"
        "</tns1:RuleEngine></wstop:TopicSet>")
    return ("<tev:GetEventPropertiesResponse>"
            "<tev:TopicNamespaceLocation>http://www.onvif.org/onvif/ver10/topics/"
            "topicns.xml</tev:TopicNamespaceLocation>"
            "<wsnt:FixedTopicSet>true</wsnt:FixedTopicSet>"
            f"{topic_set}"
            "<wsnt:TopicExpressionDialect>http://docs.oasis-open.org/wsn/t-1/TopicExpression/"
            "Concrete</wsnt:TopicExpressionDialect>"
            f"<wsnt:TopicExpressionDialect>{DIALECT}</wsnt:TopicExpressionDialect>"
            "<tev:MessageContentFilterDialect>http://www.onvif.org/ver10/tev/"
            "messageContentFilter/ItemFilter</tev:MessageContentFilterDialect>"
            "<tev:MessageContentSchemaLocation>http://www.onvif.org/onvif/ver10/schema/"
            "onvif.xsd</tev:MessageContentSchemaLocation>"
            "</tev:GetEventPropertiesResponse>")


#: the event service proper (…/event_service)
OPERATIONS: dict[str, Operation] = {
    "GetServiceCapabilities": get_service_capabilities,
    "GetEventProperties": get_event_properties,
    "CreatePullPointSubscription": create_pull_point_subscription,
}
#: one subscription (…/subscription/{id}): the PullPoint and SubscriptionManager ports
SUBSCRIPTION_OPERATIONS: dict[str, Operation] = {
    "PullMessages": pull_messages,
    "Renew": renew,
    "Unsubscribe": unsubscribe,
    "SetSynchronizationPoint": set_synchronization_point,
}
