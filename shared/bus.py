"""The event bus over RabbitMQ (aio-pika).

Topology, for a service `notifications` with a handler `welcome_email`:

    exchange  lienhiep.events (topic, durable)  --member.approved-->  notifications.welcome_email
    notifications.welcome_email.retry.<i>  delay queues: TTL, then dead-lettered back to the work queue
    notifications.welcome_email.dead       parking queue after the last attempt (staff replay it)

Guarantees:
- every event is routed at least to the bounded event archive (`<prefix>events.archive`,
  bound to `#`, capped by length and age: audit and replay), so an event nobody
  consumes yet is normal; publish waits for the broker's confirm, and `Unroutable`
  only means a broken topology (the outbox keeps the event and tries again);
- queues are quorum queues (replicated across a RabbitMQ cluster, with a delivery
  limit that dead-letters a message redelivered over and over into the parking
  queue) when the broker supports them, classic durable queues otherwise
  (`queue_type`: auto, quorum or classic);
- a message is acknowledged only after its handler returned (its effect is stored),
  or after it was safely re-published to a delay or parking queue;
- a handler that raises is retried with growing delay, and parked after
  `max_attempts`; a message that can never succeed (invalid, `PermanentError`) is
  parked at once, so a poison message never blocks a queue;
- with an inbox, an event id already processed by a handler is acknowledged
  without running the handler again, and two copies of one event racing in two
  workers run the handler once (see inbox.py); a subscription declared
  `idempotent` (its handler's own write decides duplicates: shared/projection.py,
  or records keyed by the event) takes no inbox claim.

A *broadcast* subscription is the other shape: every replica gets every message
(e.g. "forget this revoked key" for each gateway's cache). Each process has its own
queue, `<prefix><service>.<name>.<instance>`, which the broker deletes when the
process goes; no inbox, no retries, no parking: a handler that fails is logged.
`on_reconnect` tells a process that messages may have passed while it was away.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import aio_pika
from aio_pika.abc import (
    AbstractIncomingMessage,
    AbstractRobustChannel,
    AbstractRobustConnection,
    AbstractRobustExchange,
    AbstractRobustQueue,
)
from aiormq.exceptions import ChannelPreconditionFailed, PublishError
from pydantic import ValidationError

from shared.contracts import Envelope, EventData, UnknownEventType, parse_data
from shared.logging import bind_context, clear_context, get_logger

log = get_logger(__name__)

Handler = Callable[[Envelope, EventData], Awaitable[None]]
ATTEMPT_HEADER = "x-attempt"
ERROR_HEADER = "x-last-error"


class Unroutable(Exception):
    """The broker had no queue for the event's routing key."""


class PermanentError(Exception):
    """Raised by a handler when retrying can never help: the message is parked at once."""


class Inbox(Protocol):
    async def claim(self, consumer: str, event_id: str) -> Literal["claimed", "done", "busy"]: ...

    async def complete(self, consumer: str, event_id: str) -> None: ...

    async def release(self, consumer: str, event_id: str) -> None: ...

    async def close(self) -> None: ...


class EventInProgress(Exception):
    """Another worker is processing a copy of this event right now."""


@dataclass
class Subscription:
    name: str
    event_types: Sequence[str]
    handler: Handler
    queue_name: str
    queue: AbstractRobustQueue | None = None
    consumer_tag: str | None = None
    handled: int = 0
    retried: int = 0
    parked: int = 0
    broadcast: bool = False  # every replica gets every message, on a queue of its own
    idempotent: bool = False  # the handler's own write decides duplicates: no inbox claim
    retired: Sequence[str] = ()  # event types an earlier version bound this queue to: unbound at start

    @property
    def dead_queue_name(self) -> str:
        return f"{self.queue_name}.dead"

    def retry_queue_name(self, index: int) -> str:
        return f"{self.queue_name}.retry.{index}"


@dataclass
class _Inflight:
    count: int = 0
    idle: asyncio.Event = field(default_factory=asyncio.Event)


class EventBus:
    """One robust connection per process; publish events and consume them."""

    def __init__(
        self,
        *,
        url: str,
        exchange: str,
        service: str,
        queue_prefix: str = "",
        prefetch: int = 32,
        max_attempts: int = 6,
        retry_delays: Sequence[float] = (1, 5, 30, 120, 600),
        inbox: Inbox | None = None,
        archive_max_events: int = 100_000,
        archive_hours: float = 168.0,
        queue_type: str = "auto",
        delivery_limit: int = 20,
    ) -> None:
        if not retry_delays:
            raise ValueError("retry_delays must name at least one delay")
        self.url = url
        self.exchange_name = exchange
        self.service = service
        self.queue_prefix = queue_prefix
        self.prefetch = prefetch
        self.max_attempts = max_attempts
        self.retry_delays = list(retry_delays)
        self.inbox = inbox
        self.archive_max_events = archive_max_events
        self.archive_hours = archive_hours
        self.queue_type = queue_type
        self.delivery_limit = delivery_limit
        self.quorum = False  # decided at start from `queue_type` and the broker's version
        self.subscriptions: list[Subscription] = []
        self.instance = uuid.uuid4().hex[:12]  # names this process's broadcast queues
        self._reconnect_listeners: list[Callable[[], None]] = []
        self._connection: AbstractRobustConnection | None = None
        self._publish_channel: AbstractRobustChannel | None = None
        self._consume_channel: AbstractRobustChannel | None = None
        self._exchange: AbstractRobustExchange | None = None
        self._inflight = _Inflight()
        self._inflight.idle.set()
        self._closing = False

    # --- set-up -----------------------------------------------------------------

    def subscribe(
        self,
        name: str,
        event_types: Sequence[str],
        handler: Handler,
        *,
        broadcast: bool = False,
        idempotent: bool = False,
        retired: Sequence[str] = (),
    ) -> Subscription:
        """Register `handler` for `event_types`, with its own durable queue
        `<prefix><service>.<name>` that the service's replicas share (each message is
        handled once), or with `broadcast` a queue per process (every replica handles
        every message). Call before `start`.

        `idempotent`: the handler's own write already decides duplicates — a projection
        whose write is filtered on the event's time (shared/projection.py), or records
        keyed by the event id or a deterministic key — so running it twice has one
        effect and the bus takes no inbox claim for it (two store commands per event
        saved). Anything else (an email sent, a counter moved) keeps the inbox.

        `retired`: event types an earlier version bound this queue to and this one no
        longer wants. A broker keeps a durable queue's bindings across restarts and a
        queue cannot be asked what it is bound to, so they are named here and unbound
        at start; unbinding one that is not there is fine."""
        if self._connection is not None:
            raise RuntimeError("subscribe before the bus starts")
        queue_name = f"{self.queue_prefix}{self.service}.{name}"
        if broadcast:
            queue_name = f"{queue_name}.{self.instance}"
        sub = Subscription(
            name=name,
            event_types=list(event_types),
            handler=handler,
            queue_name=queue_name,
            broadcast=broadcast,
            idempotent=idempotent,
            retired=[t for t in retired if t not in event_types],
        )
        self.subscriptions.append(sub)
        return sub

    @property
    def parkable(self) -> list[Subscription]:
        """The subscriptions whose failed messages are parked (broadcast ones are not)."""
        return [s for s in self.subscriptions if not s.broadcast]

    def on_reconnect(self, listener: Callable[[], None]) -> None:
        """Call `listener` each time the connection comes back after a loss (broadcast
        messages sent meanwhile were missed)."""
        self._reconnect_listeners.append(listener)

    def _reconnected(self, *_args: Any) -> None:
        log.info("bus.reconnected", service=self.service)
        for listener in self._reconnect_listeners:
            listener()

    async def start(self) -> None:
        """Connect, declare the exchange and every subscription's queues, start consuming."""
        self._connection = await aio_pika.connect_robust(
            self.url, client_properties={"connection_name": f"lienhiep-{self.service}"}
        )
        self._connection.reconnect_callbacks.add(self._reconnected)
        self.quorum = self._use_quorum()
        self._publish_channel = await self._connection.channel(publisher_confirms=True, on_return_raises=True)
        self._exchange = await self._publish_channel.declare_exchange(
            self.exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
        )
        await self._declare_archive()
        if not self.subscriptions:
            return
        self._consume_channel = await self._connection.channel()
        await self._consume_channel.set_qos(prefetch_count=self.prefetch)
        for sub in self.subscriptions:
            await self._declare(sub)
        for sub in self.subscriptions:
            sub.consumer_tag = await sub.queue.consume(self._consumer_for(sub))  # type: ignore[union-attr]
        log.info("bus.started", queues=[s.queue_name for s in self.subscriptions])

    def _use_quorum(self) -> bool:
        """Quorum queues when asked, or by default when the broker has them (3.8+)."""
        if self.queue_type != "auto":
            return self.queue_type == "quorum"
        assert self._connection is not None and self._connection.transport is not None
        version = self._connection.transport.connection.server_properties.get("version", b"0")
        text = version.decode() if isinstance(version, bytes) else str(version)
        try:
            major, minor = (int(x) for x in text.split(".")[:2])
        except ValueError:
            return False
        return (major, minor) >= (3, 8)

    def _queue_arguments(self, **arguments: Any) -> dict[str, Any]:
        return {"x-queue-type": "quorum", **arguments} if self.quorum else arguments

    @property
    def archive_queue_name(self) -> str:
        return f"{self.queue_prefix}events.archive"

    async def _declare_queue(self, name: str, arguments: dict[str, Any]) -> None:
        """Declare a durable queue on a channel of its own: a queue that already exists
        with other arguments (a classic queue from before quorum queues) is kept as it
        is, with a warning, instead of stopping the service."""
        assert self._connection is not None
        channel = await self._connection.channel()
        try:
            await channel.declare_queue(name, durable=True, arguments=arguments)
        except ChannelPreconditionFailed as exc:
            log.warning(
                "bus.queue_kept_as_it_is",
                queue=name,
                reason=str(exc)[:200],
                hint="delete the queue (when empty) to have it made again with the current settings",
            )
        finally:
            if not channel.is_closed:
                await channel.close()

    async def _declare_archive(self) -> None:
        """The catch-all queue every event reaches, bounded by length and age."""
        assert self._publish_channel is not None and self._exchange is not None
        await self._declare_queue(
            self.archive_queue_name,
            self._queue_arguments(
                **{
                    "x-max-length": self.archive_max_events,
                    "x-message-ttl": int(self.archive_hours * 3600 * 1000),
                    "x-overflow": "drop-head",
                }
            ),
        )
        archive = await self._publish_channel.declare_queue(self.archive_queue_name, passive=True)
        await archive.bind(self._exchange, routing_key="#")

    async def _declare(self, sub: Subscription) -> None:
        channel = self._consume_channel
        assert channel is not None
        exchange = await channel.declare_exchange(self.exchange_name, aio_pika.ExchangeType.TOPIC, durable=True)
        if sub.broadcast:
            # Classic and transient: gone when this process is (with its last consumer, or unused a minute).
            sub.queue = await channel.declare_queue(
                sub.queue_name,
                durable=False,
                auto_delete=True,
                arguments={"x-queue-type": "classic", "x-expires": 60_000},
            )
            for event_type in sub.event_types:
                await sub.queue.bind(exchange, routing_key=event_type)
            return
        # Quorum: a message the broker redelivered `delivery_limit` times (a consumer that
        # crashes on it every time) is dead-lettered to the parking queue by the broker.
        await self._declare_queue(
            sub.queue_name,
            self._queue_arguments(
                **{
                    "x-delivery-limit": self.delivery_limit,
                    "x-dead-letter-exchange": "",
                    "x-dead-letter-routing-key": sub.dead_queue_name,
                }
            )
            if self.quorum
            else {},
        )
        for index, delay in enumerate(self.retry_delays):
            await self._declare_queue(
                sub.retry_queue_name(index),
                self._queue_arguments(
                    **{
                        "x-message-ttl": int(delay * 1000),
                        "x-dead-letter-exchange": "",
                        "x-dead-letter-routing-key": sub.queue_name,
                    }
                ),
            )
        await self._declare_queue(sub.dead_queue_name, self._queue_arguments())
        sub.queue = await channel.declare_queue(sub.queue_name, passive=True)
        for event_type in sub.event_types:
            await sub.queue.bind(exchange, routing_key=event_type)
        for event_type in sub.retired:
            await sub.queue.unbind(exchange, routing_key=event_type)

    # --- publishing ---------------------------------------------------------------

    async def publish(self, envelope: Envelope) -> None:
        """Publish and wait for the broker's confirm. Raises `Unroutable` when no
        queue is bound for the event type, and AMQP errors when the broker refused."""
        if self._exchange is None:
            raise RuntimeError("bus not started")
        try:
            await self._exchange.publish(_message(envelope), routing_key=envelope.type, mandatory=True)
        except PublishError as exc:
            raise Unroutable(envelope.type) from exc

    async def _send_to_queue(self, queue_name: str, message: AbstractIncomingMessage, headers: dict[str, Any]) -> None:
        assert self._publish_channel is not None
        forwarded = aio_pika.Message(
            body=message.body,
            headers={**(message.headers or {}), **headers},
            content_type=message.content_type,
            message_id=message.message_id,
            correlation_id=message.correlation_id,
            type=message.type,
            timestamp=message.timestamp,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        )
        await self._publish_channel.default_exchange.publish(forwarded, routing_key=queue_name, mandatory=True)

    # --- consuming ----------------------------------------------------------------

    def _consumer_for(self, sub: Subscription) -> Callable[[AbstractIncomingMessage], Awaitable[None]]:
        async def on_message(message: AbstractIncomingMessage) -> None:
            self._inflight.count += 1
            self._inflight.idle.clear()
            try:
                await self._handle(sub, message)
            except Exception:
                # The broker connection failed while settling the message: it was not
                # acknowledged, so the broker delivers it again.
                log.exception("bus.settle_failed", queue=sub.queue_name)
                if not message.channel.is_closed:
                    await message.nack(requeue=True)
            finally:
                clear_context()
                self._inflight.count -= 1
                if self._inflight.count == 0:
                    self._inflight.idle.set()

        return on_message

    async def _handle(self, sub: Subscription, message: AbstractIncomingMessage) -> None:
        attempt = _attempt(message)
        try:
            envelope = Envelope.model_validate_json(message.body)
            data = parse_data(envelope)
        except (ValidationError, UnknownEventType) as exc:
            await self._park(sub, message, f"invalid event: {_short(exc)}")
            return
        bind_context(correlation_id=envelope.correlation_id)
        consumer = sub.queue_name
        started = time.perf_counter()
        claimed = False
        try:
            if self.inbox is not None and not (sub.broadcast or sub.idempotent):
                claim = await self.inbox.claim(consumer, envelope.id)
                if claim == "done":
                    log.info("bus.duplicate_skipped", event_type=envelope.type, event_id=envelope.id, queue=consumer)
                    await message.ack()
                    return
                if claim == "busy":
                    raise EventInProgress(envelope.id)
                claimed = True
            await sub.handler(envelope, data)
            if claimed:
                await self.inbox.complete(consumer, envelope.id)  # type: ignore[union-attr]
        except BaseException as exc:
            if claimed:
                await self._release(consumer, envelope.id)
            if not isinstance(exc, Exception):
                raise
            await self._after_failure(sub, message, envelope, attempt, exc)
            return
        sub.handled += 1
        await message.ack()
        log.debug(
            "bus.handled", queue=consumer, event_type=envelope.type, ms=round((time.perf_counter() - started) * 1000, 2)
        )

    async def _release(self, consumer: str, event_id: str) -> None:
        try:
            await self.inbox.release(consumer, event_id)  # type: ignore[union-attr]
        except Exception:  # the claim's lease expires on its own
            log.warning("bus.release_failed", queue=consumer, event_id=event_id)

    async def _after_failure(
        self, sub: Subscription, message: AbstractIncomingMessage, envelope: Envelope, attempt: int, exc: Exception
    ) -> None:
        consumer = sub.queue_name
        if sub.broadcast:
            # Nothing to retry towards: the next message of its kind comes on its own.
            log.error("bus.broadcast_failed", queue=consumer, event_type=envelope.type, error=_short(exc))
            await message.ack()
        elif isinstance(exc, PermanentError):
            await self._park(sub, message, _short(exc))
        elif isinstance(exc, EventInProgress):
            # Not a failure: wait for the other worker, without using up an attempt.
            await self._retry(sub, message, attempt, exc, next_attempt=attempt)
        elif attempt >= self.max_attempts:
            log.error(
                "bus.handler_failed",
                queue=consumer,
                event_type=envelope.type,
                attempt=attempt,
                error=_short(exc),
                exc_info=exc,
            )
            await self._park(sub, message, _short(exc))
        else:
            log.warning(
                "bus.handler_failed_will_retry",
                queue=consumer,
                event_type=envelope.type,
                attempt=attempt,
                error=_short(exc),
            )
            await self._retry(sub, message, attempt, exc)

    async def _retry(
        self,
        sub: Subscription,
        message: AbstractIncomingMessage,
        attempt: int,
        exc: Exception,
        next_attempt: int | None = None,
    ) -> None:
        index = min(attempt - 1, len(self.retry_delays) - 1)
        await self._send_to_queue(
            sub.retry_queue_name(index),
            message,
            {
                ATTEMPT_HEADER: attempt + 1 if next_attempt is None else next_attempt,
                ERROR_HEADER: _short(exc),
            },
        )
        sub.retried += 1
        await message.ack()

    async def _park(self, sub: Subscription, message: AbstractIncomingMessage, reason: str) -> None:
        if sub.broadcast:  # a broadcast queue has no parking queue: the message is dropped, loudly
            log.error("bus.broadcast_dropped", queue=sub.queue_name, reason=reason, message_id=message.message_id)
            await message.ack()
            return
        await self._send_to_queue(sub.dead_queue_name, message, {ERROR_HEADER: reason})
        sub.parked += 1
        await message.ack()
        log.error("bus.parked", queue=sub.queue_name, reason=reason, message_id=message.message_id)

    # --- dead letters -------------------------------------------------------------

    def subscription(self, name: str) -> Subscription:
        for sub in self.subscriptions:
            if sub.name == name:
                return sub
        raise KeyError(name)

    async def dead_letters(self, name: str, limit: int = 100) -> list[dict[str, Any]]:
        """Parked messages of one handler, oldest first; they stay parked."""
        sub = self.subscription(name)
        assert self._connection is not None
        channel = await self._connection.channel()
        try:
            queue = await channel.declare_queue(sub.dead_queue_name, durable=True, passive=True)
            found: list[dict[str, Any]] = []
            held: list[AbstractIncomingMessage] = []
            while len(found) < limit:
                message = await queue.get(no_ack=False, fail=False)
                if message is None:
                    break
                held.append(message)
                found.append(
                    {
                        "message_id": message.message_id,
                        "type": message.type,
                        "attempts": (message.headers or {}).get(ATTEMPT_HEADER, 1),
                        "last_error": (message.headers or {}).get(ERROR_HEADER),
                    }
                )
            for message in held:
                await message.nack(requeue=True)
            await _until_ready(channel, sub.dead_queue_name, len(held))
            return found
        finally:
            await channel.close()

    async def parked_count(self, name: str) -> int:
        """How many messages of one handler are parked."""
        assert self._connection is not None
        channel = await self._connection.channel()
        try:
            queue = await channel.declare_queue(self.subscription(name).dead_queue_name, durable=True, passive=True)
            return queue.declaration_result.message_count or 0
        finally:
            await channel.close()

    async def replay_dead(self, name: str, limit: int = 1000) -> int:
        """Move parked messages of one handler back to its work queue, attempts reset.

        Each message moves once per call: one that fails again and is parked meanwhile
        waits for the next replay instead of going round again. (Not bounded by the
        queue's message count: a quorum queue may not count a message just put back
        by a listing yet.)"""
        sub = self.subscription(name)
        assert self._connection is not None
        channel = await self._connection.channel()
        moved: set[str | None] = set()
        try:
            queue = await channel.declare_queue(sub.dead_queue_name, durable=True, passive=True)
            while len(moved) < limit:
                message = await queue.get(no_ack=False, fail=False)
                if message is None:
                    break
                if message.message_id in moved:  # parked again since we moved it
                    await message.nack(requeue=True)
                    break
                await self._send_to_queue(sub.queue_name, message, {ATTEMPT_HEADER: 1})
                await message.ack()
                moved.add(message.message_id)
        finally:
            await channel.close()
        return len(moved)

    # --- health and shutdown ------------------------------------------------------

    @property
    def connected(self) -> bool:
        """Is the broker connection up right now?"""
        conn = self._connection
        return conn is not None and not conn.is_closed and conn.connected.is_set()

    def readiness(self) -> tuple[bool, str]:
        """Is the broker connected and is every consumer attached?"""
        conn = self._connection
        if conn is None or conn.is_closed or not conn.connected.is_set():
            return False, "broker not connected"
        if self._closing:
            return False, "shutting down"
        for sub in self.subscriptions:
            if (
                sub.queue is None
                or sub.consumer_tag is None
                or self._consume_channel is None
                or self._consume_channel.is_closed
            ):
                return False, f"consumer {sub.queue_name} not attached"
        return True, "ok"

    async def close(self, timeout: float = 30.0) -> None:
        """Stop taking messages, let in-flight handlers finish, then disconnect."""
        if self._connection is None or self._closing:
            return
        self._closing = True
        # Every step is bounded: a broker that stops answering must not hang shutdown.
        for sub in self.subscriptions:
            if sub.queue is not None and sub.consumer_tag is not None:
                try:
                    await asyncio.wait_for(sub.queue.cancel(sub.consumer_tag), 5)
                except Exception:  # the connection may already be gone
                    log.warning("bus.cancel_failed", queue=sub.queue_name)
        try:
            await asyncio.wait_for(self._inflight.idle.wait(), timeout)
        except TimeoutError:
            log.warning("bus.close_timeout", inflight=self._inflight.count)
        if self.inbox is not None:
            await self.inbox.close()
        try:
            await asyncio.wait_for(self._connection.close(), 10)
        except Exception:
            log.warning("bus.connection_close_failed")
        log.info("bus.closed")


async def _until_ready(channel: Any, queue_name: str, count: int, timeout: float = 2.0) -> None:
    """Wait (up to `timeout`) until the queue counts `count` ready messages again: a quorum
    queue takes back the messages a listing put back a moment after the nack, and a replay
    right after the listing must find them."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        queue = await channel.declare_queue(queue_name, durable=True, passive=True)
        if (queue.declaration_result.message_count or 0) >= count:
            return
        await asyncio.sleep(0.02)


def _message(envelope: Envelope) -> aio_pika.Message:
    return aio_pika.Message(
        body=envelope.model_dump_json().encode(),
        content_type="application/json",
        message_id=envelope.id,
        correlation_id=envelope.correlation_id,
        type=envelope.type,
        timestamp=envelope.occurred_at,
        app_id=envelope.producer,
        headers={ATTEMPT_HEADER: 1},
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
    )


def _attempt(message: AbstractIncomingMessage) -> int:
    """The attempt a message is on (1 when the header is missing or not a number)."""
    value = (message.headers or {}).get(ATTEMPT_HEADER, 1)
    return value if isinstance(value, int) and value >= 1 else 1


def _short(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= 300 else text[:297] + "..."
