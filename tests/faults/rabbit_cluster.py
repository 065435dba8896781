"""A three-node RabbitMQ cluster on this machine, from Debian's rabbitmq-server.

Each node has its own name (`lhf<run>-<i>@localhost`), AMQP and distribution ports
(never 5672, 25672 or the CLI's 35672–35682), config file, data and log folders under
a temporary folder, and one Erlang cookie of its own (passed with -setcookie, never
the machine's). The machine's own broker and its /etc/rabbitmq settings are left
alone: RABBITMQ_CONF_ENV_FILE points at an empty file and no plugin is enabled.
Nodes start one after the other (`await_startup`), 2 and 3 join 1 with
`rabbitmqctl join_cluster`; a node is killed by the pid of its Erlang VM, found by its
RABBITMQ_NODENAME in /proc/<pid>/environ.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

SERVER = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")
CTL = Path("/usr/lib/rabbitmq/bin/rabbitmqctl")
AVOID = {5672, 25672, 15672, 4369, *range(35672, 35683)}


def available() -> str | None:
    """Why the cluster cannot run here, or None."""
    if not SERVER.exists() or not CTL.exists():
        return "Debian's rabbitmq-server binaries are not installed (/usr/lib/rabbitmq/bin)"
    if shutil.which("erl") is None:
        return "Erlang (erl) is not installed"
    return None


def _free_port(taken: set[int]) -> int:
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in AVOID and port not in taken and port + 20000 <= 65535:
            taken.add(port)
            return port


@dataclass
class Node:
    name: str
    folder: Path
    amqp_port: int
    dist_port: int
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.amqp_port}/"


@dataclass
class Cluster:
    folder: Path
    size: int = 3
    cookie: str = field(default_factory=lambda: secrets.token_hex(16))
    nodes: list[Node] = field(default_factory=list)

    def __post_init__(self) -> None:
        run = secrets.token_hex(3)
        taken: set[int] = set()
        self.empty_env = self.folder / "empty.env"
        self.plugins = self.folder / "enabled_plugins"
        for i in range(1, self.size + 1):
            self.nodes.append(
                Node(f"lhf{run}-{i}@localhost", self.folder / f"node{i}", _free_port(taken), _free_port(taken))
            )

    def _env(self, node: Node) -> dict[str, str]:
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(node.folder),
            "LANG": "C.UTF-8",
            "RABBITMQ_NODENAME": node.name,
            "RABBITMQ_CONFIG_FILE": str(node.folder / "rabbitmq"),
            "RABBITMQ_CONF_ENV_FILE": str(self.empty_env),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.plugins),
            "RABBITMQ_MNESIA_BASE": str(node.folder / "mnesia"),
            "RABBITMQ_LOG_BASE": str(node.folder / "log"),
            "RABBITMQ_PID_FILE": str(node.folder / "pid"),
            "RABBITMQ_DIST_PORT": str(node.dist_port),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            # One scheduler, no busy waiting (three nodes on a shared 2-core machine); the
            # distribution port on the loopback interface only.
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": f"-setcookie {self.cookie} +S 1:1 +sbwt none +sbwtdcpu none "
            "+sbwtdio none -kernel inet_dist_use_interface {127,0,0,1}",
        }

    def ctl(self, node: Node, *args: str, timeout: float = 120) -> str:
        result = subprocess.run(
            [str(CTL), "--erlang-cookie", self.cookie, "-n", node.name, "-q", *args],
            env=self._env(node),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"rabbitmqctl {' '.join(args)} on {node.name}: {result.stderr or result.stdout}")
        return result.stdout

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.empty_env.write_text("")
        self.plugins.write_text("[].\n")
        for node in self.nodes:
            self._start(node)
        first = self.nodes[0]
        for node in self.nodes[1:]:
            self.ctl(node, "stop_app")
            self.ctl(node, "join_cluster", first.name)
            self.ctl(node, "start_app")
        self.ctl(first, "await_online_nodes", str(self.size))

    def _start(self, node: Node) -> None:
        node.folder.mkdir(parents=True, exist_ok=True)
        (node.folder / "rabbitmq.conf").write_text(
            f"listeners.tcp.local = 127.0.0.1:{node.amqp_port}\n"
            "loopback_users = none\n"
            # Quorum queue leaders spread over the nodes, so losing one node loses some leaders.
            "queue_leader_locator = balanced\n"
        )
        log = open(node.folder / "server.out", "ab")
        node.process = subprocess.Popen(
            [str(SERVER)],
            env=self._env(node),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + 180
        while not _port_open(node.amqp_port):
            if node.process.poll() is not None:
                raise RuntimeError(f"{node.name} exited; see {node.folder / 'server.out'}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{node.name} did not open its AMQP port; see {node.folder}")
            time.sleep(0.3)
        self.ctl(node, "await_startup", "--timeout", "120")

    def vm_pids(self, node: Node) -> list[int]:
        """The node's processes (its Erlang VM and helpers), by their environment."""
        wanted = f"RABBITMQ_NODENAME={node.name}".encode()
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                environ = (entry / "environ").read_bytes()
            except OSError:
                continue
            if wanted in environ.split(b"\0"):
                pids.append(int(entry.name))
        return pids

    def kill(self, node: Node, sig: int = signal.SIGKILL) -> None:
        for pid in self.vm_pids(node):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        if node.process is not None:
            node.process.wait(30)

    def stop(self) -> None:
        for node in reversed(self.nodes):
            self.kill(node, signal.SIGTERM)
        deadline = time.monotonic() + 30
        while any(self.vm_pids(n) for n in self.nodes) and time.monotonic() < deadline:
            time.sleep(0.2)
        for node in self.nodes:
            self.kill(node, signal.SIGKILL)


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.3):
            return True
    except OSError:
        return False
