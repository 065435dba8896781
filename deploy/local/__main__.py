"""`make run`: the whole platform on this machine, on the embedded defaults.

Starts what is missing and stops, on Ctrl-C, exactly what it started:
- the embedded store (nx-27017, data in var/mongo) unless MONGO_URL is set;
- RabbitMQ at AMQP_URL, started with `rabbitmq-server -detached` if it is installed
  and not running;
- an SMTP catcher saving mail to var/mail unless SMTP_HOST is set;
- the services (logs in var/log); webhooks may be sent to this machine (loopback),
  so a local receiver can try them (WEBHOOKS_ALLOW_HOSTS; production allows none).

The first staff account, `admin`, gets the password in LIENHIEP_BOOTSTRAP_ADMIN_PASSWORD,
or one generated on the first run and kept in var/bootstrap-admin-password (readable by
you only), so every `make run` can tell you how to log in.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from pydantic import ValidationError

from deploy.local.broker import ensure_broker, stop_broker
from deploy.local.embedded_store import EmbeddedStore, free_port, port_open
from deploy.local.machine import prepare_machine
from deploy.local.services import READY_TIMEOUT, ServiceProcesses, settings_for

ROOT = Path(__file__).resolve().parents[2]
VAR = ROOT / "var"


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    var = args.var.resolve()
    env: dict[str, str] = {}
    started: list[str] = []
    store: EmbeddedStore | None = None
    catcher: subprocess.Popen | None = None
    broker_started = False
    platform: ServiceProcesses | None = None
    try:
        settings = settings_for({})
        prepare_machine(settings)
        if not os.environ.get("MONGO_URL"):
            store = EmbeddedStore(var / "mongo", port=27017 if not port_open("127.0.0.1", 27017) else 0).start()
            env["MONGO_URL"] = store.url
            started.append(f"embedded store (nx-27017) at {store.url}, data in {store.folder / 'data'}")
        broker_started = ensure_broker(settings.amqp_url)
        if broker_started:
            started.append("RabbitMQ (rabbitmq-server -detached)")
        if not os.environ.get("SMTP_HOST"):
            port = 1025 if not port_open("127.0.0.1", 1025) else free_port()
            catcher = subprocess.Popen(
                [sys.executable, "-m", "deploy.local.smtp_catcher", "--folder", str(var / "mail"), "--port", str(port)],
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            env.update(SMTP_HOST="127.0.0.1", SMTP_PORT=str(port))
            started.append(f"SMTP catcher on 127.0.0.1:{port}, mail saved in {var / 'mail'}")
        # Let partners' webhooks reach a receiver on this machine: `make run` is for trying things.
        env["WEBHOOKS_ALLOW_HOSTS"] = os.environ.get("WEBHOOKS_ALLOW_HOSTS") or "127.0.0.0/8,::1/128,localhost"
        password = os.environ.get("LIENHIEP_BOOTSTRAP_ADMIN_PASSWORD") or _kept_secret(var / ADMIN_PASSWORD_NAME, 12)
        env["LIENHIEP_BOOTSTRAP_ADMIN_PASSWORD"] = password
        if not os.environ.get("INTERNAL_IDENTITY_SECRET"):
            env["INTERNAL_IDENTITY_SECRET"] = _kept_secret(var / SECRET_NAME, 48)
        platform = ServiceProcesses(env=env, log_folder=var / "log", replicas=args.replicas, report=_say)
        if not _set_anywhere("PUBLIC_BASE_URL"):  # links in emails lead to this gateway, on whatever port it has
            env["PUBLIC_BASE_URL"] = platform.url("gateway")
        print(f"Starting {_count(args.replicas)} of each service (logs in {var / 'log'})…", flush=True)
        platform.start()
        platform.wait_ready(timeout=args.ready_timeout)
        gateway = platform.url("gateway")
        print("\nLienHiep is running.", flush=True)
        for line in started:
            print(f"  started: {line}")
        print(f"  services: logs in {var / 'log'}")
        for line in platform.where():
            print(f"    {line}")
        if args.replicas > 1:
            print(f"  gateways: {', '.join(platform.urls('gateway'))} (each balances across every replica)")
        print(f"\n  Console: {gateway}/console/   (staff: sign in with the account below)")
        print(f"  Gateway: {gateway}/api/v1/    API docs: {gateway}/api/v1/docs")
        source = (
            "LIENHIEP_BOOTSTRAP_ADMIN_PASSWORD"
            if os.environ.get("LIENHIEP_BOOTSTRAP_ADMIN_PASSWORD")
            else _shown(var / ADMIN_PASSWORD_NAME)
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
  then find the welcome email in {var / "mail"}

A service that stops is restarted (and said here). Press Ctrl-C to stop.""",
            flush=True,
        )
        # Set for SIGINT too: started in the background (`make run &`), a shell leaves
        # SIGINT ignored here while the services still stop on it, and they were restarted.
        for stop_signal in (signal.SIGTERM, signal.SIGINT):
            signal.signal(stop_signal, _stop_on_signal)
        while True:
            platform.supervise()
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("\nStopping…", flush=True)
        return 0
    except (RuntimeError, SystemExit, ValidationError) as exc:
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


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m deploy.local", description="The whole platform on this machine.")
    parser.add_argument(
        "--replicas",
        type=int,
        default=int(os.environ.get("REPLICAS") or 1),
        help="processes of each service, gateways included (default: REPLICAS or 1)",
    )
    parser.add_argument("--var", type=Path, default=VAR, help="folder for data, logs, mail and kept secrets")
    parser.add_argument(
        "--ready-timeout", type=float, default=READY_TIMEOUT, help="seconds to wait for every service to be ready"
    )
    args = parser.parse_args(argv)
    if args.replicas < 1:
        parser.error("--replicas (REPLICAS) must be at least 1")
    return args


def _say(line: str) -> None:
    print(line, flush=True)


def _count(replicas: int) -> str:
    return "one process" if replicas == 1 else f"{replicas} processes"


def _set_anywhere(variable: str) -> bool:
    """Set in the environment under any case (the services read settings case-insensitively)."""
    return any(name.upper() == variable for name in os.environ)


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


ADMIN_PASSWORD_NAME = "bootstrap-admin-password"
SECRET_NAME = "internal-identity-secret"


def _kept_secret(path: Path, size: int) -> str:
    """A random secret generated on the first run and kept in `path` (readable by you only)."""
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(size)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(value + "\n")
    return value


def _stop_on_signal(*_: object) -> None:
    raise KeyboardInterrupt  # stop the same way as Ctrl-C


if __name__ == "__main__":
    sys.exit(main())
