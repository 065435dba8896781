"""The gateway's bus subscription: what every gateway replica must forget at once.

A broadcast (shared/bus.py): each replica has its own queue and hears every
`credential.revoked` and `staff_account.changed`, the events a replica publishes
through its outbox when a key is revoked, a login ends or a staff account changes.
A replica that lost its broker connection forgets everything it remembered when the
connection comes back, since events may have passed it by.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.gateway.identifying import Callers
from shared.bus import EventBus
from shared.contracts import CredentialRevoked, Envelope, EventData, StaffAccountChanged

FORGET = ["credential.revoked", "staff_account.changed"]


@dataclass
class CredentialHandlers:
    callers: Callers

    async def on_credential_changed(self, envelope: Envelope, data: EventData) -> None:
        if isinstance(data, CredentialRevoked):
            if data.kind == "api_key":
                self.callers.forget_key(data.id)
            else:
                self.callers.forget_session(data.id)
        elif isinstance(data, StaffAccountChanged):
            self.callers.forget_account(data.username)

    def subscribe(self, bus: EventBus) -> None:
        bus.subscribe("forget_credentials", FORGET, self.on_credential_changed, broadcast=True)
        bus.on_reconnect(self.callers.forget_everything)
