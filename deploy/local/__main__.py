"""`make run`: the whole platform on this machine, on the embedded defaults.

Starts what is missing and stops, on Ctrl-C, exactly what it started:
- the embedded store (nx-27017, data in var/mongo) unless MONGO_URL is set;
- RabbitMQ at AMQP_URL, started with `rabbitmq-server -detached` if it is installed
  and not running;
- an SMTP catcher saving mail to var/mail unless SMTP_HOST is set;
- the services (logs in var/log).

The first staff account, `admin`, gets the password in LIENHIEP_BOOTSTRAP_ADMIN_PASSWORD,
or one generated on the first run and kept in var/bootstrap-admin-password (readable by
you only), so every `make run` can tell you how to log in.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from deploy.local.broker import ensure_broker, stop_broker
from deploy.local.embedded_store import EmbeddedStore, free_port, port_open
from deploy.local.services import ServiceProcesses
from shared.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
VAR = ROOT / "var"


def main() -> int:
    env: dict[str, str] = {}
    started: list[str] = []
    store: EmbeddedStore | None = None
    catcher: subprocess.Popen | None = None
    broker_started = False
    platform: ServiceProcesses | None = None
    settings = Settings()
    try:
        if not os.environ.get("MONGO_URL"):
            store = EmbeddedStore(VAR / "mongo", port=27017 if not port_open("127.0.0.1", 27017) else 0).start()
            env["MONGO_URL"] = store.url
            started.append(f"embedded store (nx-27017) at {store.url}, data in {store.folder / 'data'}")
        broker_started = ensure_broker(settings.amqp_url)
        if broker_started:
            started.append("RabbitMQ (rabbitmq-server -detached)")
        if not os.environ.get("SMTP_HOST"):
            port = 1025 if not port_open("127.0.0.1", 1025) else free_port()
            catcher = subprocess.Popen(
                [sys.executable, "-m", "deploy.local.smtp_catcher", "--folder", str(VAR / "mail"), "--port", str(port)],
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            env.update(SMTP_HOST="127.0.0.1", SMTP_PORT=str(port))
            started.append(f"SMTP catcher on 127.0.0.1:{port}, mail saved in {VAR / 'mail'}")
        password = _admin_password()
        env["LIENHIEP_BOOTSTRAP_ADMIN_PASSWORD"] = password
        if not os.environ.get("INTERNAL_IDENTITY_SECRET"):
            env["INTERNAL_IDENTITY_SECRET"] = _kept_secret(SECRET_FILE, 48)
        platform = ServiceProcesses(env=env, log_folder=VAR / "log")
        platform.start()
        platform.wait_ready()
        gateway = platform.url("gateway")
        print("\nLienHiep is running.", flush=True)
        for line in started:
            print(f"  started: {line}")
        print(f"  services: logs in {VAR / 'log'}")
        print(f"\n  Console: {gateway}/console/   (staff: sign in with the account below)")
        print(f"  Gateway: {gateway}/api/v1/    API docs: {gateway}/api/v1/docs")
        source = (
            "LIENHIEP_BOOTSTRAP_ADMIN_PASSWORD"
            if os.environ.get("LIENHIEP_BOOTSTRAP_ADMIN_PASSWORD")
            else ADMIN_PASSWORD_FILE.relative_to(ROOT)
        )
        print(f"  Staff:   user admin, password {password}")
        print(
            f"           (from {source}; set when the first staff account was created, "
            "unless changed since with POST /api/v1/auth/password)"
        )
        print(
            f"""
  Try:
    TOKEN=$(curl -s -X POST {gateway}/api/v1/auth/login -H 'Content-Type: application/json' \\
            -d '{{"username": "admin", "password": "{password}"}}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
    KEY=$(curl -s -X POST {gateway}/api/v1/admin/api-keys -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\
            -d '{{"name": "my portal", "scopes": ["members:read", "members:write"]}}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
    curl -s -X POST {gateway}/api/v1/members -H "X-API-Key: $KEY" -H 'Content-Type: application/json' \\
         -d '{{"full_name": "Nguyễn Văn An", "email": "an@example.com"}}'
  then find the welcome email in {VAR / "mail"}

Press Ctrl-C to stop.""",
            flush=True,
        )
        signal.signal(signal.SIGTERM, _stop_on_sigterm)
        while all(p.poll() is None for p in platform.processes.values()):
            time.sleep(0.5)
        dead = [n for n, p in platform.processes.items() if p.poll() is not None]
        print(f"A service stopped: {', '.join(dead)}; see {VAR / 'log'}. Stopping the rest.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nStopping…", flush=True)
        return 0
    except (RuntimeError, SystemExit) as exc:
        print(f"Could not start LienHiep: {exc}", file=sys.stderr)
        return 1
    finally:
        if platform is not None:
            platform.stop()
        if catcher is not None:
            catcher.terminate()
            catcher.wait(10)
        if store is not None:
            store.stop()
        if broker_started:
            stop_broker()


ADMIN_PASSWORD_FILE = VAR / "bootstrap-admin-password"


SECRET_FILE = VAR / "internal-identity-secret"


def _admin_password() -> str:
    """The bootstrap admin's password: from the environment, else generated once and kept."""
    return os.environ.get("LIENHIEP_BOOTSTRAP_ADMIN_PASSWORD") or _kept_secret(ADMIN_PASSWORD_FILE, 12)


def _kept_secret(path: Path, size: int) -> str:
    """A random secret generated on the first run and kept in `path` (readable by you only)."""
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    VAR.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(size)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(value + "\n")
    return value


def _stop_on_sigterm(*_: object) -> None:
    raise KeyboardInterrupt  # stop the same way as Ctrl-C


if __name__ == "__main__":
    sys.exit(main())
