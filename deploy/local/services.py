"""Start the services as real processes and wait until they are ready.

Used by `python -m deploy.local` and by the end-to-end tests, so both run the
platform the same way.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

SERVICES = ("membership", "events", "notifications", "contests", "webhooks", "gateway")
PORT_VARIABLE = {
    "membership": "MEMBERSHIP_PORT",
    "events": "EVENTS_PORT",
    "notifications": "NOTIFICATIONS_PORT",
    "contests": "CONTESTS_PORT",
    "webhooks": "WEBHOOKS_PORT",
    "gateway": "GATEWAY_PORT",
}


@dataclass
class ServiceProcesses:
    env: dict[str, str]
    log_folder: Path
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    _logs: list[IO] = field(default_factory=list)

    def port(self, service: str) -> int:
        defaults = {
            "membership": 8081,
            "events": 8082,
            "notifications": 8083,
            "contests": 8084,
            "webhooks": 8085,
            "gateway": 8080,
        }
        # The processes get os.environ too: a port set there is where they listen.
        return int({**os.environ, **self.env}.get(PORT_VARIABLE[service], defaults[service]))

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.port(service)}"

    def start(self, services: tuple[str, ...] = SERVICES) -> None:
        self.log_folder.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **self.env, "PYTHONUNBUFFERED": "1"}
        root = Path(__file__).resolve().parents[2]
        for name in services:
            log = open(self.log_folder / f"{name}.log", "ab")
            self._logs.append(log)
            self.processes[name] = subprocess.Popen(
                [sys.executable, "-m", f"services.{name}"],
                cwd=root,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        pending = set(self.processes)
        while pending and time.monotonic() < deadline:
            for name in sorted(pending):
                process = self.processes[name]
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited with {process.returncode}; see {self.log_folder / name}.log")
                if _ready(self.url(name)):
                    pending.discard(name)
            time.sleep(0.1)
        if pending:
            raise RuntimeError(f"not ready after {timeout}s: {', '.join(sorted(pending))}; logs in {self.log_folder}")

    def stop(self, service: str | None = None, sig: int = signal.SIGTERM, timeout: float = 30.0) -> None:
        names = [service] if service else list(reversed(list(self.processes)))
        for name in names:
            process = self.processes.get(name)
            if process is not None and process.poll() is None:
                process.send_signal(sig)
        for name in names:
            process = self.processes.get(name)
            if process is None:
                continue
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if service is None:
            for log in self._logs:
                log.close()
            self._logs.clear()


def _ready(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/readyz", timeout=1) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError):
        return False
