"""Group writes (shared/batching.py): every caller of a batch hears its own outcome, and
hears back whatever happens to the batch (a caller left waiting hangs its bus message)."""

from __future__ import annotations

import asyncio

import pytest

from shared.batching import GroupWrite, GroupWriteFailed

DEADLINE = 2.0  # every caller hears back well within this; more means one was left hanging


async def _outcomes(*futures: asyncio.Future) -> list:
    return await asyncio.wait_for(asyncio.gather(*futures, return_exceptions=True), DEADLINE)


async def test_a_request_the_write_refuses_fails_its_own_caller_only():
    refused = ValueError("document failed validation")
    seen: list[list[str]] = []

    async def write(requests: list[str]) -> list[str | Exception]:
        seen.append(requests)
        return [refused if r == "bad" else r.upper() for r in requests]

    group: GroupWrite[str, str] = GroupWrite(write)
    a, bad, c = group.submit("a"), group.submit("bad"), group.submit("c")
    assert await asyncio.wait_for(a, DEADLINE) == "A"
    with pytest.raises(ValueError) as raised:
        await asyncio.wait_for(bad, DEADLINE)
    assert raised.value is refused
    assert await asyncio.wait_for(c, DEADLINE) == "C"
    assert seen == [["a", "bad", "c"]], "still one write for the batch"


async def test_a_write_that_fails_as_a_whole_fails_every_caller():
    async def write(requests: list[str]) -> list[str]:
        raise ConnectionError("store unreachable")

    group: GroupWrite[str, str] = GroupWrite(write)
    outcomes = await _outcomes(group.submit("a"), group.submit("b"))
    assert [type(o) for o in outcomes] == [ConnectionError, ConnectionError]


async def test_a_write_answering_the_wrong_number_of_outcomes_fails_every_caller_instead_of_hanging_some():
    async def write(requests: list[str]) -> list[str]:
        return [r.upper() for r in requests[:-1]]  # one short: nobody can tell whose result is whose

    group: GroupWrite[str, str] = GroupWrite(write)
    outcomes = await _outcomes(group.submit("a"), group.submit("b"), group.submit("c"))
    assert all(isinstance(o, GroupWriteFailed) for o in outcomes), outcomes


async def test_a_write_cancelled_from_inside_fails_every_caller_instead_of_hanging_them():
    calls = []

    async def write(requests: list[str]) -> list[str]:
        calls.append(requests)
        if len(calls) == 1:
            raise asyncio.CancelledError  # e.g. the driver's own task cancelled under it
        return await _upper(requests)

    group: GroupWrite[str, str] = GroupWrite(write)
    outcomes = await _outcomes(group.submit("a"), group.submit("b"))
    assert all(isinstance(o, GroupWriteFailed) for o in outcomes), outcomes
    assert await _outcomes(group.submit("c")) == ["C"], "the next batch is written"


async def test_a_batch_cancelled_while_it_gathers_requests_fails_them_and_the_next_batch_is_written():
    group: GroupWrite[str, str] = GroupWrite(_upper, linger_seconds=60)
    first, second = group.submit("a"), group.submit("b")
    for task in list(group._tasks):  # the batch's writer, stopped (the service shutting down, say)
        task.cancel()
    outcomes = await _outcomes(first, second)
    assert all(isinstance(o, GroupWriteFailed) for o in outcomes), outcomes
    group._linger = 0
    assert await _outcomes(group.submit("c")) == ["C"], "a new batch starts: nothing stuck in the old one"


async def test_a_cancelled_caller_does_not_hold_up_or_break_the_others():
    written = asyncio.Event()
    abandoned: list[str] = []
    release = asyncio.Event()  # the clean-up of an abandoned request is slow (a store round trip)

    async def write(requests: list[str]) -> list[bool | Exception]:
        written.set()
        await asyncio.sleep(0)
        return [ValueError("refused") if r == "refused" else True for r in requests]

    async def on_abandoned(request: str) -> None:
        abandoned.append(request)
        await release.wait()

    group: GroupWrite[str, bool] = GroupWrite(write, on_abandoned=on_abandoned)
    gone, gone_refused = group.submit("gone"), group.submit("refused")
    others = [group.submit("b"), group.submit("c")]
    gone.cancel()
    gone_refused.cancel()
    try:
        assert await _outcomes(*others) == [True, True], "the others' results do not wait for the clean-up"
        assert abandoned == ["gone"], "cleaned up: written for a caller that left; not: refused anyway"
    finally:
        release.set()
    assert written.is_set()
    await asyncio.wait_for(asyncio.gather(*group._tasks), DEADLINE)  # the clean-up ends too


async def _upper(requests: list[str]) -> list[str]:
    return [r.upper() for r in requests]
