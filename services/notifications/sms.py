"""The SMS channel: one interface, two providers.

- `HttpJsonProvider`: a generic JSON API at SMS_PROVIDER_URL. It POSTs
  `{"to", "text", "sender", "request_id"}` with a bearer token; 2xx is accepted,
  429 and 5xx are retried later, any other 4xx is permanent.
- `EsmsProvider`: the shape of eSMS.vn's brandname API (ApiKey, SecretKey,
  Brandname, SmsType, IsUnicode, RequestId). It answers HTTP 200 with a
  `CodeResult`: "100" accepted; "99" (unknown error) retried; anything else
  (wrong keys, no balance, unregistered brandname, bad number) is permanent.

The provider's request id is our delivery key, so a provider that deduplicates by
request id never sends one delivery twice, even when we retry after a timeout.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Protocol

import aiohttp

from services.notifications.links import redact
from shared.settings import Settings

MAX_ANSWER_BYTES = 64 * 1024
# A provider's message id as we keep and show it: printable, no control characters.
PROVIDER_ID = re.compile(r"[\x21-\x7e]{1,128}")


def _json_object(raw: bytes) -> dict | None:
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return body if isinstance(body, dict) else None


def provider_id(value: object, fallback: str) -> str:
    """The provider's id for a message when it is a plain printable token; otherwise
    (missing, a control character, too long) our own request id stands for it."""
    text = str(value) if isinstance(value, (str, int)) else ""
    return text if PROVIDER_ID.fullmatch(text) else fallback


class SmsDeferred(Exception):
    """The provider could not take the message now; try again later."""


class SmsRejected(Exception):
    """The provider refused the message for good."""


class SmsNotConfigured(SmsDeferred):
    """No provider is configured: the message waits until one is."""


@dataclass(frozen=True)
class SmsAccepted:
    provider_id: str | None


class SmsProvider(Protocol):
    name: str

    async def send(self, *, to: str, text: str, request_id: str, unicode: bool) -> SmsAccepted: ...

    async def close(self) -> None: ...


class _HttpProvider:
    name = "http"

    def __init__(self, timeout_seconds: float = 10.0) -> None:
        self._session: aiohttp.ClientSession | None = None
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds, connect=3)

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=self._timeout, connector=aiohttp.TCPConnector(limit=64, keepalive_timeout=30)
            )
        return self._session

    async def _post(self, url: str, payload: dict, headers: dict[str, str]) -> tuple[int, dict | None]:
        """POST and read at most MAX_ANSWER_BYTES of the answer (a larger one is not a
        provider's answer: the message is tried again later)."""
        try:
            async with self.session.post(url, json=payload, headers=headers) as resp:
                raw = await resp.content.read(MAX_ANSWER_BYTES + 1)
                if len(raw) > MAX_ANSWER_BYTES:
                    raise SmsDeferred(f"provider answered HTTP {resp.status} with more than {MAX_ANSWER_BYTES} bytes")
                return resp.status, _json_object(raw)
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise SmsDeferred(f"provider unreachable: {type(exc).__name__}") from None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


class HttpJsonProvider(_HttpProvider):
    name = "http"

    def __init__(self, url: str, token: str, sender: str) -> None:
        super().__init__()
        self.url, self.token, self.sender = url, token, sender

    async def send(self, *, to: str, text: str, request_id: str, unicode: bool) -> SmsAccepted:
        if not self.url:
            raise SmsNotConfigured("no SMS provider configured (SMS_PROVIDER_URL)")
        # The delivery key as the idempotency key: a provider that honours it sends a retry once.
        headers = {"Idempotency-Key": request_id}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        status, body = await self._post(
            self.url, {"to": to, "text": text, "sender": self.sender, "request_id": request_id}, headers
        )
        return _generic_answer(status, body or {}, request_id)


class EsmsProvider(_HttpProvider):
    name = "esms"
    RETRYABLE = frozenset({"99"})

    def __init__(
        self, url: str, api_key: str, secret_key: str, brandname: str, sms_type: str, callback_url: str | None = None
    ) -> None:
        super().__init__()
        self.url, self.api_key, self.secret_key = url, api_key, secret_key
        self.brandname, self.sms_type, self.callback_url = brandname, sms_type, callback_url

    async def send(self, *, to: str, text: str, request_id: str, unicode: bool) -> SmsAccepted:
        if not (self.api_key and self.secret_key):
            raise SmsNotConfigured("eSMS keys are not configured (ESMS_API_KEY, ESMS_SECRET_KEY)")
        payload = {
            "ApiKey": self.api_key,
            "SecretKey": self.secret_key,
            "Brandname": self.brandname,
            "SmsType": self.sms_type,
            "Phone": to.removeprefix("+"),
            "Content": text,
            "IsUnicode": "1" if unicode else "0",
            "RequestId": request_id,
        }
        if self.callback_url:
            payload["CallbackUrl"] = self.callback_url
        status, body = await self._post(self.url, payload, {})
        return _esms_answer(status, body, request_id)


def _generic_answer(status: int, body: dict, request_id: str) -> SmsAccepted:
    """2xx accepted; 429 and 5xx retried later; any other answer a refusal."""
    if 200 <= status < 300:
        return SmsAccepted(provider_id(body.get("id") or body.get("message_id"), request_id))
    detail = redact(str(body.get("error") or body.get("detail") or ""))[:200]
    if status == 429 or status >= 500:
        raise SmsDeferred(f"provider answered {status} {detail}".strip())
    raise SmsRejected(f"provider refused ({status}) {detail}".strip())


def _esms_answer(status: int, body: dict | None, request_id: str) -> SmsAccepted:
    """eSMS answers HTTP 200 with a CodeResult: "100" accepted, "99" retried, others refused."""
    if status == 429 or status >= 500:
        raise SmsDeferred(f"eSMS answered HTTP {status}")
    if not 200 <= status < 300 or body is None:
        raise SmsRejected(f"eSMS refused the request (HTTP {status})")
    code = str(body.get("CodeResult", ""))
    if code == "100":
        return SmsAccepted(provider_id(body.get("SMSID"), request_id))
    message = redact(str(body.get("ErrorMessage") or ""))[:200]
    if code in EsmsProvider.RETRYABLE:
        raise SmsDeferred(f"eSMS CodeResult {code} {message}".strip())
    raise SmsRejected(f"eSMS CodeResult {code} {message}".strip())


def make_provider(settings: Settings, callback_url: str | None = None) -> SmsProvider:
    if settings.sms_provider == "esms":
        return EsmsProvider(
            settings.esms_url,
            settings.esms_api_key,
            settings.esms_secret_key,
            settings.sms_sender,
            settings.esms_sms_type,
            callback_url,
        )
    return HttpJsonProvider(settings.sms_provider_url, settings.sms_provider_token, settings.sms_sender)
