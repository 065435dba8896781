"""Group writes: the requests made in one turn of the event loop, written with one call.

A consumer holds up to `prefetch` messages, so handlers often ask the store for the same
kind of write at the same moment (claim these events, apply these projections). Each
caller awaits its own result; the store sees one bulk write instead of one per caller,
which is what bounds throughput on a busy store (issue 14: store round trips).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

R = TypeVar("R")  # one request
T = TypeVar("T")  # its result


class GroupWrite(Generic[R, T]):
    """`submit(request)` → the request's own result (or the batch's error).

    `write` gets the requests of one turn in order and returns one result per request.
    `on_abandoned` is called for a request whose caller was cancelled meanwhile and whose
    result was truthy (e.g. an inbox claim nobody will work on: delete it again).
    `linger_seconds`: how long a batch waits for more after its first request (0: the
    rest of this turn of the event loop); for writes nobody waits on but a consumer."""

    def __init__(
        self,
        write: Callable[[list[R]], Awaitable[list[T]]],
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
        self._pending.append((request, future))
        if len(self._pending) == 1:
            task = asyncio.create_task(self._flush())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return future

    async def _flush(self) -> None:
        await asyncio.sleep(self._linger)  # let the other handlers of this turn (or moment) join the batch
        batch, self._pending = self._pending, []
        try:
            results = await self._write([request for request, _ in batch])
        except Exception as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (request, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)
            elif future.cancelled() and result and self._on_abandoned is not None:
                try:
                    await self._on_abandoned(request)
                except Exception:  # e.g. a claim's lease lapses on its own
                    pass
