"""Signed tokens, one implementation for every purpose.

A token reads `<base64url payload>.<base64url mac>`: a JSON payload and an
HMAC-SHA256 over it, keyed by a key *derived for its purpose* from the platform's
one secret (`derive_key`, HKDF-SHA256 with the purpose as its label). So a token
made for one purpose (an unsubscribe link) is worthless for another (a staff
login), and a leak of one purpose's key mints nothing else.

A payload may carry an expiry (`exp`, seconds since 1970) and a version (`v`) that
its owner can bump to revoke every token issued before.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from typing import Any

# Purposes in use: each has its own key. Add a purpose here, never reuse one.
PURPOSES = frozenset(
    {
        "internal-identity",  # the identity the gateway signs for the services
        "gateway-staff-token",  # staff logins
        "gateway-api-key",  # pepper of stored partner-key hashes
        "gateway-traffic",  # anonymised client addresses in traffic counters
        "unsubscribe",  # one-click unsubscribe links (notifications)
        "provider-receipts",  # SMS/ZNS delivery-receipt callbacks (notifications)
        "events:registration-cancel",  # a registrant's cancel link
        "events:calendar-feed",  # a member's personal calendar feed
        "webhook-secret",  # partners' webhook signing secrets at rest (webhooks)
        "console-session",  # the staff console's session cookie (clients/console)
    }
)


class InvalidToken(ValueError):
    """The token is malformed, forged, made for another purpose, expired or revoked."""


def derive_key(secret: str | bytes, purpose: str, length: int = 32) -> bytes:
    """HKDF-SHA256 (RFC 5869) of the platform secret with `purpose` as the label."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown token purpose {purpose!r}: add it to shared.tokens.PURPOSES")
    ikm = secret.encode() if isinstance(secret, str) else secret
    prk = hmac.new(b"lienhiep-hkdf-salt-v1", ikm, hashlib.sha256).digest()
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + purpose.encode() + bytes([counter]), hashlib.sha256).digest()
        out += block
        counter += 1
    return out[:length]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Signer:
    """Signs and verifies the tokens of one purpose."""

    def __init__(self, secret: str | bytes, purpose: str, *, mac_bytes: int = 32) -> None:
        self.purpose = purpose
        self._key = derive_key(secret, purpose)
        self._mac_bytes = mac_bytes  # links in emails may use a shorter (>= 16 bytes) mac

    def _mac(self, body: bytes) -> bytes:
        return hmac.new(self._key, body, hashlib.sha256).digest()[: self._mac_bytes]

    def sign(self, payload: dict[str, Any], *, ttl_seconds: float | None = None, version: int | None = None) -> str:
        claims = dict(payload)
        if ttl_seconds is not None:
            claims["exp"] = int(time.time() + ttl_seconds)
        if version is not None:
            claims["v"] = version
        body = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode())
        return f"{body}.{_b64(self._mac(body.encode()))}"

    def verify(self, token: str, *, now: float | None = None) -> dict[str, Any]:
        """The payload of a genuine, unexpired token; InvalidToken otherwise. Any text is
        safe to pass: comparison is on bytes and decoding errors are refusals."""
        try:
            raw = token.encode("ascii")
            body, mac = raw.split(b".", 1)
            if not hmac.compare_digest(self._mac(body), _unb64(mac.decode("ascii"))):
                raise InvalidToken("signature does not match")
            payload = json.loads(_unb64(body.decode("ascii")))
        except InvalidToken:
            raise
        except (ValueError, UnicodeError, binascii.Error, RecursionError):
            raise InvalidToken("malformed token") from None
        if not isinstance(payload, dict):
            raise InvalidToken("malformed token")
        exp = payload.get("exp")
        if exp is not None and (not isinstance(exp, (int, float)) or exp <= (time.time() if now is None else now)):
            raise InvalidToken("token expired")
        return payload

    def verify_version(self, token: str, current_version: int) -> dict[str, Any]:
        """verify() and refuse tokens issued before the owner's current version."""
        payload = self.verify(token)
        if payload.get("v", 0) != current_version:
            raise InvalidToken("token revoked")
        return payload
