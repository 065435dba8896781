"""The platform as `make run REPLICAS=2` runs it, for the fault tests.

One `python -m deploy.local --replicas 2` for the whole package (starting twelve
processes costs about a minute on a loaded machine), on a store of its own (so a
test may kill it), the run's private vhost, an SMTP sink and an SMS provider that
count what they receive per recipient, and can be told to fail. Each test uses its
own organisation, event or addresses, so its counts are its own.

Every scenario records its figures (acknowledged / present / lost / doubled /
recovery) with `record()`; they are printed at the end of the run.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import aiohttp
import pytest

from deploy.local.embedded_store import EmbeddedStore
from tests.fakes.sms_provider import FakeSmsProvider
from tests.smtp_server import Recorder, SmtpServer
from tests.support.platform import SERVICES, platform_env

ROOT = Path(__file__).resolve().parents[2]
ADMIN_PASSWORD = "faults-bootstrap-admin-password"
STARTUP_SECONDS = 420.0
FIGURES: list[str] = []


def record(scenario: str, **figures: object) -> None:
    """Keep a scenario's figures for the summary (and print them for -s runs)."""
    line = f"{scenario:<44} " + "  ".join(f"{k}={v}" for k, v in figures.items())
    FIGURES.append(line)
    print(line)


def pytest_terminal_summary(terminalreporter) -> None:
    if FIGURES:
        terminalreporter.section("fault suite figures")
        for line in FIGURES:
            terminalreporter.write_line(line)


def spaced_ports(count: int, step: int = 10) -> list[int]:
    """`count` ports p free with p + step free too (replica 2 listens there)."""
    chosen: list[int] = []
    while len(chosen) < count:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port + step > 65535 or port in chosen or port + step in chosen:
            continue
        try:
            with socket.socket() as s:
                s.bind(("127.0.0.1", port + step))
        except OSError:
            continue
        chosen.append(port)
    return chosen


# --- the sinks -----------------------------------------------------------------------


class FailingRecorder(Recorder):
    """The SMTP sink: answers 4xx to everyone while `busy_until` lies ahead, and what
    `answers` says for particular addresses; counts what it accepted."""

    busy_until: float = 0.0
    refused: Counter[str]

    def __init__(self) -> None:
        super().__init__()
        self.refused = Counter()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if time.monotonic() < self.busy_until:
            self.refused[address.lower()] += 1
            return "451 4.3.2 Busy, try again later"
        if address.lower() in self.answers:
            self.refused[address.lower()] += 1
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)

    def per_recipient(self, domain: str, subject: str = "") -> Counter[str]:
        """Messages accepted for each address at `domain` (a scenario's own), whose subject has `subject`."""
        counts: Counter[str] = Counter()
        for message in list(self.messages):
            if subject not in str(message["Subject"]):
                continue
            for address in re.findall(r"[\w.+-]+@[\w.-]+", str(message["To"])):
                if address.lower().endswith("@" + domain):
                    counts[address.lower()] += 1
        return counts

    def to_domain(self, domain: str) -> list[EmailMessage]:
        """Messages accepted for addresses at `domain`."""
        return [m for m in list(self.messages) if f"@{domain}" in str(m["To"]).lower()]

    def subjects(self, address: str) -> list[str]:
        return [str(m["Subject"]) for m in list(self.messages) if address in str(m["To"])]


class ThreadedSms:
    """The fake SMS provider on a loop of its own (the tests' loops come and go)."""

    def __init__(self) -> None:
        self.provider = FakeSmsProvider()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> ThreadedSms:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.provider.start(), self.loop).result(30)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.provider.stop(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()

    def per_number(self, prefix: str, text: str = "") -> Counter[str]:
        """SMS accepted for each number starting with `prefix`, whose text has `text`."""
        accepted = list(self.provider.accepted())
        return Counter(
            self.provider.number(r)
            for r in accepted
            if self.provider.number(r).startswith(prefix) and text in self.provider.text(r)
        )


# --- the platform ------------------------------------------------------------------------


@dataclass
class Platform:
    """`python -m deploy.local --replicas 2` and what it said."""

    process: subprocess.Popen
    env: dict[str, str]
    var: Path
    store: EmbeddedStore
    smtp: FailingRecorder
    sms: ThreadedSms
    lines: list[tuple[float, str]] = field(default_factory=list)
    pids: dict[str, int] = field(default_factory=dict)
    gateways: list[str] = field(default_factory=list)
    staff: dict[str, str] = field(default_factory=dict)
    federation: str = ""

    def read(self) -> None:
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            line = raw.rstrip("\n")
            self.lines.append((time.monotonic(), line))
            found = re.match(r"\s*(\S+)\s+http://\S+\s+pid (\d+)$", line) or re.match(
                r"(\S+) restarted \(pid (\d+),", line
            )
            if found:
                self.pids[found.group(1)] = int(found.group(2))

    def said(self, pattern: str, since: float = 0.0) -> list[tuple[float, str]]:
        return [(at, line) for at, line in list(self.lines) if at >= since and re.search(pattern, line)]

    async def wait_said(self, pattern: str, since: float, timeout: float) -> tuple[float, str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.said(pattern, since)
            if found:
                return found[0]
            if self.process.poll() is not None:
                raise AssertionError(f"make run exited with {self.process.returncode}:\n{self.output()}")
            await asyncio.sleep(0.1)
        raise AssertionError(f"make run did not say /{pattern}/ within {timeout}s:\n{self.output()[-3000:]}")

    def output(self) -> str:
        return "\n".join(line for _, line in self.lines)

    def kill(self, name: str) -> float:
        """kill -9 one process make run supervises; returns when."""
        os.kill(self.pids[name], signal.SIGKILL)
        return time.monotonic()

    def gateway(self, i: int) -> str:
        return self.gateways[i % len(self.gateways)]


def _platform_env(store: EmbeddedStore, amqp_url: str, smtp_port: int, sms_url: str) -> dict[str, str]:
    # Replica k of a service listens 10 ports above replica 1: the ports are spaced for that.
    ports = dict(zip(SERVICES, spaced_ports(len(SERVICES)), strict=True))
    return platform_env(
        "faults",
        store.url,
        amqp_url,
        smtp_port,
        **{f"{service.upper()}_PORT": str(port) for service, port in ports.items()},
        BUS_QUEUE_TYPE="classic",
        BUS_RETRY_DELAYS="0.2,0.5,1",
        OUTBOX_POLL_SECONDS="0.5",
        SMS_PROVIDER_URL=sms_url,
        SMS_PROVIDER_TOKEN="sms-test-token",
        SMS_QUIET_START_HOUR="0",  # equal hours: no quiet hours, whatever the hour CI runs at
        SMS_QUIET_END_HOUR="0",
        SMS_ANNOUNCEMENTS_PER_DAY="100",
        NOTIFY_RETRY_SECONDS="1,2",
        EMAIL_RATE_PER_SECOND="40",
        SMS_RATE_PER_SECOND="40",
        GATEWAY_PROBE_SECONDS="1",
        GATEWAY_RATE_PER_SECOND="100000",
        GATEWAY_RATE_BURST="100000",
        GATEWAY_LOGIN_RATE_PER_MINUTE="10000",
        GATEWAY_ARGON2_TIME_COST="1",
        GATEWAY_ARGON2_MEMORY_KIB="8192",
        LIENHIEP_BOOTSTRAP_ADMIN_PASSWORD=ADMIN_PASSWORD,
        LOG_LEVEL="INFO",
    )


@pytest.fixture(scope="package")
def platform(amqp_url: str, tmp_path_factory) -> Iterator[Platform]:
    folder = tmp_path_factory.mktemp("faults")
    recorder = FailingRecorder()
    smtp = SmtpServer()
    smtp.recorder = recorder
    smtp._controller.handler = recorder
    with EmbeddedStore(folder / "store") as store, smtp, ThreadedSms() as sms:
        env = _platform_env(store, amqp_url, smtp.port, sms.provider.url)
        process = subprocess.Popen(
            [sys.executable, "-m", "deploy.local", "--replicas", "2", "--var", str(folder / "var")],
            cwd=ROOT,
            env={**os.environ, **env, "PYTHONUNBUFFERED": "1"},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        running = Platform(process, env, folder / "var", store, recorder, sms)
        reader = threading.Thread(target=running.read, daemon=True)
        reader.start()
        try:
            started = time.monotonic()
            asyncio.run(_until_running(running))
            record("make run --replicas 2: twelve processes ready", startup_s=f"{time.monotonic() - started:.0f}")
            yield running
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            reader.join(10)
            assert process.stdout is not None
            process.stdout.close()


async def _until_running(running: Platform) -> None:
    await running.wait_said(r"^LienHiep is running\.$", 0, STARTUP_SECONDS)
    _, line = await running.wait_said(r"^\s+gateways: ", 0, 5)
    running.gateways = re.findall(r"http://[\d.]+:\d+", line)  # what make run says runs where
    assert len(running.gateways) == 2, line
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{running.gateways[0]}/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
        ) as resp:
            assert resp.status == 200, await resp.text()
            running.staff = {"Authorization": f"Bearer {(await resp.json())['access_token']}"}
        async with http.post(
            f"{running.gateways[0]}/api/v1/organizations",
            headers=running.staff,
            json={"code": "LHH-FAULTS", "name": "Liên hiệp hội (thử lỗi)", "kind": "federation"},
        ) as resp:
            assert resp.status == 201, await resp.text()
            running.federation = (await resp.json())["id"]


# --- helpers the scenarios share ----------------------------------------------------------------


async def new_organization(http: aiohttp.ClientSession, platform: Platform, code: str) -> str:
    async with http.post(
        f"{platform.gateway(0)}/api/v1/organizations",
        headers=platform.staff,
        json={"code": code, "name": f"Hội {code}", "kind": "association", "parent_id": platform.federation},
    ) as resp:
        assert resp.status == 201, await resp.text()
        return (await resp.json())["id"]


@dataclass
class Outcome:
    """What the callers were told: acknowledged writes, and everything else."""

    acknowledged: dict[str, dict] = field(default_factory=dict)  # key → the answer's body
    failed: Counter[str] = field(default_factory=Counter)  # status or error → count


async def call(http: aiohttp.ClientSession, method: str, url: str, **kw) -> tuple[int | str, dict]:
    try:
        async with http.request(method, url, timeout=aiohttp.ClientTimeout(total=30), **kw) as resp:
            body = await resp.json(content_type=None) if resp.content_length != 0 else {}
            return resp.status, body or {}
    except (aiohttp.ClientError, TimeoutError) as exc:
        return type(exc).__name__, {}


async def create_members(
    http: aiohttp.ClientSession,
    platform: Platform,
    people: list[dict],
    outcome: Outcome,
    at_once: int = 6,
) -> None:
    """POST each person through the gateways in turn, `at_once` at a time; acknowledged by email."""
    gate = asyncio.Semaphore(at_once)

    async def one(i: int, person: dict) -> None:
        async with gate:
            status, body = await call(
                http, "POST", f"{platform.gateway(i)}/api/v1/members", headers=platform.staff, json=person
            )
        if status == 201:
            outcome.acknowledged[person["email"]] = body
        else:
            outcome.failed[str(status)] += 1

    await asyncio.gather(*(one(i, p) for i, p in enumerate(people)))


async def present(http: aiohttp.ClientSession, platform: Platform, paths: list[str]) -> int:
    """How many of these resources the API has (200)."""
    found = 0
    for i, path in enumerate(paths):
        status, _ = await call(http, "GET", f"{platform.gateway(i)}/api/v1{path}", headers=platform.staff)
        found += status == 200
    return found


async def now(value):
    """`value`, awaitable (for `eventually` on a plain condition)."""
    return value


def doubled(counts: Counter[str]) -> int:
    return sum(1 for n in counts.values() if n > 1)


def message_ids(messages: list[EmailMessage]) -> Counter[str]:
    return Counter(str(m["Message-ID"]) for m in messages)
