"""A fake Zalo Official Account API for ZNS: a real HTTP server (aiohttp) on a free
port playing the shapes and error codes of the real one.

- `POST /v4/oa/access_token` (oauth.zaloapp.com): `secret_key` header, form fields
  `app_id`, `grant_type=refresh_token`, `refresh_token`; answers a new access token,
  a new (rotated, single-use) refresh token and `expires_in` in seconds, as text.
- `POST /message/template` (business.openapi.zalo.me): `access_token` header, JSON
  `{phone: "84…", template_id, template_data, tracking_id}`; answers
  `{"error": 0, "message": "Success", "data": {"msg_id", "sent_time", "quota"}}` or a
  negative error: -124 access token invalid/expired, -118 no Zalo account for the
  number, -144 the OA's daily quota is used up, -109/-117 template not usable, -108
  the phone is not in 84… form.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from deploy.local.embedded_store import free_port

TOKEN_INVALID, NOT_ON_ZALO, OUT_OF_QUOTA = -124, -118, -144
TEMPLATE_INVALID, TEMPLATE_NOT_ALLOWED, BAD_PHONE = -109, -117, -108
MESSAGES = {
    TOKEN_INVALID: "Access token is invalid",
    NOT_ON_ZALO: "Zalo account does not exist or is disabled",
    OUT_OF_QUOTA: "OA has exceeded the daily quota for ZNS",
    TEMPLATE_INVALID: "Template ID is invalid",
    TEMPLATE_NOT_ALLOWED: "OA or application has not been granted permission to use this template",
    BAD_PHONE: "Phone number is invalid",
}


@dataclass
class FakeZns:
    app_id: str = "1234567890"
    app_secret: str = "zns-app-secret"
    refresh_token: str = "refresh-0"  # the one valid refresh token (single use)
    access_token: str = ""
    expires_in: int = 90_000
    expires_at: float = 0.0
    approved_templates: set[str] = field(default_factory=lambda: {"301001", "301002"})
    not_on_zalo: set[str] = field(default_factory=set)  # phones in 84… form
    quota_left: int = 1_000
    received: list[dict[str, Any]] = field(default_factory=list)  # messages taken
    answers: list[dict[str, Any]] = field(default_factory=list)  # every send answer, in order
    refreshes: int = 0
    port: int = field(default_factory=free_port)
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def expire_token(self) -> None:
        self.expires_at = 0.0

    def to(self, phone: str) -> list[dict[str, Any]]:
        return [m for m in self.received if m["phone"] == phone]

    async def start(self) -> FakeZns:
        app = web.Application()
        app.router.add_post("/v4/oa/access_token", self._token)
        app.router.add_post("/message/template", self._send)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if request.headers.get("secret_key") != self.app_secret or form.get("app_id") != self.app_id:
            return web.json_response({"error": -14002, "error_name": "Invalid app", "error_description": "app"})
        if form.get("grant_type") != "refresh_token" or form.get("refresh_token") != self.refresh_token:
            return web.json_response({"error": -14014, "error_name": "Invalid refresh token", "error_description": ""})
        self.refreshes += 1
        self.access_token = f"access-{self.refreshes}-{uuid.uuid4().hex[:8]}"
        self.refresh_token = f"refresh-{self.refreshes}"
        self.expires_at = time.time() + self.expires_in
        return web.json_response(
            {"access_token": self.access_token, "refresh_token": self.refresh_token, "expires_in": str(self.expires_in)}
        )

    async def _send(self, request: web.Request) -> web.Response:
        body = await request.json()
        error = self._refusal(request.headers.get("access_token"), body)
        if error:
            answer: dict[str, Any] = {"error": error, "message": MESSAGES[error]}
        else:
            self.quota_left -= 1
            self.received.append(body)
            answer = {
                "error": 0,
                "message": "Success",
                "data": {
                    "msg_id": uuid.uuid4().hex,
                    "sent_time": str(int(time.time() * 1000)),
                    "quota": {"dailyQuota": "1000", "remainingQuota": str(self.quota_left)},
                },
            }
        self.answers.append({"tracking_id": body.get("tracking_id"), **answer})
        return web.json_response(answer)

    def _refusal(self, token: str | None, body: dict[str, Any]) -> int:
        checks = (
            (not token or token != self.access_token or time.time() >= self.expires_at, TOKEN_INVALID),
            (not str(body.get("phone", "")).startswith("84"), BAD_PHONE),
            (body.get("template_id") not in self.approved_templates, TEMPLATE_NOT_ALLOWED),
            (body.get("phone") in self.not_on_zalo, NOT_ON_ZALO),
            (self.quota_left <= 0, OUT_OF_QUOTA),
        )
        return next((code for failed, code in checks if failed), 0)
