"""The signed internal identity the gateway forwards to the services.

The gateway authenticates the caller, then sends `X-LienHiep-Identity:
<base64url(json)>.<base64url(hmac-sha256)>` with who is calling, their roles,
scopes and organisation, and an expiry. Services accept a request only with a
valid, unexpired identity, so calling a service port directly gets nothing.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import BaseModel, ConfigDict, ValidationError

from shared.tokens import InvalidToken, Signer

HEADER = "X-LienHiep-Identity"
TTL_SECONDS = 60
ADMIN, MANAGER, JUDGE = "admin", "manager", "judge"
ROLES = (ADMIN, MANAGER, JUDGE)
STAFF_PREFIX, KEY_PREFIX, SYSTEM_PREFIX = "staff:", "key:", "system:"
ANONYMOUS = "anonymous"


class Identity(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sub: str  # "staff:<username>", "key:<prefix>", "system:<name>"
    roles: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()
    organization_id: str | None = None
    exp: float = 0.0

    def has_scope(self, scope: str) -> bool:
        return self.is_admin or scope in self.scopes

    # Roles, asked one way everywhere (never `"admin" in who.roles` by hand).
    @property
    def is_admin(self) -> bool:
        return ADMIN in self.roles

    @property
    def is_manager(self) -> bool:
        return MANAGER in self.roles and not self.is_admin

    @property
    def is_judge(self) -> bool:
        return JUDGE in self.roles and not self.is_admin and MANAGER not in self.roles

    @property
    def is_staff(self) -> bool:
        """A person of the federation's office or an association (not a partner system)."""
        return self.sub.startswith(STAFF_PREFIX)

    @property
    def is_partner(self) -> bool:
        """A partner system calling with an API key."""
        return self.sub.startswith(KEY_PREFIX)

    @property
    def is_anonymous(self) -> bool:
        return self.sub == ANONYMOUS


class InvalidIdentity(Exception):
    pass


@lru_cache(maxsize=8)
def _signer(secret: str) -> Signer:
    return Signer(secret, "internal-identity")


def sign(identity: Identity, secret: str, ttl: float = TTL_SECONDS) -> str:
    return _signer(secret).sign(identity.model_dump(exclude={"exp"}, mode="json"), ttl_seconds=ttl)


def verify(token: str, secret: str) -> Identity:
    try:
        return Identity.model_validate(_signer(secret).verify(token))
    except InvalidToken as exc:
        raise InvalidIdentity(str(exc)) from None
    except ValidationError:
        raise InvalidIdentity("malformed identity") from None
