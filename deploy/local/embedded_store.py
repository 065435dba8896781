"""The embedded MongoDB-compatible store: nx-27017 (wire protocol on SQLite).

No MongoDB server can be installed on our machines, so local runs and tests start
nx-27017 themselves, each on its own data folder, port, pid file and log file. A
pid file left by a killed run would stop it from starting: a stale one (its process
is gone) is removed first.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(host: str, port: int, timeout: float = 0.3) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


@dataclass
class EmbeddedStore:
    """One nx-27017 process. Use as a context manager, or start()/stop()."""

    folder: Path
    port: int = 0
    host: str = "127.0.0.1"
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"mongodb://{self.host}:{self.port}/"

    @property
    def pid_file(self) -> Path:
        return self.folder / "nx-27017.pid"

    @property
    def log_file(self) -> Path:
        return self.folder / "nx-27017.log"

    def start(self, timeout: float = 30.0) -> EmbeddedStore:
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "data").mkdir(exist_ok=True)
        self._remove_stale_pid_file()
        if not self.port:
            self.port = free_port()
        executable = shutil.which("nx-27017", path=str(Path(sys.executable).parent)) or shutil.which("nx-27017")
        if executable is None:
            raise RuntimeError("nx-27017 is not installed: run `make install`")
        self.process = subprocess.Popen(
            [
                executable,
                "--data-dir",
                str(self.folder / "data"),
                "--host",
                self.host,
                "-p",
                str(self.port),
                "--pid-file",
                str(self.pid_file),
                "--log-file",
                str(self.log_file),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            cwd=str(self.folder),
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nx-27017 exited with {self.process.returncode}; see {self.log_file}")
            if port_open(self.host, self.port):
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"nx-27017 did not listen on port {self.port} within {timeout}s; see {self.log_file}")

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.pid_file.unlink(missing_ok=True)

    def kill(self) -> None:
        """Die like a crash (SIGKILL): for tests of what survives."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()

    def _remove_stale_pid_file(self) -> None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            self.pid_file.unlink(missing_ok=True)
            return
        if not _pid_alive(pid):
            self.pid_file.unlink(missing_ok=True)
        else:
            raise RuntimeError(f"nx-27017 already runs with pid {pid} for {self.folder}")

    def __enter__(self) -> EmbeddedStore:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


@contextmanager
def mongo_url_for(folder: Path) -> Iterator[str]:
    """MONGO_URL when it is set (a real MongoDB), else an embedded store of its own in
    `folder`, stopped on leaving: how benchmarks and tools pick their store."""
    if os.environ.get("MONGO_URL"):
        yield os.environ["MONGO_URL"]
        return
    with EmbeddedStore(folder) as store:
        yield store.url
