"""Background loops, one implementation: the outbox relay, schedulers, the
dispatcher, campaign runners, healers and flushers all run on `BackgroundLoop`.

A loop calls its `step` over and over. A step returns True when it did some work
(the loop goes round again at once) and False when there was nothing to do (the
loop waits); a step that knows when its next work is due (a scheduler) returns that
as a number of seconds, and the loop sleeps until then (never longer than
`max_idle_seconds`, the safety net for work another process adds). A step that does
not know backs off from `idle_seconds` to `max_idle_seconds` while the loop stays
idle, so an idle platform hardly touches the store; whoever creates work
calls `notify()` (an outbox write, a bus message), which wakes the loop at once and
resets the back-off, and whoever knows that work will come later (a lease that may
lapse) calls `notify_in(seconds)`, which runs the step then, however long the loop
had planned to sleep. A step that raises is logged and retried after a growing pause.

Cancellation is handled here once (see shared/waiting.py for the Python 3.11
pitfalls): `stop()` cancels and waits, `stop(grace_seconds=…)` first lets the step in
hand finish.
"""

from __future__ import annotations

import asyncio
import heapq
import time
from collections.abc import Awaitable, Callable

from shared.logging import get_logger
from shared.waiting import finish_then_stop, raise_if_cancelling, stop_task, wake_or_timeout

log = get_logger(__name__)

# True: did work (go again); False: nothing to do; a float: nothing now, next work in that many seconds.
Step = Callable[[], Awaitable[bool | float]]


class BackgroundLoop:
    def __init__(
        self,
        name: str,
        step: Step,
        *,
        idle_seconds: float,
        max_idle_seconds: float | None = None,
        error_seconds: float = 1.0,
        max_error_seconds: float = 60.0,
    ) -> None:
        self.name = name
        self._step = step
        self.idle_seconds = idle_seconds
        self.max_idle_seconds = max(max_idle_seconds or idle_seconds, idle_seconds)
        self.error_seconds = error_seconds
        self.max_error_seconds = max_error_seconds
        self._wake = asyncio.Event()
        self._notified = False  # `_wake` was set by notify(), not only to re-plan a wait
        self._promises: list[float] = []  # monotonic times notify_in() asked a step for (a heap)
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self.steps = 0  # steps that did work, for metrics and tests
        self.failures = 0

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if self.running:
            return
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name=self.name)

    def notify(self) -> None:
        """There is work: wake the loop now (and forget its idle back-off)."""
        self._notified = True
        self._wake.set()

    def notify_in(self, seconds: float) -> None:
        """There will be work in `seconds`: a step begins then, or later if one is in hand
        (a step that begins sooner, notified or due anyway, counts for it). Every promise
        is kept."""
        at = time.monotonic() + max(0.0, seconds)
        heapq.heappush(self._promises, at)
        if self._promises[0] == at:
            self._wake.set()  # the soonest promise changed: a waiting loop re-plans its sleep

    def _keep_promises_due(self) -> None:
        """Forget the promises due by now: the step about to begin keeps them."""
        now = time.monotonic()
        while self._promises and self._promises[0] <= now:
            heapq.heappop(self._promises)

    async def stop(self, grace_seconds: float = 0.0) -> bool:
        """Stop the loop; with a grace, let the step in hand finish first. Returns
        False when it had to be cancelled in the middle of a step."""
        task, self._task = self._task, None
        if task is None:
            return True
        self._stopping = True
        self._wake.set()
        if grace_seconds > 0:
            return await finish_then_stop(task, grace_seconds)
        await stop_task(task)
        return True

    async def _run(self) -> None:
        idle = self.idle_seconds
        failing = 0
        while not self._stopping:
            self._wake.clear()
            self._notified = False
            self._keep_promises_due()
            try:
                worked = await self._step()
            except asyncio.CancelledError:
                raise
            except Exception:
                self.failures += 1
                failing += 1
                log.exception("loop.step_failed", loop=self.name, failures_in_a_row=failing)
                await self._wait(min(self.max_error_seconds, self.error_seconds * 2 ** (failing - 1)))
                continue
            failing = 0
            if worked is True:
                self.steps += 1
                idle = self.idle_seconds
                raise_if_cancelling()
                await asyncio.sleep(0)  # let others run between busy steps
                continue
            # A step that knows when its next work is due sleeps until then (at most the
            # longest idle wait, the safety net); one that does not know backs off.
            due_in = None if worked is False else max(0.0, float(worked))
            woken = await self._wait(idle if due_in is None else min(self.max_idle_seconds, due_in))
            idle = self.idle_seconds if woken else min(self.max_idle_seconds, idle * 2)

    async def _wait(self, seconds: float) -> bool:
        """Wait for a notify, a promised time or `seconds`; True if notified or promised."""
        until = time.monotonic() + seconds
        while not (self._stopping or self._notified):
            if self._promises and self._promises[0] <= time.monotonic():
                return True  # the step that follows keeps it
            end = min(until, self._promises[0]) if self._promises else until
            left = end - time.monotonic()
            if left <= 0:
                return False
            self._wake.clear()  # set again by notify(), or by notify_in() to re-plan
            await wake_or_timeout(self._wake, left)
        return True
