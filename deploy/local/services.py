"""Start the services as real processes, wait until they are ready, keep them running.

Used by `python -m deploy.local` (`make run`) and by the end-to-end and fault tests,
so all of them run the platform the same way.

- Where each process listens comes from the same `Settings` the services read (the
  environment plus what the caller sets), so `GATEWAY_PORT=9090 make run` waits on,
  and prints, port 9090.
- A process is ready when *it* answers: its `/healthz` names its pid, and `/readyz`
  says yes. Another copy answering on the same port is an error, never "ready".
- `replicas=N` runs N processes of every service (the gateways included): replica k
  of a service listens on its port + 10·(k-1) (membership 8081, 8091, …), and every
  gateway is given every replica's URL (MEMBERSHIP_URL=…,…) to balance across them.
- `supervise()` restarts a process that died, after a back-off that doubles while it
  keeps dying (1 s, 2 s, 4 s … 30 s), and says so.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from shared.settings import Settings

SERVICES = ("membership", "events", "notifications", "contests", "webhooks", "gateway")
BACK_SERVICES = SERVICES[:-1]
PORT_VARIABLE = {name: f"{name.upper()}_PORT" for name in SERVICES}
URL_VARIABLE = {name: f"{name.upper()}_URL" for name in BACK_SERVICES}
REPLICA_PORT_STEP = 10
READY_TIMEOUT = 300.0  # seconds; a loaded 2-core machine starts six Python services slowly
PROGRESS_EVERY = 15.0  # seconds between "still waiting for …" lines
BACKOFF_FIRST, BACKOFF_MAX = 1.0, 30.0
STABLE_AFTER = 60.0  # a process up this long starts its back-off afresh when it dies
Report = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def settings_for(env: dict[str, str]) -> Settings:
    """The settings a service started with os.environ + `env` reads (`env` wins)."""
    fields = Settings.model_fields
    return Settings(**{k.lower(): v for k, v in env.items() if k.lower() in fields})  # type: ignore[arg-type]


def _reachable(host: str) -> str:
    """An address to reach a server listening on `host` from this machine."""
    if host in ("", "0.0.0.0", "::", "*"):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


@dataclass
class Replica:
    """One process of one service."""

    service: str
    index: int  # 1, 2, …
    host: str
    port: int
    env: dict[str, str]  # what this process gets on top of the platform's environment
    process: subprocess.Popen | None = None
    log: IO | None = None
    started_at: float = 0.0
    restarts: int = 0
    backoff: float = BACKOFF_FIRST
    restart_at: float | None = None  # monotonic; set while it waits to be restarted
    stopped_at: float | None = None  # monotonic; set from its death until it is ready again

    @property
    def name(self) -> str:
        return self.service if self.index == 1 else f"{self.service}-{self.index}"

    @property
    def url(self) -> str:
        return f"http://{_reachable(self.host)}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


class AnotherCopy(RuntimeError):
    """Something else answers where one of our processes should."""


@dataclass
class ServiceProcesses:
    env: dict[str, str]
    log_folder: Path
    replicas: int = 1
    report: Report = _quiet  # where supervision events go (make run prints them)
    command: Callable[[str], list[str]] = field(default=lambda service: [sys.executable, "-m", f"services.{service}"])
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)  # by replica name, the live processes
    instances: dict[str, Replica] = field(default_factory=dict)
    _stopping: bool = False

    def __post_init__(self) -> None:
        if self.replicas < 1:
            raise ValueError("replicas must be at least 1")
        self.settings = settings_for(self.env)

    # --- where things run ---------------------------------------------------------

    def port(self, service: str, replica: int = 1) -> int:
        base = int(getattr(self.settings, f"{service}_port"))
        return base + REPLICA_PORT_STEP * (replica - 1)

    def host(self, service: str) -> str:
        return self.settings.gateway_host if service == "gateway" else self.settings.service_host

    def url(self, service: str, replica: int = 1) -> str:
        return f"http://{_reachable(self.host(service))}:{self.port(service, replica)}"

    def urls(self, service: str) -> list[str]:
        return [self.url(service, k) for k in range(1, self.replicas + 1)]

    def plan(self, services: tuple[str, ...] = SERVICES) -> list[Replica]:
        """Every process to run, with its port and its own settings."""
        plan = []
        for name in services:
            for k in range(1, self.replicas + 1):
                own = {PORT_VARIABLE[name]: str(self.port(name, k))}
                if name == "gateway":
                    own.update(self._gateway_env(k, services))
                plan.append(Replica(name, k, self.host(name), self.port(name, k), own))
        ports = [(r.host, r.port) for r in plan]
        clash = sorted({f"{h}:{p}" for h, p in ports if ports.count((h, p)) > 1})
        if clash:
            raise RuntimeError(
                f"two processes would listen on {', '.join(clash)}: with {self.replicas} replicas each service "
                f"needs its port and the next {self.replicas - 1} steps of {REPLICA_PORT_STEP}; change the *_PORT settings"
            )
        return plan

    def _gateway_env(self, k: int, services: tuple[str, ...]) -> dict[str, str]:
        own: dict[str, str] = {}
        if self.replicas > 1:
            for name in BACK_SERVICES:
                explicit = getattr(self.settings, f"{name}_url")
                if name in services and not explicit:  # a URL the caller set is theirs to keep
                    own[URL_VARIABLE[name]] = ",".join(self.urls(name))
            if self.settings.gateway_metrics_port:
                own["GATEWAY_METRICS_PORT"] = str(self.settings.gateway_metrics_port + REPLICA_PORT_STEP * (k - 1))
        return own

    def where(self) -> list[str]:
        """What runs where, one line a process."""
        lines = []
        for r in self.instances.values():
            state = f"pid {r.pid}" if r.alive() else "stopped"
            lines.append(f"{r.name:<16} {r.url:<26} {state}")
        return lines

    # --- starting and waiting -------------------------------------------------------

    def start(self, services: tuple[str, ...] = SERVICES) -> None:
        self.log_folder.mkdir(parents=True, exist_ok=True)
        for replica in self.plan(services):
            self.instances[replica.name] = replica
            self._launch(replica)

    def _launch(self, replica: Replica) -> None:
        env = {**os.environ, **self.env, **replica.env, "PYTHONUNBUFFERED": "1"}
        if replica.log is None:
            replica.log = open(self.log_folder / f"{replica.name}.log", "ab")
        replica.process = subprocess.Popen(
            self.command(replica.service),
            cwd=Path(__file__).resolve().parents[2],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=replica.log,
            stderr=subprocess.STDOUT,
        )
        replica.started_at = time.monotonic()
        replica.restart_at = None
        self.processes[replica.name] = replica.process

    def wait_ready(self, timeout: float = READY_TIMEOUT, report: Report | None = None) -> None:
        """Wait until every process started answers ready itself; name the slow ones as it waits."""
        say = report or self.report
        started = time.monotonic()
        deadline, next_word = started + timeout, started + PROGRESS_EVERY
        pending = {name: "not answering yet" for name in self.instances}
        while pending:
            for name in sorted(pending):
                replica = self.instances[name]
                if replica.process is not None and replica.process.poll() is not None:
                    raise RuntimeError(
                        f"{name} exited with {replica.process.returncode} while starting; "
                        f"see {self.log_folder / name}.log"
                    )
                ready, why = check_ready(replica)
                if ready:
                    del pending[name]
                    say(f"  {name} ready on {replica.url} ({time.monotonic() - started:.0f} s)")
                else:
                    pending[name] = why
            now = time.monotonic()
            if not pending:
                break
            if now >= deadline:
                raise RuntimeError(
                    f"not ready after {timeout:.0f} s: {_pending_text(pending)}; logs in {self.log_folder}"
                )
            if now >= next_word:
                say(f"  still waiting after {now - started:.0f} s for {_pending_text(pending)}")
                next_word = now + PROGRESS_EVERY
            time.sleep(0.2)

    # --- keeping them running ---------------------------------------------------------

    def supervise(self, now: float | None = None) -> list[str]:
        """Restart what died, with back-off, and tell when it is ready again; returns (and
        reports) what happened."""
        events: list[str] = []
        if self._stopping:
            return events
        now = time.monotonic() if now is None else now
        for replica in self.instances.values():
            event = self._look_after(replica, now)
            if event:
                events.append(event)
        for event in events:
            self.report(event)
        return events

    def _look_after(self, replica: Replica, now: float) -> str | None:
        process = replica.process
        if replica.restart_at is not None:
            if now < replica.restart_at:
                return None
            self._launch(replica)
            replica.restarts += 1
            return f"{replica.name} restarted (pid {replica.pid}, restart {replica.restarts})"
        if process is None:
            return None
        if process.poll() is None:
            if replica.stopped_at is not None and check_ready(replica, timeout=1)[0]:
                down, replica.stopped_at = now - replica.stopped_at, None
                return f"{replica.name} is back: ready {down:.1f} s after it stopped"
            return None
        if now - replica.started_at >= STABLE_AFTER:
            replica.backoff = BACKOFF_FIRST
        replica.restart_at = now + replica.backoff
        if replica.stopped_at is None:
            replica.stopped_at = now
        event = (
            f"{replica.name} (pid {process.pid}) {_exit_text(process.returncode)}; restarting it in "
            f"{replica.backoff:.0f} s (log: {self.log_folder / replica.name}.log)"
        )
        replica.backoff = min(replica.backoff * 2, BACKOFF_MAX)
        return event

    # --- stopping -------------------------------------------------------------------------

    def stop(self, service: str | None = None, sig: int = signal.SIGTERM, timeout: float = 30.0) -> None:
        """Stop one process (by replica name, e.g. `events` or `events-2`) or, without a name, all of them.
        Stopping one here does not restart it: `supervise()` does that."""
        if service is None:
            self._stopping = True
        names = [service] if service else list(reversed(list(self.instances)))
        chosen = [self.instances[n] for n in names if n in self.instances]
        for replica in chosen:
            if replica.alive():
                assert replica.process is not None
                replica.process.send_signal(sig)
        for replica in chosen:
            if replica.process is None:
                continue
            try:
                replica.process.wait(timeout)
            except subprocess.TimeoutExpired:
                replica.process.kill()
                replica.process.wait()
        if service is None:
            for replica in self.instances.values():
                if replica.log is not None:
                    replica.log.close()
                    replica.log = None


def check_ready(replica: Replica, timeout: float = 3.0) -> tuple[bool, str]:
    """Is this very process (by pid) answering, and ready? With why not."""
    try:
        with urllib.request.urlopen(f"{replica.url}/healthz", timeout=timeout) as resp:
            body = json.loads(resp.read() or b"{}")
    except (urllib.error.URLError, OSError, ValueError):
        return False, "not answering yet"
    if body.get("pid") != replica.pid:
        raise AnotherCopy(
            f"another process (pid {body.get('pid', 'unknown')}) answers on {replica.url}, where {replica.name} "
            f"(pid {replica.pid}) should listen: stop it, or set {PORT_VARIABLE[replica.service]} to a free port"
        )
    try:
        with urllib.request.urlopen(f"{replica.url}/readyz", timeout=timeout) as resp:
            return resp.status == 200, "ready"
    except urllib.error.HTTPError as exc:
        return False, f"/readyz says {_readyz_detail(exc)}"
    except (urllib.error.URLError, OSError):
        return False, "alive, /readyz not answering"


def _readyz_detail(exc: urllib.error.HTTPError) -> str:
    try:
        checks = json.loads(exc.read()).get("checks", {})
    except (ValueError, OSError):
        return str(exc.code)
    failing = [f"{name}: {c.get('detail')}" for name, c in checks.items() if not c.get("ok")]
    return "; ".join(failing) or str(exc.code)


def _pending_text(pending: dict[str, str]) -> str:
    return ", ".join(f"{name} ({why})" for name, why in sorted(pending.items()))


def _exit_text(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with {code}"
