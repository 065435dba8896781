"""Waiting in background loops without losing a cancellation.

On Python 3.11, `asyncio.wait_for(event.wait(), t)` can swallow a cancellation that
arrives just as the event is set: the loop goes round again and the task that
stop() awaits never ends (a shutdown hang we saw). `asyncio.timeout` does not.
"""

from __future__ import annotations

import asyncio


async def wake_or_timeout(event: asyncio.Event, seconds: float) -> None:
    """Return when `event` is set or after `seconds`, whichever comes first."""
    try:
        async with asyncio.timeout(seconds):
            await event.wait()
    except TimeoutError:
        pass
