"""The settings of a whole platform run as processes for one test package: its own
database prefix, exchange, queue prefix and a free port per service, so runs never
see each other's data or messages."""

from __future__ import annotations

import uuid

from deploy.local.embedded_store import free_port

SERVICES = ("gateway", "membership", "events", "notifications", "contests", "webhooks")


def platform_env(name: str, mongo_url: str, amqp_url: str, smtp_port: int, **overrides: str) -> dict[str, str]:
    """Environment for `ServiceProcesses`: `name` labels the run's databases and secret;
    `overrides` (e.g. LIENHIEP_BOOTSTRAP_ADMIN_PASSWORD, rate limits) are added last."""
    run = uuid.uuid4().hex[:8]
    env = {
        "MONGO_URL": mongo_url,
        "MONGO_DB_PREFIX": f"{name}{run}",
        "AMQP_URL": amqp_url,
        "BUS_EXCHANGE": f"lienhiep.events.{run}",
        "BUS_QUEUE_PREFIX": f"{run}.",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        "INTERNAL_IDENTITY_SECRET": f"{name}-{run}-{uuid.uuid4().hex}{uuid.uuid4().hex}",
        **{f"{service.upper()}_PORT": str(free_port()) for service in SERVICES},
    }
    return {**env, **overrides}
