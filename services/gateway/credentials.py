"""Credentials the gateway accepts, as pure functions: partner API keys and staff tokens.

- A partner key reads `lh_<prefix>_<secret>`: the prefix (8 hex) is visible in lists
  and logs and finds the stored record; only an HMAC of the whole key is stored
  (keyed by the `gateway-api-key` pepper), so a leaked database gives no usable key.
  The key is shown once, at creation.
- A staff token reads `lhs.<token>`, `<token>` signed by shared/tokens.py for the
  purpose `gateway-staff-token`: who, role, organisation, session id and expiry. The
  gateway checks the role and organisation against the stored account on every use,
  so a token re-signed with a higher role is refused; logout ends the session id.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from shared.tokens import InvalidToken, Signer

KEY_PATTERN = re.compile(r"^lh_([0-9a-f]{8})_([A-Za-z0-9_-]{32,64})$")
TOKEN_PREFIX = "lhs."
STAFF_TOKEN_PURPOSE = "gateway-staff-token"


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
    """The staff token is malformed, forged or expired (the reason is for logs, not callers)."""


def sign_staff_token(claims: StaffClaims, signer: Signer) -> str:
    payload = {"u": claims.username, "r": claims.role, "o": claims.organization_id, "s": claims.sid, "exp": claims.exp}
    return TOKEN_PREFIX + signer.sign(payload)


def verify_staff_token(token: str, signer: Signer, now: float) -> StaffClaims:
    """The claims of a genuine, unexpired token; BadToken (with a reason) otherwise."""
    if not token.startswith(TOKEN_PREFIX):
        raise BadToken("malformed token")
    try:
        data = signer.verify(token[len(TOKEN_PREFIX) :], now=now)
    except InvalidToken as exc:
        raise BadToken(str(exc)) from None
    try:
        return StaffClaims(
            username=str(data["u"]),
            role=str(data["r"]),
            organization_id=None if data["o"] is None else str(data["o"]),
            sid=str(data["s"]),
            exp=float(data["exp"]),
        )
    except (KeyError, TypeError, ValueError):
        raise BadToken("malformed token") from None


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
