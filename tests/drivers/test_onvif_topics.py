"""ONVIF notifications become tamper / video-loss / motion conditions, and only their
changes become events."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import onvif
import pytest
from onvif import SERVICES, ONVIFService
from zeep.loader import parse_xml

from drivers.onvif.topics import (
    ConditionEdges,
    Notification,
    condition_of,
    normalise_topic,
    parse_notifications,
)
from telemetry import Severity

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def response_xml(*messages: tuple[str, str, str, str]) -> bytes:
    """A PullMessagesResponse with (topic, state item name, value, PropertyOperation)."""
    body = "".join(f"""
      <wsnt:NotificationMessage>
        <wsnt:Topic Dialect="http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet"
          >{topic}</wsnt:Topic>
        <wsnt:Message><tt:Message UtcTime="2026-11-23T08:00:01.250Z"
            PropertyOperation="{op}">
          <tt:Source><tt:SimpleItem Name="VideoSourceConfigurationToken" Value="vs0"/>
          </tt:Source>
          <tt:Data><tt:SimpleItem Name="{name}" Value="{value}"/></tt:Data>
        </tt:Message></wsnt:Message>
      </wsnt:NotificationMessage>""" for topic, name, value, op in messages)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"
  xmlns:tev="http://www.onvif.org/ver10/events/wsdl" xmlns:wsnt="http://docs.oasis-open.org/wsn/b-2"
  xmlns:tt="http://www.onvif.org/ver10/schema" xmlns:tns1="http://www.onvif.org/ver10/topics">
 <s:Body><tev:PullMessagesResponse>
  <tev:CurrentTime>2026-11-23T08:00:02Z</tev:CurrentTime>
  <tev:TerminationTime>2026-11-23T08:01:02Z</tev:TerminationTime>{body}
 </tev:PullMessagesResponse></s:Body></s:Envelope>""".encode()


async def parse_with_library(xml: bytes) -> Any:
    """Parse a PullMessages answer exactly as the ONVIF client does (zeep + events.wsdl)."""
    spec = SERVICES["pullpoint"]
    service = ONVIFService("http://127.0.0.1:9/", None, None,
                           str(Path(onvif.__file__).parent / "wsdl" / spec["wsdl"]),
                           no_cache=True, binding_name=f"{{{spec['ns']}}}{spec['binding']}")
    await service.setup()
    try:
        from onvif.settings import DEFAULT_SETTINGS
        from onvif.transport import ASYNC_TRANSPORT

        operation = service.document.bindings[service.binding_name].get("PullMessages")
        return operation.process_reply(parse_xml(xml, ASYNC_TRANSPORT,
                                                 settings=DEFAULT_SETTINGS))
    finally:
        await service.close()


@pytest.mark.parametrize(("topic", "condition"), [
    ("tns1:VideoSource/GlobalSceneChange/ImagingService", "tamper"),
    ("tns1:RuleEngine/TamperDetector/Tamper", "tamper"),
    ("tns1:VideoSource/SignalLoss", "video_loss"),
    ("VideoSource/SignalLoss", "video_loss"),
    ("tns1:VideoSource/MotionAlarm", "motion"),
    ("tns1:RuleEngine/CellMotionDetector/Motion", "motion"),
    ("TNS1:videosource/motionalarm ", "motion"),
    ("tns1:Device/Trigger/DigitalInput", None),
])
def test_topics_map_to_conditions_whatever_the_prefix_and_case(topic: str,
                                                               condition: str | None) -> None:
    assert condition_of(topic) == condition


def test_normalise_topic_drops_prefixes_per_level() -> None:
    assert normalise_topic("tns1:RuleEngine/tns1:CellMotionDetector/Motion") == \
        "ruleengine/cellmotiondetector/motion"


async def test_a_pull_messages_answer_parsed_by_the_client_yields_its_conditions() -> None:
    answer = await parse_with_library(response_xml(
        ("tns1:VideoSource/GlobalSceneChange/ImagingService", "State", "true", "Changed"),
        ("tns1:RuleEngine/CellMotionDetector/Motion", "IsMotion", "false", "Initialized"),
        ("tns1:VideoSource/SignalLoss", "State", "1", "Changed"),
        ("tns1:Device/Trigger/DigitalInput", "LogicalState", "true", "Changed"),
    ))
    notes = parse_notifications(answer)
    assert [(n.condition, n.active, n.initial) for n in notes] == [
        ("tamper", True, False), ("motion", False, True), ("video_loss", True, False)]
    first = notes[0]
    assert first.time == datetime(2026, 11, 23, 8, 0, 1, 250000, tzinfo=UTC)
    assert first.source == "vs0"
    assert first.topic == "tns1:VideoSource/GlobalSceneChange/ImagingService"


async def test_an_empty_pull_answer_yields_nothing() -> None:
    assert parse_notifications(await parse_with_library(response_xml())) == []


def test_messages_without_a_readable_state_are_skipped() -> None:
    plain = {"NotificationMessage": [
        {"Topic": {"_value_1": "tns1:VideoSource/SignalLoss"},
         "Message": {"_value_1": {"Data": {"SimpleItem": [{"Name": "State",
                                                            "Value": "maybe"}]}}}},
        {"Topic": {"_value_1": "tns1:VideoSource/SignalLoss"}, "Message": None},
        {"Topic": None},
        "garbage",
    ]}
    assert parse_notifications(plain) == []


def note(condition: str, active: bool) -> Notification:
    return Notification(condition, active, None, f"topic/{condition}", None, False)


def test_only_changes_become_events_and_a_first_clear_state_is_silent() -> None:
    edges = ConditionEdges()
    assert edges.update("cam-1", note("tamper", False), T0) is None
    raised = edges.update("cam-1", note("tamper", True), T0)
    assert raised is not None
    assert (raised.device, raised.type, raised.active, raised.severity) == \
        ("cam-1", "tamper", True, Severity.ALARM)
    assert raised.time == T0 and raised.data == {"topic": "topic/tamper"}
    assert edges.update("cam-1", note("tamper", True), T0) is None
    cleared = edges.update("cam-1", note("tamper", False), T0)
    assert cleared is not None and cleared.active is False


def test_a_first_active_state_is_news_and_motion_is_info() -> None:
    edges = ConditionEdges()
    event = edges.update("cam-1", note("motion", True), T0)
    assert event is not None and event.active is True and event.severity == Severity.INFO
    video = edges.update("cam-1", note("video_loss", True), T0)
    assert video is not None and video.severity == Severity.ALARM


def test_open_faults_are_tamper_and_video_loss_not_motion_per_camera() -> None:
    edges = ConditionEdges()
    edges.update("cam-1", note("motion", True), T0)
    assert edges.open_faults("cam-1") == []
    edges.update("cam-1", note("video_loss", True), T0)
    edges.update("cam-2", note("tamper", True), T0)
    assert edges.open_faults("cam-1") == [("video_loss", T0)]
    assert edges.open_faults("cam-2") == [("tamper", T0)]
    edges.update("cam-1", note("video_loss", False), T0)
    assert edges.open_faults("cam-1") == []
