"""The dispatcher: sends due deliveries, each exactly once, at a rate the providers accept.

Every replica runs one. It claims due deliveries in batches (store.claim_due),
applies the rules that depend on the moment of sending (suppressions, quiet hours
and the daily cap for announcement SMS), sends them concurrently through rate
limiters, and settles each outcome in one bulk write:

- accepted → `sent` (and the SMS's segments and provider id are kept);
- transient failure (SMTP 4xx, provider 429/5xx, timeouts) → `queued` again after a
  growing delay; after NOTIFY_MAX_ATTEMPTS → `dead`, listed for staff to replay;
- permanent failure → `failed`; an email hard bounce also suppresses the address.

Before sending a batch it also asks which of its members were erased (one read per
batch): a delivery planned while its member was being erased is scrubbed, not sent
(planner.py says why this check lives here).

An idle dispatcher does not poll. It sleeps until the next delivery it knows to be
due (a retry's back-off, an SMS held for the morning: the due times it wrote
itself), and whoever plans work wakes it at once (`wake()`: planning, replays,
campaigns resumed). A slow safety net (every SAFETY_NET_SECONDS) releases leases a
dead replica left and reads when the next queued delivery falls due, for work
another replica planned or left behind.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any

from prometheus_client import Counter

from services.notifications import outcomes
from services.notifications.email import EmailDeferred, EmailOutcomeUnknown, EmailRejected, SmtpSender
from services.notifications.projections import ContactStore
from services.notifications.records import DeliveryDoc
from services.notifications.rendering import RenderedEmail
from services.notifications.rules import next_sms_window
from services.notifications.sms import SmsDeferred, SmsNotConfigured, SmsProvider, SmsRejected
from services.notifications.store import DeliveryStore, SuppressionStore
from services.notifications.zns import ZnsClient, ZnsDeferred, ZnsRefused
from shared.clock import epoch, now_utc
from shared.logging import get_logger
from shared.loops import BackgroundLoop
from shared.settings import Settings

log = get_logger(__name__)
SAFETY_NET_SECONDS = 30.0  # the longest an idle dispatcher waits before looking at the store
SETTLE_GROUP = 10  # outcomes recorded together, at most
SETTLE_SECONDS = 0.2  # ... or what came in this long
UNKNOWN_OUTCOMES = Counter(
    "lienhiep_notifications_unknown_outcomes",
    "Messages handed to a provider whose acceptance never came (a timeout after DATA), to be resent later",
    ["channel"],
)


def _ready(value: Any) -> asyncio.Future:
    future = asyncio.get_running_loop().create_future()
    future.set_result(value)
    return future


class RateLimiter:
    """A token bucket: at most `rate` acquisitions a second, bursts up to one second's worth."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.capacity = max(1.0, rate)
        self.tokens = self.capacity
        self.updated = time.monotonic()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = time.monotonic()
                self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
                self.updated = now
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                await asyncio.sleep((1 - self.tokens) / self.rate)


class Dispatcher:
    def __init__(
        self,
        settings: Settings,
        deliveries: DeliveryStore,
        suppressions: SuppressionStore,
        smtp: SmtpSender,
        sms: SmsProvider,
        clock: Callable[[], datetime] | None = None,
        zns: ZnsClient | None = None,
        contacts: ContactStore | None = None,
    ) -> None:
        self.settings = settings
        self.contacts = contacts or ContactStore(deliveries.deliveries.database)
        self.zns = zns if zns is not None and zns.configured else None
        self.clock = clock or (lambda: now_utc())
        self.sweep_seconds = SAFETY_NET_SECONDS  # how often the store is looked at for others' work
        self.deliveries = deliveries
        self.suppressions = suppressions
        self.smtp = smtp
        self.sms = sms
        self.limits = {
            "email": RateLimiter(settings.email_rate_per_second),
            "sms": RateLimiter(settings.sms_rate_per_second),
            "zns": RateLimiter(settings.zns_rate_per_second),
        }
        self.channels = ("email", "sms", "zns") if self.zns else ("email", "sms")
        self.delays = [float(x) for x in settings.notify_retry_seconds.split(",") if x.strip()] or [30.0]
        self.concurrency = asyncio.Semaphore(max(8, settings.smtp_connections * 2, 64))
        self._quota_lock = asyncio.Lock()
        # Idle, it sleeps until its next due delivery (run_once says when); wake() ends the sleep.
        self._loop = BackgroundLoop("notifications-dispatcher", self.run_once, idle_seconds=SAFETY_NET_SECONDS)
        self._last_sweep = -float("inf")
        self._next_due = 0.0  # epoch seconds when a delivery on any channel may be due next (0: now)
        self._look: set[str] = set()  # channels with deliveries due now (planned here)
        self.sent = 0

    def wake(self, channels: Collection[str] | None = None) -> None:
        """There may be deliveries due now (on these channels, or any): look at once."""
        if channels is None:
            self._next_due = 0.0
        else:
            self._look.update(channels)
        self._loop.notify()

    def start(self) -> None:
        self._loop.start()

    async def stop(self, grace_seconds: float = 20.0) -> None:
        """Finish the batch in hand, then stop: a batch cut in the middle would leave
        messages sent but not recorded, to be sent again when their lease runs out."""
        if not await self._loop.stop(grace_seconds=grace_seconds):
            log.warning("dispatch.stop_timeout")

    async def run_once(self) -> bool | float:
        """Claim a batch per channel and send them, when something may be due. True if a
        batch was full (more may be due), else the seconds until a delivery may be due
        or the safety net's next look, whichever comes first."""
        if time.monotonic() - self._last_sweep >= self.sweep_seconds:
            self._last_sweep = time.monotonic()
            released = await self.deliveries.release_expired()
            if released:
                log.warning("dispatch.leases_expired", count=released)
                self._next_due = 0.0
            else:
                self._due_by(await self.deliveries.next_due())
        if self._next_due <= epoch():
            self._next_due, look = float("inf"), set(self.channels)
        else:
            look = self._look & set(self.channels)
        self._look = set()
        if not look:
            return self._seconds_to_wait()
        channels = [c for c in self.channels if c in look]
        full = await asyncio.gather(*(self._run_channel(channel) for channel in channels))
        if any(full):
            self._look.update(c for c, more in zip(channels, full, strict=True) if more)
            return True
        return self._seconds_to_wait()

    def _due_by(self, due: float | None) -> None:
        """Remember that a delivery falls due at `due` (epoch seconds); a sleeping loop
        recomputes how long to sleep (no store command)."""
        if due is not None and due < self._next_due:
            self._next_due = due
            self._loop.notify()

    def _seconds_to_wait(self) -> float:
        until_sweep = self._last_sweep + self.sweep_seconds - time.monotonic()
        return max(0.0, min(self._next_due - epoch(), until_sweep))

    async def _run_channel(self, channel: str) -> bool:
        # A batch is at most a few seconds of sending at the channel's rate: progress
        # shows soon, a pause takes effect soon, and no lease runs out mid-batch.
        limit = max(1, min(self.settings.notify_batch, int(self.limits[channel].rate * 2)))
        batch = await self.deliveries.claim_due(limit, channel=channel)
        if not batch:
            return False
        await self._process(channel, batch)
        return len(batch) >= limit

    async def send_claimed(self, batch: list[DeliveryDoc]) -> None:
        """Send deliveries a campaign planned already claimed (status `sending`, with a
        lease): one row write each instead of two. If this process dies, their lease
        runs out and any dispatcher sends them, as with any claimed delivery."""
        for channel in self.channels:
            docs = [d for d in batch if d["channel"] == channel]
            limit = max(1, min(self.settings.notify_batch, int(self.limits[channel].rate * 2)))
            for start in range(0, len(docs), limit):
                await self._process(channel, docs[start : start + limit])

    async def _process(self, channel: str, batch: list[DeliveryDoc]) -> None:
        suppressed, erased = await asyncio.gather(
            self.suppressions.suppressed([d["to"] for d in batch if d.get("to")]), self._scrub_erased(batch)
        )
        now = self.clock()  # one time per batch, so equal outcomes are written as one update
        gone = {"$set": {"status": "skipped", "reason": "erased", "updated_at": now}, "$unset": {"claim": ""}}
        sends: dict[asyncio.Future[Any], DeliveryDoc] = {_ready(gone): d for d in erased.values()}
        batch = [d for d in batch if d["_id"] not in erased]
        held = await self._hold_announcement_sms(batch, suppressed) if channel == "sms" else {}
        for d in batch:
            sends[asyncio.ensure_future(held.get(d["_id"]) or self._deliver(d, suppressed, now))] = d
        await self._settle_as_they_come(sends)

    async def _scrub_erased(self, batch: list[DeliveryDoc]) -> dict[str, DeliveryDoc]:
        """The deliveries of the batch whose member was erased (planned while the erasure
        ran): their personal data is removed now and they are not sent."""
        members = sorted({m for d in batch if (m := d.get("member_id"))})
        erased = set(await self.contacts.erased_among(members)) if members else set()
        for member_id in sorted(erased):
            await self.deliveries.erase_member(member_id)
        return {d["_id"]: d for d in batch if d.get("member_id") in erased}

    async def _settle_as_they_come(self, sends: dict[asyncio.Future[Any], DeliveryDoc]) -> None:
        """Record outcomes as the providers give them, in small groups (SETTLE_GROUP, or
        what came within SETTLE_SECONDS): a crash sends again only what was in flight
        or not yet recorded, never the whole batch."""
        remaining: set[asyncio.Future[Any]] = set(sends)
        outcomes: list[tuple[DeliveryDoc, dict[str, Any]]] = []
        oldest = 0.0
        try:
            while remaining:
                done, remaining = await asyncio.wait(
                    remaining, timeout=SETTLE_SECONDS, return_when=asyncio.FIRST_COMPLETED
                )
                if done and not outcomes:
                    oldest = time.monotonic()
                outcomes.extend((sends[f], f.result()) for f in done)
                for f in done:
                    self._due_by(f.result().get("$set", {}).get("due"))
                if outcomes and (
                    not remaining or len(outcomes) >= SETTLE_GROUP or time.monotonic() - oldest >= SETTLE_SECONDS
                ):
                    await self.deliveries.settle(outcomes)
                    outcomes = []
        finally:
            for future in remaining:
                future.cancel()

    async def _deliver(self, d: DeliveryDoc, suppressed: set[str], now: datetime) -> dict[str, Any]:
        done: dict[str, Any] = {"updated_at": now}
        reason = outcomes.skip_reason(d, suppressed)
        if reason:
            return {"$set": {**done, "status": "skipped", "reason": reason}, "$unset": {"claim": ""}}
        try:
            async with self.concurrency:
                await self.limits[d["channel"]].acquire()
                provider_id = await self._send(d)
        except Exception as exc:
            return await self._not_sent(d, exc, done, now)
        self.sent += 1
        update = {**done, "status": "sent", "sent_at": now}
        if provider_id and provider_id != d["_id"]:
            update["provider_id"] = provider_id
        log.info("dispatch.sent", delivery_key=d["_id"], channel=d["channel"], template=d["notification"])
        return {"$set": update, "$unset": {"claim": "", "last_error": "", "lease_until": "", "held": ""}}

    async def _not_sent(self, d: DeliveryDoc, exc: Exception, done: dict[str, Any], now: datetime) -> dict[str, Any]:
        """The outcome of a send that did not succeed."""
        if isinstance(exc, (EmailRejected, SmsRejected)):
            if isinstance(exc, EmailRejected) and exc.hard_bounce:
                await self.suppressions.add(d["to"], "email", str(exc))
            log.warning("dispatch.rejected", delivery_key=d["_id"], channel=d["channel"], reason=str(exc))
            return {"$set": {**done, "status": "failed", "last_error": str(exc)}, "$unset": {"claim": ""}}
        if isinstance(exc, SmsNotConfigured):
            # Not the message's fault: it waits for a provider without using up its attempts.
            return outcomes.held(done, "no-provider", str(exc), epoch(plus_seconds=300), count_attempt=False)
        if isinstance(exc, ZnsRefused) or (isinstance(exc, ZnsDeferred) and self._last_attempt(d)):
            self.wake(["sms"])  # the SMS is due now
            return outcomes.fall_back_to_sms(d, str(exc), done)
        if isinstance(exc, EmailOutcomeUnknown):
            UNKNOWN_OUTCOMES.labels(d["channel"]).inc()
            return outcomes.unknown(d, str(exc), done, self.settings, self.delays)
        if isinstance(exc, (EmailDeferred, SmsDeferred)):
            return outcomes.retry_later(d, str(exc), done, self.settings.notify_max_attempts, self.delays)
        # a bug must not lose the delivery: retry, then dead-letter
        log.error("dispatch.error", delivery_key=d["_id"], exc_info=exc)
        return outcomes.retry_later(
            d, f"{type(exc).__name__}: {exc}", done, self.settings.notify_max_attempts, self.delays
        )

    def _last_attempt(self, d: DeliveryDoc) -> bool:
        return int(d.get("attempts") or 1) >= self.settings.notify_max_attempts

    async def _hold_announcement_sms(self, batch: list[DeliveryDoc], suppressed: set[str]) -> dict[str, Any]:
        """Announcement SMS that must wait (quiet hours, the daily allowance), as settled futures."""
        s = self.settings
        now = self.clock()
        ads = [
            d
            for d in batch
            if d.get("category") == "announcement"
            and d.get("to")
            and "content" in d
            and d["to"].lower() not in suppressed
        ]
        if not ads:
            return {}
        opening = next_sms_window(now, start_hour=s.sms_quiet_end_hour, end_hour=s.sms_quiet_start_hour)
        if opening > now:
            wait = {d["_id"]: (epoch(opening), "quiet-hours") for d in ads}
        else:
            async with self._quota_lock:  # one count at a time in this process
                free_at = await self.deliveries.take_quotas(
                    [(d["to"], d["_id"]) for d in ads], per_day=s.sms_announcements_per_day
                )
            wait = {key: (at, "daily-limit") for key, at in free_at.items()}
        held = {}
        for key, (until, reason) in wait.items():
            # Held, not failed: the attempt does not count.
            held[key] = _ready(
                {
                    "$set": {"status": "queued", "due": until, "held": reason, "updated_at": now},
                    "$inc": {"attempts": -1},
                    "$unset": {"claim": ""},
                }
            )
        return held

    async def _send(self, d: DeliveryDoc) -> str | None:
        content = d["content"]
        if d["channel"] == "email":
            rendered = RenderedEmail(subject=content["subject"], text=content["text"], html=content["html"])
            message = self.smtp.build(
                to=d["to"],
                to_name=d.get("to_name") or "",
                rendered=rendered,
                delivery_key=d["_id"],
                headers=d.get("headers") or None,
                qr=(d.get("attachments") or {}).get("qr"),
            )
            await self.smtp.send(message, d["to"])
            return None
        if d["channel"] == "zns":
            if self.zns is None:
                raise ZnsRefused("ZNS is no longer configured")
            return await self.zns.send(
                phone=d["to"], template_id=content["template_id"], data=content["template_data"], tracking_id=d["_id"]
            )
        accepted = await self.sms.send(
            to=d["to"], text=content["text"], request_id=d["_id"], unicode=bool(d.get("unicode"))
        )
        return accepted.provider_id
