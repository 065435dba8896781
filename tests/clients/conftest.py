"""The whole platform as real processes, started once for the console's browser tests
and the CLI's tests (and stopped after them, so it does not weigh on the tests that
follow), with the staff console served by the gateway as in `make run`.

Rate limits are raised: every console page and CLI command reaches the gateway from
127.0.0.1, and the tests make more logins a minute than an office does."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import pytest

from clients.api import ApiClient
from deploy.local.services import ServiceProcesses
from tests.smtp_server import SmtpServer
from tests.support.platform import platform_env

T = TypeVar("T")
ADMIN_PASSWORD = "console-bootstrap-admin-password"
DATA = Path(__file__).resolve().parents[1] / "data"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


@pytest.fixture(scope="package")
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture(scope="package")
def platform(mongo_url: str, amqp_url: str, smtp: SmtpServer, tmp_path_factory) -> Iterator[ServiceProcesses]:
    env = platform_env(
        "console",
        mongo_url,
        amqp_url,
        smtp.port,
        BUS_RETRY_DELAYS="0.2,0.5",
        LIENHIEP_BOOTSTRAP_ADMIN_PASSWORD=ADMIN_PASSWORD,
        GATEWAY_RATE_PER_SECOND="10000",
        GATEWAY_RATE_BURST="100000",
        GATEWAY_LOGIN_RATE_PER_MINUTE="10000",
        GATEWAY_LOGIN_BURST="1000",
        GATEWAY_ARGON2_TIME_COST="1",
        GATEWAY_ARGON2_MEMORY_KIB="8192",
        LOG_LEVEL="INFO",
    )
    processes = ServiceProcesses(env=env, log_folder=tmp_path_factory.mktemp("console-logs"))
    processes.start()
    try:
        processes.wait_ready()
        yield processes
    finally:
        processes.stop()


@pytest.fixture(scope="package")
def gateway_url(platform: ServiceProcesses) -> str:
    return platform.url("gateway")


def name_tag() -> str:
    """A short unique word to put in names: never all digits, since the API reads an all-digit query as a phone."""
    return "k" + uuid.uuid4().hex[:5]


def run(work: Callable[[ApiClient], Awaitable[T]], url: str, token: str | None = None) -> T:
    """One piece of set-up through the public API, as a partner system would do it."""

    async def go() -> T:
        async with ApiClient(url, token) as api:
            return await work(api)

    # A thread of its own: Playwright's sync API keeps an event loop running on the test's thread.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, go()).result()


@pytest.fixture(scope="package")
def admin_token(gateway_url: str) -> str:
    return run(lambda api: api.login("admin", ADMIN_PASSWORD), gateway_url).access_token
