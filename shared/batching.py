"""Group writes: the requests made in one turn of the event loop, written with one call.

A consumer holds up to `prefetch` messages, so handlers often ask the store for the same
kind of write at the same moment (claim these events, apply these projections). Each
caller awaits its own result; the store sees one bulk write instead of one per caller,
which is what bounds throughput on a busy store (issue 14: store round trips).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

R = TypeVar("R")  # one request
T = TypeVar("T")  # its result (never an exception: an exception is a failure)


class GroupWriteFailed(Exception):
    """The group write gave no outcome for this request: it was cancelled, or it answered
    a different number of outcomes than it was given requests. Whether the request was
    written is unknown (the caller's retry decides, as for a lost connection)."""


class GroupWrite(Generic[R, T]):
    """`submit(request)` → the request's own result, or its own error.

    `write` gets the requests of one turn in order and returns one outcome per request:
    its result, or the exception that request alone failed with (a bulk write says which
    of its writes it refused), so one bad request fails only its own caller. An exception
    raised by `write` (the store unreachable) fails every request of the batch.
    `on_abandoned` is called for a request whose caller was cancelled meanwhile and whose
    result was truthy (e.g. an inbox claim nobody will work on: delete it again).
    `linger_seconds`: how long a batch waits for more after its first request (0: the
    rest of this turn of the event loop); for writes nobody waits on but a consumer."""

    def __init__(
        self,
        write: Callable[[list[R]], Awaitable[Sequence[T | Exception]]],
        on_abandoned: Callable[[R], Awaitable[None]] | None = None,
        linger_seconds: float = 0.0,
    ) -> None:
        self._write = write
        self._linger = linger_seconds
        self._on_abandoned = on_abandoned
        self._pending: list[tuple[R, asyncio.Future[T]]] = []
        self._tasks: set[asyncio.Task] = set()

    def submit(self, request: R) -> asyncio.Future[T]:
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        if not self._pending:  # the first request of a batch: its writer starts
            batch = self._pending
            task = asyncio.create_task(self._flush(batch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            task.add_done_callback(functools.partial(self._fail_leftovers, batch))
        self._pending.append((request, future))
        return future

    async def _flush(self, batch: list[tuple[R, asyncio.Future[T]]]) -> None:
        await asyncio.sleep(self._linger)  # let the other handlers of this turn (or moment) join the batch
        self._pending = []  # requests from now on form the next batch
        try:
            outcomes = await self._write([request for request, _ in batch])
        except Exception as exc:
            _fail(batch, exc)
            return
        if len(outcomes) != len(batch):
            _fail(batch, GroupWriteFailed(f"the group write answered {len(outcomes)} outcomes for {len(batch)}"))
            return
        abandoned: list[R] = []
        for (request, future), outcome in zip(batch, outcomes, strict=True):
            if future.cancelled():
                if outcome and not isinstance(outcome, Exception):
                    abandoned.append(request)
            elif isinstance(outcome, Exception):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)
        # Only once every caller has its outcome: a slow clean-up holds nobody up.
        if self._on_abandoned is not None:
            for request in abandoned:
                try:
                    await self._on_abandoned(request)
                except Exception:  # e.g. a claim's lease lapses on its own
                    pass

    def _fail_leftovers(self, batch: list[tuple[R, asyncio.Future[T]]], task: asyncio.Task) -> None:
        """Whatever ended the batch's writer (cancelled, even before it began, or from inside
        the write): every caller hears back, for a future left pending hangs its caller."""
        if self._pending is batch:  # it never took its batch: later requests need a writer of their own
            self._pending = []
        _fail(batch, GroupWriteFailed("the group write was cancelled"))


def _fail(batch: list[tuple[R, asyncio.Future[T]]], error: Exception) -> None:
    for _, future in batch:
        if not future.done():
            future.set_exception(error)
