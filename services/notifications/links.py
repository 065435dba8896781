"""Signed links that work without login: one-click unsubscribe, provider callbacks.

A token is `<base64url payload>.<base64url HMAC-SHA256>`, keyed by a secret derived
for its purpose (settings.derived_secret), so a token for one purpose is worthless
for another and nobody can forge or alter one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from typing import Any
from urllib.parse import quote

_ADDRESS = re.compile(r"[^\s<>\"']+@[^\s<>\"']+|(?:\+|\b0)\d[\d .-]{7,}\d")


def redact(text: str) -> str:
    """A provider's or mail server's answer without the addresses and numbers it may echo
    (it goes into logs and the delivery log)."""
    return _ADDRESS.sub("<redacted>", text)


class BadToken(ValueError):
    pass


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(payload: dict[str, Any], key: bytes) -> str:
    body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    mac = _b64(hmac.new(key, body.encode(), hashlib.sha256).digest()[:18])
    return f"{body}.{mac}"


def verify(token: str, key: bytes) -> dict[str, Any]:
    try:
        body, mac = token.split(".", 1)
        expected = _b64(hmac.new(key, body.encode(), hashlib.sha256).digest()[:18])
        if not hmac.compare_digest(mac, expected):
            raise BadToken("signature does not match")
        payload = json.loads(_unb64(body))
    except (ValueError, TypeError, json.JSONDecodeError) as exc:  # TypeError: a non-ASCII mac
        raise BadToken(str(exc) if isinstance(exc, BadToken) else "malformed token") from None
    if not isinstance(payload, dict):
        raise BadToken("malformed token")
    return payload


def unsubscribe_url(base_url: str, recipient_id: str, channel: str, key: bytes) -> str:
    token = sign({"r": recipient_id, "c": channel, "k": "announcement"}, key)
    return f"{base_url.rstrip('/')}/api/v1/notifications/unsubscribe?token={quote(token)}"
