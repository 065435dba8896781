"""Events the gateway publishes: what every gateway replica must forget at once."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from shared.contracts.envelope import EventData, contract

__all__ = ["CredentialRevoked", "StaffAccountChanged"]


@contract("credential.revoked")
class CredentialRevoked(EventData):
    """A partner key was revoked or a staff login ended: every gateway replica stops
    accepting it (within a second: they hear this event, not a cache timeout)."""

    kind: Literal["api_key", "session"]
    id: str = Field(description="The key's visible prefix, or the login's session id (never the secret itself).")


@contract("staff_account.changed")
class StaffAccountChanged(EventData):
    """A staff account was disabled, enabled, unlocked, given another role or organisation,
    or its password changed: every gateway replica reads it again before the next request."""

    username: str
    change: Literal["disabled", "enabled", "unlocked", "role_changed", "password_changed", "password_reset"]
    logins_ended: bool = Field(description="Every login of the account that began before this change has ended.")
