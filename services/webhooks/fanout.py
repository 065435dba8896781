"""From one bus event to the deliveries it causes: one per endpoint whose key may hear it.

The projections reach needs are kept first (the organisation tree from
`organization.*`, each member's organisations from `member.*`), then every active
endpoint subscribed to the event's type is judged with its key's scopes and reach
(public_forms.py) and gets the event's public form as that key may see it. Which
endpoints listen is kept in memory (listeners.py): an event no endpoint listens to
costs no read. Delivery ids are deterministic and the projections newest-wins, so an
event handled twice makes nothing twice: the subscription needs no inbox claim.

A member's erasure also blanks the bodies this service still keeps of that member
(the delivery log) and stops unsent ones, then is announced like any event.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from services.webhooks.dispatching import new_delivery
from services.webhooks.endpoints import OFFERED
from services.webhooks.listeners import Listeners
from services.webhooks.public_forms import Viewer, body, may_hear, organisations_of, public_form
from services.webhooks.store import DeliveryDoc, DeliveryStore, EndpointStore, KeyDoc, ProjectionStore
from shared.access import OrganizationTree
from shared.contracts import Envelope, EventData, MemberContact, MemberErased, OrganizationChanged, RegistrationEvent
from shared.identity import KEY_PREFIX, Identity
from shared.logging import get_logger

log = get_logger(__name__)
ERASED_BODY = json.dumps({"erased": True})


class FanOut:
    def __init__(
        self,
        endpoints: EndpointStore,
        projections: ProjectionStore,
        deliveries: DeliveryStore,
        tree: OrganizationTree,
        wake: Callable[[], None],
    ) -> None:
        self.endpoints = endpoints
        self.listeners = Listeners(endpoints)
        self.projections = projections
        self.deliveries = deliveries
        self.tree = tree
        self.wake = wake

    async def on_event(self, envelope: Envelope, data: EventData) -> int:
        """Keep the projections, then store the event's deliveries; returns how many were new.

        An erased member is forgotten last, once the erasure's own deliveries are stored:
        handled again after a failure, it is judged with the same organisations."""
        member_organisations = await self._project(envelope, data)
        added = await self._fan_out(envelope, data, member_organisations)
        if isinstance(data, MemberErased):
            await self.projections.forget_member(data.member_id)
        return added

    async def _fan_out(self, envelope: Envelope, data: EventData, member_organisations: list[str]) -> int:
        if envelope.type not in OFFERED:
            return 0
        listening = await self.listeners.of(envelope.type)
        if not listening:
            return 0
        grants = await self.endpoints.grants([e["key_prefix"] for e in listening])
        organisations = organisations_of(data, member_organisations)
        docs: list[DeliveryDoc] = []
        for endpoint in listening:
            grant = grants.get(endpoint["key_prefix"])
            if grant is None:
                continue  # registered by an administrator for a key not seen yet, or revoked
            viewer = await self._viewer(grant)
            if not may_hear(viewer, envelope.type, organisations):
                continue
            form = public_form(envelope.type, data, viewer)
            docs.append(
                new_delivery(
                    endpoint,
                    envelope.id,
                    envelope.type,
                    body(envelope.type, envelope.occurred_at, form),
                    member_id=_subject(data),
                    trigger="event",
                )
            )
        added = await self.deliveries.add(docs)
        if added:
            self.wake()
        log.info("webhooks.fanned_out", event_type=envelope.type, endpoints=len(listening), deliveries=added)
        return added

    async def _viewer(self, grant: KeyDoc) -> Viewer:
        who = Identity(
            sub=KEY_PREFIX + grant["_id"], scopes=tuple(grant["scopes"]), organization_id=grant["organization_id"]
        )
        return Viewer(grant["_id"], frozenset(grant["scopes"]), await self.tree.reach(who))

    async def _project(self, envelope: Envelope, data: EventData) -> list[str]:
        """Keep what reach needs; for an erasure, the member's organisations as they were
        (and what this service kept of them scrubbed)."""
        at = envelope.occurred_at
        if isinstance(data, OrganizationChanged):
            if (
                await self.projections.keep_organization(data.organization_id, data.parent_id, data.status, at)
                != "stale"
            ):
                self.tree.invalidate()
        elif isinstance(data, MemberErased):
            organisations = await self.projections.member_organizations(data.member_id)
            scrubbed = await self.deliveries.erase_member(data.member_id, ERASED_BODY)
            log.info("webhooks.member_erased", member_id=data.member_id, deliveries_scrubbed=scrubbed)
            return organisations
        elif isinstance(data, MemberContact):
            await self.projections.keep_member(data.member_id, data.organization_ids, at)
        return []


def _subject(data: EventData) -> str | None:
    """The member whose personal data a delivery's body holds (erasure finds them by it)."""
    if isinstance(data, MemberContact):
        return data.member_id
    if isinstance(data, RegistrationEvent):
        return data.registrant.member_id
    return None
