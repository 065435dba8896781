"""Bus helpers tests share: a bus on the run's private vhost, and a listener that
records what a service announced."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import aio_pika

from shared.bus import EventBus
from shared.contracts import Envelope
from shared.settings import Settings
from tests.support import eventually


def make_bus(settings: Settings, service: str = "svc", inbox: Any = None) -> EventBus:
    """An event bus on the test's exchange and queue prefix."""
    return EventBus(
        url=settings.amqp_url,
        exchange=settings.bus_exchange,
        service=service,
        queue_prefix=settings.bus_queue_prefix,
        prefetch=8,
        max_attempts=settings.bus_max_attempts,
        retry_delays=settings.retry_delays,
        inbox=inbox,
    )


class EventRecorder:
    """Every event of some types that reached the broker, in arrival order, each once:
    delivery is at least once (two replicas' relays may both publish an event before
    either clears it), so it keys on the event id, as every consumer does.

        async with EventRecorder(settings, ["member.approved"]) as heard:
            ...
            await heard.wait_for("member.approved", member_id=...)
    """

    def __init__(self, settings: Settings, event_types: Sequence[str], name: str = "listener") -> None:
        self.bus = make_bus(settings, name)
        self.seen: list[tuple[Envelope, Any]] = []
        self.ids: set[str] = set()
        self.bus.subscribe("all", list(event_types), self._record)

    async def __aenter__(self) -> EventRecorder:
        await self.bus.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.bus.close()

    async def _record(self, envelope: Envelope, data: Any) -> None:
        if envelope.id not in self.ids:
            self.ids.add(envelope.id)
            self.seen.append((envelope, data))

    def of(self, event_type: str, **matching: Any) -> list[Any]:
        """The data of each event of `event_type` whose fields equal `matching`."""
        return [
            d
            for e, d in self.seen
            if e.type == event_type and all(getattr(d, k, None) == v for k, v in matching.items())
        ]

    async def wait_for(self, event_type: str, count: int = 1, **matching: Any) -> list[Any]:
        """Wait until `count` such events arrived; return them all."""

        async def enough() -> list[Any] | None:
            found = self.of(event_type, **matching)
            return found if len(found) >= count else None

        return await eventually(enough, what=f"{count} × {event_type}")


class QueueRegistry:
    """The queues the buses of this test process declared during the current test, so
    the test can delete them when it ends (see tests/conftest.py)."""

    current: ClassVar[list[str] | None] = None
    _original: ClassVar[Any] = None

    @classmethod
    def start(cls) -> list[str]:
        if cls._original is None:
            cls._original = EventBus._declare_queue

            async def recording(bus: EventBus, name: str, arguments: dict[str, Any]) -> None:
                if cls.current is not None:
                    cls.current.append(name)
                await cls._original(bus, name, arguments)

            EventBus._declare_queue = recording  # type: ignore[method-assign]
        cls.current = []
        return cls.current

    @staticmethod
    async def delete(amqp_url: str, names: list[str]) -> None:
        connection = await aio_pika.connect(amqp_url)
        try:
            channel = await connection.channel()
            for name in sorted(set(names)):
                await channel.queue_delete(name)
        finally:
            await connection.close()
