"""Waiting in background loops without losing a cancellation.

On Python 3.11, `asyncio.wait_for(event.wait(), t)` can swallow a cancellation that
arrives just as the event is set, and library code under a loop (a publish that
turns CancelledError into a connection error) can swallow one too: the loop goes
round again and the task that stop() awaits never ends (shutdown hangs we saw).
So these helpers use `asyncio.timeout`, and first honour a cancellation that was
requested but swallowed (`Task.cancelling()`).
"""

from __future__ import annotations

import asyncio


def raise_if_cancelling() -> None:
    """Raise CancelledError if this task was asked to stop and something swallowed it."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


async def wake_or_timeout(event: asyncio.Event, seconds: float) -> None:
    """Return when `event` is set or after `seconds`, whichever comes first."""
    raise_if_cancelling()
    try:
        async with asyncio.timeout(seconds):
            await event.wait()
    except TimeoutError:
        pass


async def pause(seconds: float) -> None:
    """asyncio.sleep for background loops: honours a swallowed cancellation first."""
    raise_if_cancelling()
    await asyncio.sleep(seconds)


async def stop_task(task: asyncio.Task | None) -> None:
    """Cancel a background loop and wait until it has ended."""
    if task is None:
        return
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass


async def finish_then_stop(task: asyncio.Task | None, grace_seconds: float) -> bool:
    """Let a loop that was told to stop finish its work in hand; cancel it if that takes
    longer than `grace_seconds`. Returns False when it had to be cancelled."""
    if task is None:
        return True
    try:
        await asyncio.wait_for(asyncio.shield(task), grace_seconds)
        return True
    except TimeoutError:
        await stop_task(task)
        return False
