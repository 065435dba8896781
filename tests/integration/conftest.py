from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from shared.mongo import connect
from shared.settings import Settings


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator:
    client = connect(settings.mongo_url)
    yield client[settings.database("test")]
    await client.drop_database(settings.database("test"))
    await client.close()
