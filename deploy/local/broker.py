"""Finding (or starting) the local RabbitMQ."""

from __future__ import annotations

import shutil
import subprocess
import time
from urllib.parse import urlparse

from deploy.local.embedded_store import port_open
from deploy.local.machine import Machine

INSTALL_HINT = (
    "RabbitMQ is not reachable at {where}. Install it with `sudo apt-get install rabbitmq-server` "
    "(then `sudo rabbitmq-server -detached`), point AMQP_URL at a running broker, "
    "or run the whole platform with `docker-compose up`."
)


def broker_address(amqp_url: str) -> tuple[str, int]:
    parsed = urlparse(amqp_url)
    return parsed.hostname or "127.0.0.1", parsed.port or 5672


def ensure_broker(amqp_url: str, timeout: float = 60.0) -> bool:
    """Make sure a broker answers. Returns True if this call started it."""
    host, port = broker_address(amqp_url)
    if port_open(host, port):
        return False
    if host not in ("127.0.0.1", "localhost") or shutil.which("rabbitmq-server") is None:
        raise SystemExit(INSTALL_HINT.format(where=f"{host}:{port}"))
    prefix = _as_root()
    command = [*prefix, "rabbitmq-server", "-detached"]
    print(f"RabbitMQ is not running; starting it ({' '.join(command)})…", flush=True)
    subprocess.run(command, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(host, port):
            # The port opens a moment before the broker accepts logins.
            time.sleep(2)
            return True
        time.sleep(0.5)
    raise SystemExit(INSTALL_HINT.format(where=f"{host}:{port}") + " (it was started but did not answer in time)")


def stop_broker() -> None:
    if shutil.which("rabbitmqctl"):
        subprocess.run(
            [*_as_root(), "rabbitmqctl", "stop"], check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )


def _as_root() -> tuple[str, ...]:
    """Debian's RabbitMQ scripts run as root (they switch to the rabbitmq user): sudo when we may, else as we are."""
    return Machine.this().privileged or ()
