"""A fake SMS provider: a real HTTP server (aiohttp) on a free port, speaking either
the generic JSON shape or eSMS.vn's brandname shape. It keeps every request it
receives and can be told how to answer a number (429, 500, 400, an eSMS code)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from deploy.local.embedded_store import free_port


@dataclass
class FakeSmsProvider:
    shape: str = "http"  # "http" or "esms"
    token: str = "sms-test-token"
    received: list[dict[str, Any]] = field(default_factory=list)
    # number → answers to give, one per request, before answering normally
    scripted: dict[str, list[Any]] = field(default_factory=lambda: defaultdict(list))
    port: int = field(default_factory=free_port)
    _runner: web.AppRunner | None = None
    _release: asyncio.Event = field(default_factory=asyncio.Event)  # ends "hang" answers
    hanging: int = 0  # requests being held without an answer right now

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/send"

    def accepted(self) -> list[dict[str, Any]]:
        return [r for r in self.received if r["_answer"] in (200, "100")]

    def to(self, number: str) -> list[dict[str, Any]]:
        return [r for r in self.accepted() if self.number(r) == number]

    def number(self, request: dict[str, Any]) -> str:
        return request["to"] if self.shape == "http" else "+" + request["Phone"]

    def text(self, request: dict[str, Any]) -> str:
        return request["text"] if self.shape == "http" else request["Content"]

    async def start(self) -> FakeSmsProvider:
        app = web.Application()
        app.router.add_post("/send", self._send)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def stop(self) -> None:
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _send(self, request: web.Request) -> web.Response:
        body = await request.json()
        if self.shape == "http":
            if request.headers.get("Authorization") != f"Bearer {self.token}":
                body["_answer"] = 401
                self.received.append(body)
                return web.json_response({"error": "bad token"}, status=401)
            script = self.scripted.get(body["to"])
            answer = script.pop(0) if script else 200
            body["idempotency_key"] = request.headers.get("Idempotency-Key")
            if answer == "hang":  # takes the message, never answers (until stopped)
                self.hanging += 1
                await self._release.wait()
                return web.json_response({"error": "gone"}, status=503)
            body["_answer"] = answer
            self.received.append(body)
            if answer == 200:
                return web.json_response({"id": f"fake-{len(self.received)}"}, status=200)
            if isinstance(answer, dict):  # a scripted 200 answer body: {"body": ..., "raw": ...}
                body["_answer"] = 200
                if "raw" in answer:
                    return web.Response(body=answer["raw"], status=200, content_type="application/json")
                return web.json_response(answer["body"], status=200)
            return web.json_response({"error": f"scripted {answer}"}, status=answer)
        script = self.scripted.get("+" + body["Phone"])
        answer = script.pop(0) if script else "100"
        body["_answer"] = answer
        self.received.append(body)
        if isinstance(answer, int):
            return web.Response(status=answer, text="busy")
        result = {"CodeResult": answer, "CountRegenerate": 0}
        if answer == "100":
            result["SMSID"] = f"esms-{len(self.received)}"
        else:
            result["ErrorMessage"] = f"scripted {answer}"
        return web.json_response(result)
