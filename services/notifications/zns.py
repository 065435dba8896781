"""The zns channel: Zalo Notification Service messages, sent to a phone number by the
federation's Official Account with a template Zalo approved beforehand.

- Which notifications may go by ZNS, in which language, with which template: the
  ZNS_TEMPLATES setting (template ids are the OA's own); which of our template
  variables fill each ZNS parameter: `PARAMS` here.
- The OA access token lives about 25 hours; it is refreshed with the refresh token
  before it expires (and at once when Zalo calls it invalid, -124). Both rotate and
  are kept in the store (zns_store.py).
- The phone goes in the 84xxxxxxxxx form; `tracking_id` is our delivery key, so a
  delivery receipt finds its delivery.
- A refusal (no Zalo account for the number, quota, template not usable, a bad
  number...) raises ZnsRefused: the delivery falls back to SMS. A network failure or a
  server error raises ZnsDeferred: tried again later (and by SMS after the attempts).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

import aiohttp

from services.notifications.links import redact
from services.notifications.sms import MAX_ANSWER_BYTES, provider_id
from services.notifications.zns_store import ZnsTokenStore
from shared.settings import Settings
from shared.text import zalo_phone

TOKEN_INVALID = -124
REFRESH_MARGIN_SECONDS = 600.0  # refresh this long before the access token expires
# ZNS parameter → our template variable (dotted), per notification kind.
_EVENT = {"customer_name": "full_name", "event_name": "event.title", "event_time": "event.when"}
PARAMS: dict[str, dict[str, str]] = {
    "registration_confirmed": {**_EVENT, "ticket_code": "ticket_code"},
    "registration_promoted": {**_EVENT, "ticket_code": "ticket_code"},
    "event_reminder": {**_EVENT, "venue": "event.venue"},
    "event_changed": {**_EVENT, "venue": "event.venue"},
    "event_cancelled": {**_EVENT, "reason": "reason"},
}
PARAM_LIMITS = {"customer_name": 30}  # characters ZNS takes; others up to DEFAULT_LIMIT
DEFAULT_LIMIT = 200


class ZnsRefused(Exception):
    """Zalo will not deliver this message: send it by SMS instead."""


class ZnsDeferred(Exception):
    """Zalo could not be reached or failed: try again later."""


@dataclass(frozen=True)
class ZnsTemplates:
    """notification → language → ZNS template id, from the ZNS_TEMPLATES setting."""

    ids: dict[str, dict[str, str]]

    @classmethod
    def from_setting(cls, text: str) -> ZnsTemplates:
        raw = json.loads(text) if text.strip() else {}
        if not isinstance(raw, dict):
            raise ValueError("ZNS_TEMPLATES must be a JSON object")
        ids = {n: {lang: str(tid) for lang, tid in langs.items()} for n, langs in raw.items() if n in PARAMS}
        return cls(ids)

    def template(self, notification: str, language: str) -> str | None:
        langs = self.ids.get(notification) or {}
        return langs.get(language) or langs.get("vi")


def template_data(notification: str, context: dict[str, Any]) -> dict[str, str]:
    """The ZNS parameters of one message, from the context our templates render with."""
    data = {}
    for param, path in PARAMS[notification].items():
        value: Any = context
        for part in path.split("."):
            value = value.get(part, "") if isinstance(value, dict) else ""
        data[param] = str(value or "")[: PARAM_LIMITS.get(param, DEFAULT_LIMIT)]
    return data


class ZnsClient:
    def __init__(self, settings: Settings, tokens: ZnsTokenStore, timeout_seconds: float = 10.0) -> None:
        self.settings = settings
        self.tokens = tokens
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds, connect=3)
        self._session: aiohttp.ClientSession | None = None
        self._refreshing = asyncio.Lock()

    @property
    def configured(self) -> bool:
        s = self.settings
        return bool(s.zns_app_id and s.zns_app_secret)

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def send(self, *, phone: str, template_id: str, data: dict[str, str], tracking_id: str) -> str:
        """Send one ZNS message; Zalo's message id."""
        payload = {
            "phone": zalo_phone(phone),
            "template_id": template_id,
            "template_data": data,
            "tracking_id": tracking_id,
        }
        token = await self._access_token()
        answer = await self._post_message(token, payload)
        if answer.get("error") == TOKEN_INVALID:  # expired early, or revoked: one fresh token, one more try
            answer = await self._post_message(await self._refresh(stale=token), payload)
        if answer.get("error") == 0:
            return provider_id((answer.get("data") or {}).get("msg_id"), tracking_id)
        raise ZnsRefused(redact(f"ZNS error {answer.get('error')}: {str(answer.get('message') or '')[:200]}"))

    async def _post_message(self, token: str, payload: dict[str, Any]) -> dict[str, Any]:
        url = f"{self.settings.zns_api_url.rstrip('/')}/message/template"
        return await self._post(url, headers={"access_token": token}, json=payload)

    async def _access_token(self) -> str:
        doc = await self.tokens.get()
        if doc is not None and doc["expires_at"] - time.time() > REFRESH_MARGIN_SECONDS:
            return doc["access_token"]
        return await self._refresh()

    async def _refresh(self, stale: str | None = None) -> str:
        """A new access token from the refresh token (one refresh at a time here; a
        caller that waited reads the token the first one stored). `stale`: the token
        Zalo just called invalid, refreshed however long it claimed to last."""
        async with self._refreshing:
            doc = await self.tokens.get()
            fresh = doc is not None and doc["expires_at"] - time.time() > REFRESH_MARGIN_SECONDS
            if doc is not None and fresh and doc["access_token"] != stale:
                return doc["access_token"]  # refreshed meanwhile
            return await self._exchange(doc["refresh_token"] if doc else self.settings.zns_refresh_token)

    async def _exchange(self, refresh: str) -> str:
        """Trade the refresh token for new tokens (both rotate) and keep them."""
        if not (self.configured and refresh):
            raise ZnsRefused("ZNS is not configured (ZNS_APP_ID, ZNS_APP_SECRET, ZNS_REFRESH_TOKEN)")
        s = self.settings
        answer = await self._post(
            s.zns_oauth_url,
            headers={"secret_key": s.zns_app_secret},
            data={"app_id": s.zns_app_id, "grant_type": "refresh_token", "refresh_token": refresh},
        )
        if not answer.get("access_token") or not answer.get("refresh_token"):
            raise ZnsRefused(redact(f"token refresh refused: {str(answer.get('error_name') or '')[:100]}"))
        expires_at = time.time() + float(answer.get("expires_in") or 3600)
        await self.tokens.save(str(answer["access_token"]), str(answer["refresh_token"]), expires_at)
        return str(answer["access_token"])

    async def _post(self, url: str, **kwargs: Any) -> dict[str, Any]:
        try:
            async with self.session.post(url, **kwargs) as resp:
                raw = await resp.content.read(MAX_ANSWER_BYTES + 1)
                if resp.status >= 500 or resp.status == 429 or len(raw) > MAX_ANSWER_BYTES:
                    raise ZnsDeferred(f"Zalo answered HTTP {resp.status}")
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise ZnsDeferred(f"Zalo unreachable: {type(exc).__name__}") from None
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError):
            raise ZnsDeferred("Zalo's answer is not JSON") from None
        if not isinstance(body, dict):
            raise ZnsDeferred("Zalo's answer is not a JSON object")
        return body
