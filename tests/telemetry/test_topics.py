from __future__ import annotations

import pytest

from telemetry import Topic, TopicError, command_topic, parse_topic, status_topic, uplink_topic


def test_uplink_topics_follow_the_contract() -> None:
    assert uplink_topic("demo", "gw1", "telemetry") == "scg/v1/demo/gw1/telemetry"
    assert status_topic("demo", "gw1") == "scg/v1/demo/gw1/status"
    assert command_topic("demo", "gw1", "light-001") == "scg/v1/demo/gw1/cmd/light-001"
    assert parse_topic("scg/v1/demo/gw1/events") == Topic("demo", "gw1", "events")
    assert str(Topic("demo", "gw1", "state")) == "scg/v1/demo/gw1/state"


@pytest.mark.parametrize(("topic", "words"), [
    ("scg/v2/demo/gw1/telemetry", "is not of the form"),
    ("scg/v1/demo/gw1", "is not of the form"),
    ("scg/v1/demo/gw1/gossip", "stream 'gossip'"),
    ("scg/v1/-demo/gw1/telemetry", "community id '-demo'"),
])
def test_malformed_topics_say_what_is_wrong(topic: str, words: str) -> None:
    with pytest.raises(TopicError, match=words):
        parse_topic(topic)


def test_ids_that_would_break_topics_are_refused() -> None:
    with pytest.raises(TopicError, match="gateway id 'gw/1'"):
        uplink_topic("demo", "gw/1", "telemetry")
    with pytest.raises(TopicError, match="stream 'alarms'"):
        uplink_topic("demo", "gw1", "alarms")
    with pytest.raises(TopicError, match="device id 'a/b'"):
        command_topic("demo", "gw1", "a/b")
