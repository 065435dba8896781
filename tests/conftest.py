"""Fixtures for every test: the embedded store, a private vhost, per-test settings.

`make test` needs nothing running but RabbitMQ, and starts that too when it is
installed and stopped. The embedded store (nx-27017) starts on a free port in a
temporary folder, unless MONGO_URL points at a real MongoDB.

Each test deletes the queues it declared when it ends: a run makes thousands of
queues, and a broker holding them all at once runs out of file handles (RabbitMQ's
file handle cache counts a few per classic queue) and stops creating and deleting
vhosts — for every run on the machine. Tests use classic queues (cheaper); the bus
tests that are about quorum queues ask for them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from urllib.parse import quote

import pytest

from deploy.local.broker import ensure_broker
from deploy.local.embedded_store import EmbeddedStore
from shared.mongo import connect
from shared.settings import Settings
from tests.support import PrivateVhost
from tests.support.bus import QueueRegistry

DEFAULT_AMQP = "amqp://guest:guest@127.0.0.1:5672/"


@pytest.fixture(scope="session")
def mongo_url(tmp_path_factory) -> Iterator[str]:
    if os.environ.get("MONGO_URL"):
        yield os.environ["MONGO_URL"]
        return
    with EmbeddedStore(tmp_path_factory.mktemp("nx-27017")) as store:
        yield store.url


@pytest.fixture(scope="session")
def vhost() -> Iterator[PrivateVhost]:
    base = os.environ.get("AMQP_URL", DEFAULT_AMQP)
    ensure_broker(base)
    if not PrivateVhost.available():
        pytest.fail(
            "rabbitmqctl is needed to give this run its own vhost: install rabbitmq-server "
            "(Debian: apt-get install rabbitmq-server)"
        )
    vhost = PrivateVhost()
    vhost.create()
    yield vhost
    vhost.delete()


@pytest.fixture(scope="session")
def amqp_url(vhost: PrivateVhost) -> str:
    base = os.environ.get("AMQP_URL", DEFAULT_AMQP).rstrip("/")
    root = base.rsplit("/", 1)[0] if base.count("/") > 2 else base
    return f"{root}/{quote(vhost.name, safe='')}"


@pytest.fixture
def settings(mongo_url: str, amqp_url: str) -> Settings:
    """Settings private to one test: its own databases and exchange."""
    run = uuid.uuid4().hex[:8]
    return Settings(
        mongo_url=mongo_url,
        mongo_db_prefix=f"t{run}",
        amqp_url=amqp_url,
        bus_exchange=f"lienhiep.events.{run}",
        bus_queue_prefix=f"{run}.",
        bus_retry_delays="0.05,0.1,0.2",
        bus_max_attempts=3,
        outbox_poll_seconds=0.1,
        internal_identity_secret=f"test-secret-{run}-{uuid.uuid4().hex}",
        bus_queue_type="classic",
        smtp_host="127.0.0.1",
        smtp_port=1,  # tests that send mail run their own SMTP server and say where
    )


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator:
    client = connect(settings.mongo_url)
    yield client[settings.database("test")]
    await client.drop_database(settings.database("test"))
    await client.close()


@pytest.fixture(autouse=True)
async def _delete_the_queues_this_test_declared(request) -> AsyncIterator[None]:
    declared = QueueRegistry.start()
    yield
    if declared and "amqp_url" in request.fixturenames:
        await QueueRegistry.delete(request.getfixturevalue("amqp_url"), declared)
