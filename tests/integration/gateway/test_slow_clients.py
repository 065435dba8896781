"""Slow clients are cut off (issue 10, item 10): a connection that sends its headers a
byte at a time, and a body that never finishes, do not hold the gateway's
connections. The gateway runs with the server options `python -m services.gateway`
uses (app.server_options)."""

from __future__ import annotations

import asyncio
import time

import pytest

from services.gateway.app import create_app, server_options
from tests.support import eventually

pytestmark = pytest.mark.integration


@pytest.fixture
async def served(aiohttp_server, gw_settings, membership):
    settings = gw_settings.model_copy(
        update={
            "membership_url": str(membership.make_url("")).rstrip("/"),
            "gateway_header_timeout_seconds": 2.0,
            "gateway_body_timeout_seconds": 1.0,
            "gateway_rate_burst": 10_000,
        }
    )
    return await aiohttp_server(create_app(settings), **server_options(settings))


async def _closed_by_server(reader: asyncio.StreamReader) -> bool:
    try:
        return await asyncio.wait_for(reader.read(65536), 0.01) == b"" or reader.at_eof()
    except TimeoutError:
        return False
    except ConnectionError:
        return True


async def test_a_hundred_slow_header_connections_are_cut_off(served):
    connections = []
    for _ in range(100):
        reader, writer = await asyncio.open_connection(served.host, served.port)
        writer.write(b"GET /api/v1/openapi.json HTTP/1.1\r\nHost: gateway\r\n")
        connections.append((reader, writer))
    started = time.monotonic()

    async def trickle() -> None:  # one more header byte now and then, as a slowloris does
        while True:
            for _, writer in connections:
                if not writer.is_closing():
                    writer.write(b"X")
            await asyncio.sleep(0.3)

    dripping = asyncio.create_task(trickle())
    try:

        async def all_closed() -> bool:
            states = await asyncio.gather(*(_closed_by_server(r) for r, _ in connections))
            return all(states)

        await eventually(all_closed, timeout=20, interval=0.2, what="every slow connection closed by the gateway")
        assert time.monotonic() - started < 10  # the header timeout is 2 s
    finally:
        dripping.cancel()
        for _, writer in connections:
            writer.close()


async def test_a_body_that_does_not_arrive_in_time_gets_408(served):
    reader, writer = await asyncio.open_connection(served.host, served.port)
    writer.write(
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n"
        b'Content-Length: 100\r\n\r\n{"username": '
    )
    await writer.drain()
    started = time.monotonic()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    assert head.startswith(b"HTTP/1.1 408") and time.monotonic() - started < 5
    writer.close()


async def test_a_quick_client_on_a_kept_alive_connection_is_not_cut_off(served):
    reader, writer = await asyncio.open_connection(served.host, served.port)
    for _ in range(3):
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: gateway\r\n\r\n")
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        assert head.startswith(b"HTTP/1.1 200")
        length = int(next(h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")).split(b":")[1])
        await reader.readexactly(length)
        await asyncio.sleep(0.5)  # well inside the header timeout
    writer.close()
