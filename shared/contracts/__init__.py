"""Event contracts: the single source of truth for every producer and consumer,
and for the AsyncAPI document (`python -m shared.contracts`).

An event type is a routing key (`member.approved`). Each type has one pydantic
model for its `data`, registered with `@contract` in the module of the service
that publishes it. Producers build envelopes with `new_event`; consumers get
`data` validated against the same model. Consumers ignore fields they do not
know, so a producer may add optional fields; anything else is a new version.
"""

from shared.contracts.contests import *  # noqa: F403
from shared.contracts.envelope import (
    CONTRACTS,
    DESCRIPTIONS,
    Envelope,
    EventData,
    UnknownEventType,
    asyncapi_document,
    contract,
    new_event,
    parse_data,
)
from shared.contracts.events import *  # noqa: F403
from shared.contracts.gateway import *  # noqa: F403
from shared.contracts.membership import *  # noqa: F403
from shared.contracts.notifications import *  # noqa: F403
from shared.contracts.types import *  # noqa: F403
from shared.contracts.webhooks import *  # noqa: F403

__all__ = [
    "CONTRACTS",
    "DESCRIPTIONS",
    "Envelope",
    "EventData",
    "UnknownEventType",
    "asyncapi_document",
    "contract",
    "new_event",
    "parse_data",
]
