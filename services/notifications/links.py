"""Signed links that work without login: one-click unsubscribe, provider callbacks.

Tokens are shared.tokens' (one implementation for the platform), each purpose with
its own derived key, so a token for one purpose is worthless for another and nobody
can forge or alter one. Every link carries the version in NOTIFY_LINKS_VERSION:
raising it revokes every link handed out before. The macs are shortened to 18 bytes
(links sit in emails and SMS); links made before shared.tokens existed still verify.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from shared.settings import Settings
from shared.tokens import InvalidToken

LINK_MAC_BYTES = 18
CHANNELS = ("email", "sms")
_ADDRESS = re.compile(r"[^\s<>\"']+@[^\s<>\"']+|(?:\+|\b0)\d[\d .-]{7,}\d")

__all__ = ["InvalidToken", "Links", "redact"]


def redact(text: str) -> str:
    """A provider's or mail server's answer without the addresses and numbers it may echo
    (it goes into logs and the delivery log)."""
    return _ADDRESS.sub("<redacted>", text)


class Links:
    def __init__(self, settings: Settings) -> None:
        self.base_url = settings.public_base_url.rstrip("/")
        self.version = settings.notify_links_version
        self._unsubscribe = settings.signer("unsubscribe", LINK_MAC_BYTES)
        self._receipts = settings.signer("provider-receipts", LINK_MAC_BYTES)

    def unsubscribe_url(self, recipient_id: str, channel: str) -> str:
        token = self._unsubscribe.sign({"r": recipient_id, "c": channel, "k": "announcement"}, version=self.version)
        return f"{self.base_url}/api/v1/notifications/unsubscribe?token={quote(token)}"

    def read_unsubscribe(self, token: str) -> tuple[str, str]:
        """(recipient id, channel) of a genuine, current unsubscribe token; InvalidToken otherwise."""
        payload = self._unsubscribe.verify_version(token, self.version)
        recipient, channel = payload.get("r"), payload.get("c")
        if not isinstance(recipient, str) or channel not in CHANNELS:
            raise InvalidToken("malformed token")
        return recipient, str(channel)

    def receipt_token(self, provider: str) -> str:
        return self._receipts.sign({"p": provider}, version=self.version)

    def receipt_url(self, provider: str, path: str | None = None) -> str:
        where = path or f"/api/v1/notifications/receipts/{provider}"
        return f"{self.base_url}{where}?token={self.receipt_token(provider)}"

    def check_receipt(self, token: str, provider: str) -> None:
        if self._receipts.verify_version(token, self.version).get("p") != provider:
            raise InvalidToken("made for another provider")
