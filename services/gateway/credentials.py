"""Credentials the gateway accepts, as pure functions: partner API keys and staff tokens.

- A partner key reads `lh_<prefix>_<secret>`: the prefix (8 hex) is visible in lists
  and logs and finds the stored record; only an HMAC of the whole key is stored,
  so a leaked database gives no usable key. The key is shown once, at creation.
- A staff token reads `lhs.<payload>.<mac>`: who, role, organisation, session id and
  expiry, signed with a key derived for this purpose. Logout revokes the session id.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass

KEY_PATTERN = re.compile(r"^lh_([0-9a-f]{8})_([A-Za-z0-9_-]{32,64})$")
TOKEN_PREFIX = "lhs."


def new_api_key() -> tuple[str, str]:
    """A fresh key and its visible prefix."""
    prefix = secrets.token_hex(4)
    return f"lh_{prefix}_{secrets.token_urlsafe(32)}", prefix


def key_prefix(key: str) -> str | None:
    """The prefix of a well-formed key, else None."""
    match = KEY_PATTERN.match(key)
    return match.group(1) if match else None


def hash_key(key: str, pepper: bytes) -> str:
    return hmac.new(pepper, key.encode(), hashlib.sha256).hexdigest()


def key_matches(key: str, stored_hash: str, pepper: bytes) -> bool:
    return hmac.compare_digest(hash_key(key, pepper), stored_hash)


@dataclass(frozen=True)
class StaffClaims:
    username: str
    role: str
    organization_id: str | None
    sid: str
    exp: float


class BadToken(Exception):
    pass


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_staff_token(claims: StaffClaims, key: bytes) -> str:
    payload = json.dumps(
        {"u": claims.username, "r": claims.role, "o": claims.organization_id, "s": claims.sid, "e": claims.exp},
        separators=(",", ":"),
    ).encode()
    mac = hmac.new(key, payload, hashlib.sha256).digest()
    return f"{TOKEN_PREFIX}{_b64(payload)}.{_b64(mac)}"


def verify_staff_token(token: str, key: bytes, now: float) -> StaffClaims:
    """The claims of a genuine, unexpired token; BadToken (with a reason) otherwise."""
    if not token.startswith(TOKEN_PREFIX):
        raise BadToken("malformed token")
    try:
        payload_part, mac_part = token[len(TOKEN_PREFIX) :].split(".", 1)
        payload = _unb64(payload_part)
        if not hmac.compare_digest(hmac.new(key, payload, hashlib.sha256).digest(), _unb64(mac_part)):
            raise BadToken("bad signature")
        data = json.loads(payload)
        claims = StaffClaims(
            username=str(data["u"]),
            role=str(data["r"]),
            organization_id=data["o"],
            sid=str(data["s"]),
            exp=float(data["e"]),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise BadToken("malformed token") from exc
    if claims.exp <= now:
        raise BadToken("token expired")
    return claims


def bearer(authorization: str | None, api_key_header: str | None) -> str | None:
    """The credential a request carries: `Authorization: Bearer …` or `X-API-Key`."""
    if api_key_header:
        return api_key_header.strip()
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        return ""  # present but not a bearer credential: refused, never ignored
    return None
