"""Standard Webhooks signatures (https://www.standardwebhooks.com, symmetric scheme `v1`).

Every delivery carries three headers:
- `webhook-id`: the message id, the same on every try of one event to one endpoint
  (partners deduplicate on it);
- `webhook-timestamp`: when this try was made, whole seconds since 1970;
- `webhook-signature`: `v1,` + base64(HMAC-SHA256(secret, "{id}.{timestamp}.{body}")),
  space-separated when two secrets are valid (during a rotation's overlap).

A secret is shown to partners as `whsec_` + base64 of 32 bytes. We store none: each
endpoint's secret is *derived* from the key for purpose `webhook-secret`
(shared/tokens.py) and a random, non-secret salt kept with the endpoint, so a copy of
the database signs nothing. Rotating a secret means a new salt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable

SECRET_PREFIX = "whsec_"
SCHEME = "v1"
_UNSAFE_ID = re.compile(r"[^A-Za-z0-9_-]")


def derive_secret(key: bytes, endpoint_id: str, salt: str) -> str:
    """The endpoint's signing secret for one salt, in the `whsec_` form partners are shown."""
    raw = hmac.new(key, f"{endpoint_id}:{salt}".encode(), hashlib.sha256).digest()
    return SECRET_PREFIX + base64.b64encode(raw).decode()


def secret_bytes(secret: str) -> bytes:
    """The key inside a `whsec_…` secret (the prefix is optional, as in the reference libraries)."""
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """One signature, `v1,<base64>`."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_bytes(secret), signed, hashlib.sha256).digest()
    return f"{SCHEME},{base64.b64encode(digest).decode()}"


def signature_header(secrets: Iterable[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header: one signature per valid secret, space-separated."""
    return " ".join(sign(secret, msg_id, timestamp, body) for secret in secrets)


def headers(secrets: Iterable[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers of one try."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(secrets, msg_id, timestamp, body),
    }


def message_id(seed: str) -> str:
    """A message id from an event id: `msg_` and the id's letters and digits (never a `.`,
    which would make the signed text ambiguous)."""
    return "msg_" + _UNSAFE_ID.sub("", seed)


def verify(secret: str, msg_id: str, timestamp: int, body: bytes, header: str) -> bool:
    """Does any `v1` signature in `header` match? (What a partner checks; used by our tests.)"""
    expected = sign(secret, msg_id, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in header.split())
