"""The signed internal identity the gateway forwards to the services.

The gateway authenticates the caller, then sends `X-LienHiep-Identity:
<base64url(json)>.<base64url(hmac-sha256)>` with who is calling, their roles,
scopes and organisation, and an expiry. Services accept a request only with a
valid, unexpired identity, so calling a service port directly gets nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

from pydantic import BaseModel, ConfigDict, ValidationError

HEADER = "X-LienHiep-Identity"
TTL_SECONDS = 60


class Identity(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sub: str  # "staff:<username>", "key:<prefix>", "system:<name>"
    roles: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()
    organization_id: str | None = None
    exp: float = 0.0

    def has_scope(self, scope: str) -> bool:
        return "admin" in self.roles or scope in self.scopes


class InvalidIdentity(Exception):
    pass


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(identity: Identity, secret: str, ttl: float = TTL_SECONDS) -> str:
    payload = identity.model_copy(update={"exp": time.time() + ttl}).model_dump_json().encode()
    mac = hmac.new(secret.encode(), payload, hashlib.sha256).digest()
    return f"{_b64(payload)}.{_b64(mac)}"


def verify(token: str, secret: str) -> Identity:
    try:
        payload_part, mac_part = token.split(".", 1)
        payload = _unb64(payload_part)
        expected = hmac.new(secret.encode(), payload, hashlib.sha256).digest()
        if not hmac.compare_digest(expected, _unb64(mac_part)):
            raise InvalidIdentity("bad signature")
        identity = Identity.model_validate(json.loads(payload))
    except (ValueError, ValidationError, json.JSONDecodeError) as exc:
        raise InvalidIdentity("malformed identity") from exc
    if identity.exp < time.time():
        raise InvalidIdentity("expired identity")
    return identity
