"""Sending deliveries: claim, sign, post, record, and decide what comes next.

Every replica runs one dispatcher loop. Deliveries are leased with atomic conditional
writes that set a lease and an owner token (the pattern of shared/scheduler.py): when
woken, the loop leases as many as it has free slots in one write; a sender that
finishes takes the next due one with one find-and-modify. So any number of replicas
send each try once; only the lease holder records its result. A replica that dies mid-try leaves a lease that expires,
and the try is made again — by design at least once, with the same `webhook-id`, so
partners deduplicate.

Slow or dead partners cannot hold up the others: a replica sends at most
`webhooks_concurrency` deliveries at once and at most `webhooks_endpoint_concurrency`
to any one endpoint, each bounded by the delivery timeout; and since this service
has its own queues and store, member notifications and the gateway never wait on a
partner. Deliveries to one endpoint are not ordered: a retry may arrive after a
later event.

An idle dispatcher does not poll: new deliveries wake it (fan-out, a redelivery), and
it sleeps until the soonest retry this replica scheduled falls due. Only a retry
another replica scheduled and then died with is found by the slow safety-net look,
every SAFETY_NET_SECONDS (at most that late: the lease of a dead replica's tries is
longer anyway).
"""

from __future__ import annotations

import asyncio
import hashlib
import heapq
import random
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from services.webhooks import signing
from services.webhooks.announcements import PRODUCER
from services.webhooks.schedule import RetrySchedule, failing_too_long
from services.webhooks.store import AttemptDoc, DeliveryDoc, DeliveryStore, EndpointDoc, EndpointStore
from services.webhooks.transport import Answer, Transport
from shared.clock import epoch, now_utc
from shared.contracts import WebhookEndpointDisabled, new_event
from shared.logging import get_logger
from shared.loops import BackgroundLoop

log = get_logger(__name__)
ENDPOINT_FRESH_SECONDS = 1.0
SAFETY_NET_SECONDS = 30.0  # an idle dispatcher's look for deliveries nobody here knows of


def delivery_id(event_id: str, endpoint_id: str) -> str:
    """Deterministic: the same event fanned out twice makes one delivery per endpoint."""
    return hashlib.sha256(f"{event_id}:{endpoint_id}".encode()).hexdigest()[:32]


def new_delivery(
    endpoint: EndpointDoc, event_id: str, event_type: str, body: bytes, *, member_id: str | None, trigger: str
) -> DeliveryDoc:
    now = now_utc()
    doc: DeliveryDoc = {
        "_id": delivery_id(event_id, endpoint["_id"]),
        "endpoint_id": endpoint["_id"],
        "key_prefix": endpoint["key_prefix"],
        "event_id": event_id,
        "event_type": event_type,
        "msg_id": signing.message_id(event_id),
        "body": body.decode(),
        "state": "pending",
        "trigger": trigger,
        "due": now.timestamp(),
        "lease_until": 0.0,
        "lease_owner": "",
        "attempts": 0,
        "first_try_at": 0.0,
        "last_status_code": None,
        "last_error": None,
        "created_at": now,
        "created_epoch": now.timestamp(),
        "finished_at": None,
        "log": {},
    }
    if member_id:
        doc["member_id"] = member_id
    return doc


class Dispatcher:
    def __init__(
        self,
        endpoints: EndpointStore,
        deliveries: DeliveryStore,
        transport: Transport,
        *,
        secret_key: bytes,
        schedule: RetrySchedule,
        disable_after_hours: float,
        concurrency: int,
        per_endpoint: int,
        poll_seconds: float,
    ) -> None:
        self.endpoints = endpoints
        self.deliveries = deliveries
        self.transport = transport
        self.secret_key = secret_key
        self.schedule = schedule
        self.disable_after_hours = disable_after_hours
        self.concurrency = concurrency
        self.per_endpoint = per_endpoint
        self._inflight: Counter[str] = Counter()
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = False
        self._endpoints: dict[str, tuple[float, EndpointDoc | None]] = {}  # id → (read at, endpoint)
        self._retries: list[float] = []  # epochs of the retries this replica scheduled (a heap)
        self.poll_seconds = poll_seconds  # how often to look while every slot is busy
        self._loop = BackgroundLoop(
            "webhook-dispatcher",
            self._step,
            idle_seconds=max(SAFETY_NET_SECONDS, poll_seconds),
        )

    def start(self) -> None:
        self._stopping = False
        self._loop.start()

    def wake(self) -> None:
        """There are new deliveries: look now."""
        self._loop.notify()

    async def stop(self, grace_seconds: float = 10.0) -> None:
        """Stop claiming; let tries under way finish (their leases let another replica redo the rest)."""
        self._stopping = True
        await self._loop.stop()
        if self._tasks:
            _, unfinished = await asyncio.wait(set(self._tasks), timeout=grace_seconds)
            for task in unfinished:
                task.cancel()
            await asyncio.gather(*unfinished, return_exceptions=True)

    # --- the loop ---------------------------------------------------------------------

    async def _step(self) -> bool | float:
        """Lease as many due deliveries as there are free slots (three store calls however
        many), keeping to each endpoint's limit, and send each in its own task. With
        nothing due: sleep until the soonest retry scheduled here (or the safety net)."""
        free = self.concurrency - sum(self._inflight.values())
        if free <= 0:
            return self.poll_seconds  # the senders take the next due ones themselves as they finish
        now = epoch()
        busy = [e for e, n in self._inflight.items() if n >= self.per_endpoint]
        picked = self._pick(await self.deliveries.due(busy, free * 2, now), free)
        leased = await self.deliveries.lease(picked, now) if picked else []
        for delivery in leased:
            self._spawn(delivery)
        if leased:
            return True
        return self._next_retry_in(now)

    def _retry_at(self, due: float) -> None:
        """A retry this replica scheduled: the loop wakes for it (if it sleeps longer)."""
        heapq.heappush(self._retries, due)
        if len(self._retries) > 10_000:  # forget the farthest; the safety net finds them
            self._retries = heapq.nsmallest(5_000, self._retries)
        self._loop.notify()

    def _next_retry_in(self, now: float) -> bool | float:
        while self._retries and self._retries[0] <= now:
            heapq.heappop(self._retries)  # due now or passed: the look just made covered it
        return self._retries[0] - now if self._retries else False

    async def _endpoint(self, endpoint_id: str) -> EndpointDoc | None:
        """An active endpoint as read at most a second ago: a busy endpoint costs one read a
        second, not one per delivery (a change of URL or secret reaches its sends within a
        second). Anything but active is read afresh, so nothing is cancelled on stale news."""
        now = time.monotonic()
        cached = self._endpoints.get(endpoint_id)
        stale = cached is None or now - cached[0] > ENDPOINT_FRESH_SECONDS
        if stale or cached is None or cached[1] is None or cached[1]["state"] != "active":
            if len(self._endpoints) > 10_000:
                self._endpoints.clear()
            cached = (now, await self.endpoints.get(endpoint_id))
            self._endpoints[endpoint_id] = cached
        return cached[1]

    def _pick(self, candidates: list[tuple[str, str]], free: int) -> list[str]:
        """Up to `free` deliveries, at most `per_endpoint` in flight to any one endpoint."""
        room: Counter[str] = Counter()
        picked: list[str] = []
        for delivery_id, endpoint_id in candidates:
            if len(picked) >= free:
                break
            if self._inflight[endpoint_id] + room[endpoint_id] < self.per_endpoint:
                room[endpoint_id] += 1
                picked.append(delivery_id)
        return picked

    def _spawn(self, delivery: DeliveryDoc) -> None:
        self._inflight[delivery["endpoint_id"]] += 1  # counted at once: the next claim sees it
        task = asyncio.create_task(self._work(delivery), name=f"webhook-worker-{delivery['_id']}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _work(self, delivery: DeliveryDoc | None) -> None:
        """Send a delivery, then take the next one due (one store call) while there is one:
        a busy replica pays one claim per delivery, an idle one nothing."""
        while delivery is not None:
            endpoint_id = delivery["endpoint_id"]
            try:
                await self._deliver(delivery, await self._endpoint(endpoint_id))
            except Exception:  # its lease lapses and the delivery is tried again
                log.exception("webhooks.delivery_crashed", delivery_id=delivery["_id"])
            finally:
                self._inflight[endpoint_id] -= 1
                if self._inflight[endpoint_id] <= 0:
                    del self._inflight[endpoint_id]
            if self._stopping:
                return
            delivery = await self._next()

    async def _next(self) -> DeliveryDoc | None:
        busy = [e for e, n in self._inflight.items() if n >= self.per_endpoint]
        try:
            delivery = await self.deliveries.claim(busy, epoch())
        except Exception:  # the store is not answering: the loop's poll comes back to it
            log.warning("webhooks.claim_failed", exc_info=True)
            return None
        if delivery is not None:
            self._inflight[delivery["endpoint_id"]] += 1
        return delivery

    async def _deliver(self, delivery: DeliveryDoc, endpoint: EndpointDoc | None) -> None:
        if endpoint is None or endpoint["state"] != "active":
            why = f"endpoint {endpoint['state'] if endpoint else 'removed'}"
            await self.deliveries.settle(delivery, {"state": "cancelled", "last_error": why, "finished_at": now_utc()})
            return
        answer, attempt = await self.attempt(endpoint, delivery)
        await self._after(endpoint, delivery, answer, attempt)

    # --- one try ----------------------------------------------------------------------

    def secrets_of(self, endpoint: EndpointDoc, now: float) -> list[str]:
        """The current secret, and the previous one while a rotation's overlap lasts."""
        found = [signing.derive_secret(self.secret_key, endpoint["_id"], endpoint["secret_salt"])]
        previous = endpoint.get("previous_secret_salt")
        if previous and endpoint.get("previous_secret_until", 0) > now:
            found.append(signing.derive_secret(self.secret_key, endpoint["_id"], previous))
        return found

    async def attempt(self, endpoint: EndpointDoc, delivery: DeliveryDoc) -> tuple[Answer, AttemptDoc]:
        """Sign and post once; the caller records the try and decides what follows."""
        now = epoch()
        body = delivery["body"].encode()
        headers = signing.headers(self.secrets_of(endpoint, now), delivery["msg_id"], int(now), body)
        answer = await self.transport.post(endpoint["url"], headers, body)
        attempt: AttemptDoc = {
            "attempt": delivery["attempts"] + 1,
            "at": datetime.fromtimestamp(now, UTC),
            "at_epoch": now,
            "trigger": delivery["trigger"],
            "outcome": answer.outcome,
            "status_code": answer.status_code,
            "latency_ms": answer.latency_ms,
            "response_excerpt": answer.excerpt,
            "error": answer.error,
        }
        log.info(
            "webhooks.tried",
            delivery_id=delivery["_id"],
            endpoint_id=endpoint["_id"],
            event_type=delivery["event_type"],
            outcome=answer.outcome,
            status=answer.status_code,
            ms=answer.latency_ms,
        )
        return answer, attempt

    async def _after(self, endpoint: EndpointDoc, delivery: DeliveryDoc, answer: Answer, attempt: AttemptDoc) -> None:
        now = attempt["at_epoch"]
        first = delivery["first_try_at"] or now
        fields: dict[str, Any] = {"first_try_at": first, "last_status_code": answer.status_code}
        if answer.outcome == "delivered":
            done = {"state": "delivered", "last_error": None, "finished_at": now_utc()}
            await self.deliveries.settle(delivery, {**fields, **done}, attempt)
            if endpoint["failing_since"]:
                await self.endpoints.mark_healthy(endpoint["_id"])
        elif answer.outcome == "gone":
            await self.deliveries.settle(delivery, {**fields, **self._give_up(answer)}, attempt)
            await self.disable(endpoint, "gone", now)
        else:
            due = self.schedule.next_try(
                first, delivery["attempts"] + 1, now, jitter=random.random(), retry_after=answer.retry_after
            )
            later = {"due": due, "trigger": "retry", "last_error": _why(answer)} if due else self._give_up(answer)
            if await self.deliveries.settle(delivery, {**fields, **later}, attempt) and due:
                self._retry_at(due)
            await self._still_failing(endpoint, now)

    @staticmethod
    def _give_up(answer: Answer) -> dict[str, Any]:
        return {"state": "failed", "last_error": _why(answer), "finished_at": now_utc()}

    async def _still_failing(self, endpoint: EndpointDoc, now: float) -> None:
        """Note when failing began; past `disable_after_hours` of nothing but failures, disable."""
        since = endpoint["failing_since"] or now
        if not endpoint["failing_since"]:
            await self.endpoints.mark_failing(endpoint["_id"], now)
        if failing_too_long(since, now, self.disable_after_hours):
            await self.disable(endpoint, "failing", now)

    async def disable(self, endpoint: EndpointDoc, reason: str, now: float) -> bool:
        """Disable an active endpoint and tell its contact (one event, however many replicas try)."""
        since = endpoint["failing_since"]
        event = new_event(
            WebhookEndpointDisabled(
                endpoint_id=endpoint["_id"],
                url=endpoint["url"],
                description=endpoint["description"],
                key_prefix=endpoint["key_prefix"],
                reason=reason,
                failing_since=datetime.fromtimestamp(since, UTC) if since else None,
                disabled_at=datetime.fromtimestamp(now, UTC),
                contact_email=endpoint["contact_email"],
                language=endpoint["language"],
            ),
            producer=PRODUCER,
        )
        done = await self.endpoints.change_if(
            {"_id": endpoint["_id"], "state": "active"},
            {"state": "disabled", "disabled_reason": reason, "disabled_at": now_utc()},
            event,
        )
        if done is None:
            return False
        cancelled = await self.deliveries.cancel_pending(endpoint["_id"], f"endpoint disabled ({reason})")
        log.warning("webhooks.endpoint_disabled", endpoint_id=endpoint["_id"], reason=reason, cancelled=cancelled)
        return True


def _why(answer: Answer) -> str:
    return answer.error or f"answered {answer.status_code}"
