"""What an ingest worker is told (`ConsumerSettings`) and what it counts (`Counters`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ingest.writer import WriteResult
from telemetry import DEFAULT_LIMITS, UPLINK_FILTER, Limits


class ConsumerError(RuntimeError):
    """The consumer cannot start (database unreachable or not migrated); the message says why."""


@dataclass(frozen=True, slots=True)
class ConsumerSettings:
    database_url: str
    broker_host: str = "127.0.0.1"
    broker_port: int = 1883
    #: Fixed, so the broker recognises the session after a restart and replays its queue.
    client_id: str = "scg-ingest"
    #: Subscribe as `$share/{shared_group}/...` so that several workers split the stream.
    shared: bool = False
    shared_group: str = "scg-ingest"
    username: str | None = None
    password: str | None = None
    #: TLS to the broker: its CA, and a client certificate where it asks for one.
    tls_ca_file: str | None = None
    tls_cert_file: str | None = None
    tls_key_file: str | None = None
    keepalive: int = 30
    batch_max: int = 500
    batch_wait: float = 0.2
    #: Unacknowledged messages the broker may have in flight to us: room for the batch
    #: being committed, the one being decoded and the next one arriving.
    receive_maximum: int = 2000
    #: How long the broker keeps our session (and queues for it) while we are away.
    session_expiry: int = 30 * 24 * 3600
    retry_min: float = 0.5
    retry_max: float = 30.0
    stats_every: float = 60.0
    limits: Limits = DEFAULT_LIMITS

    @property
    def topic_filter(self) -> str:
        if self.shared:
            return f"$share/{self.shared_group}/{UPLINK_FILTER}"
        return UPLINK_FILTER


@dataclass(slots=True)
class Counters:
    """Running totals since start; `written` counts fresh envelopes committed."""

    received: int = 0
    written: int = 0
    duplicates: int = 0
    dead_letters: int = 0
    statuses: int = 0
    items: int = 0
    acked: int = 0
    batches: int = 0
    db_errors: int = 0
    totals: WriteResult = field(default_factory=WriteResult)
