"""What the benchmarks measure with: percentiles, and a count of store commands.

Store commands are counted on the wire by a `pymongo.monitoring.CommandListener`
(`CommandTally`): give it to one client (`connect(url, listeners=[tally])`), or
`monitoring.register(tally)` before the services in this process make theirs. A
service run as its own process is counted by `bench/counted_service.py` (the same
tally inside it, read on a signal): give ServiceProcesses `command=counted_command`
and `COMMANDS_DIR` in its env, and read a process's count with `counts_of`.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from pymongo import monitoring
from pymongo.asynchronous.database import AsyncDatabase

from shared.outbox import PENDING

# Connection handshakes, authentication and session clean-up: what a client does to talk
# at all, not what an operation asks of the store.
NOT_ROUND_TRIPS = frozenset({"hello", "ismaster", "isMaster", "saslStart", "saslContinue", "endSessions"})
Key = tuple[str, str, str]  # database, command, collection


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


class CommandTally(monitoring.CommandListener):
    """Every command a client sends (handshakes aside), by database, command and collection."""

    def __init__(self) -> None:
        self.counts: Counter[Key] = Counter()

    @property
    def count(self) -> int:
        return self.counts.total()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        name = event.command_name
        if name in NOT_ROUND_TRIPS:
            return
        target = event.command.get("collection") if name == "getMore" else event.command.get(name)
        self.counts[(event.database_name, name, target if isinstance(target, str) else "-")] += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    def snapshot(self) -> Counter[Key]:
        return Counter(self.counts)


def per_operation(
    before: Counter[Key], after: Counter[Key], idle: dict[Key, float], seconds: float, n: int
) -> dict[Key, float]:
    """Commands of the window, idle polling of the same length subtracted, per operation."""
    result: dict[Key, float] = {}
    for key in set(after) | set(idle):
        value = after[key] - before[key] - idle.get(key, 0.0) * seconds
        if value >= 0.5:  # less than half a command left: what idle polling did meanwhile
            result[key] = value / n
    return result


async def outbox_drained(db: AsyncDatabase, collections: Sequence[str], timeout: float = 600.0) -> None:
    """Wait until the relay has published every event written to `collections` (its part of
    an operation's cost), then a moment for its clean-up write. Read with a client of the
    bench's own, made before any tally is registered, so the waiting is not counted."""
    deadline = time.monotonic() + timeout
    for name in collections:
        while await db[name].count_documents({PENDING: True}, limit=1):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name}: events still unpublished after {timeout:.0f} s")
            await asyncio.sleep(0.2)
    await asyncio.sleep(0.5)


def idle_rate(before: Counter[Key], after: Counter[Key], seconds: float) -> dict[Key, float]:
    """Commands per second of a window in which nothing was asked of the services."""
    return {key: value / seconds for key, value in (after - before).items()}


def breakdown(per_op: dict[Key, float], top: int = 6, floor: float = 0.01) -> str:
    """The largest shares of a per-operation count, as `command collection n.nn` (database left out)."""
    shares: dict[tuple[str, str], float] = {}
    for (_, command, collection), value in per_op.items():
        shares[(command, collection)] = shares.get((command, collection), 0.0) + value
    items = [(k, v) for k, v in sorted(shares.items(), key=lambda kv: -kv[1]) if v >= floor]
    shown = ", ".join(f"{command} {collection} {value:.2f}" for (command, collection), value in items[:top])
    return shown + (f", {len(items) - top} more" if len(items) > top else "")


# --- a service in its own process (bench/counted_service.py) ----------------------------

COMMANDS_DIR = "BENCH_COMMANDS_DIR"  # the folder each counted process writes <service>.json into


def counted_command(service: str) -> list[str]:
    """What ServiceProcesses runs for `service` to have its store commands counted."""
    return [sys.executable, str(Path(__file__).with_name("counted_service.py")), service]


def dump_on_signal(tally: CommandTally, path: Path) -> None:
    """On SIGUSR1, write the tally to `path` (whole, then renamed: a reader never sees half)."""
    written = 0

    def write(*_: object) -> None:
        nonlocal written
        written += 1
        rows = [[*key, n] for key, n in tally.counts.items()]
        part = path.with_suffix(".part")
        part.write_text(json.dumps({"seq": written, "counts": rows}))
        part.replace(path)

    signal.signal(signal.SIGUSR1, write)


async def counts_of(pid: int, folder: Path, service: str, timeout: float = 10.0) -> Counter[Key]:
    """The commands process `pid` (`service`, started by `counted_command`) has sent so far."""
    path = folder / f"{service}.json"
    seq = json.loads(path.read_text())["seq"] if path.exists() else 0
    os.kill(pid, signal.SIGUSR1)
    deadline = time.monotonic() + timeout
    while True:
        if path.exists():
            got = json.loads(path.read_text())
            if got["seq"] > seq:
                return Counter({(db, command, collection): n for db, command, collection, n in got["counts"]})
        if time.monotonic() > deadline:
            raise RuntimeError(f"process {pid} did not report its store commands in {timeout:.0f} s")
        await asyncio.sleep(0.01)
