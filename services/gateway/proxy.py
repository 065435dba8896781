"""Reverse proxy from the public `/api/v1/...` surface to the internal services.

Bodies stream both ways (large imports and exports are never held whole). The
caller's identity is signed for the service; a down or slow service answers 503/504
problem+json, never a hang.
"""

from __future__ import annotations

import asyncio

import aiohttp
from aiohttp import web

from shared import identity
from shared.http import REQUEST_ID, problem, request_id
from shared.logging import get_logger
from shared.settings import Settings

log = get_logger(__name__)

# First path segment under /api/v1 → the service that owns it.
ROUTES = {
    "members": "membership",
    "organizations": "membership",
    "events": "events",
    "notifications": "notifications",
}
HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
    "transfer-encoding", "upgrade", "host", "content-length",
})
DROP_FROM_CALLER = HOP_BY_HOP | {identity.HEADER.lower(), "authorization", "x-api-key", "cookie"}


class Upstreams:
    """One pooled HTTP client for every internal service."""

    def __init__(self, settings: Settings, timeout_seconds: float = 30.0) -> None:
        self.settings = settings
        self.base = {name: settings.upstream(name) for name in set(ROUTES.values())}
        self.timeout = aiohttp.ClientTimeout(total=timeout_seconds, connect=3)
        self.session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> "Upstreams":
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=200, keepalive_timeout=30), auto_decompress=False
        )
        return self

    async def __aexit__(self, *exc_info) -> None:
        if self.session is not None:
            await self.session.close()

    async def ready(self) -> tuple[bool, str]:
        assert self.session is not None
        down = []
        for name, base in sorted(self.base.items()):
            try:
                async with self.session.get(f"{base}/readyz", timeout=aiohttp.ClientTimeout(total=2)) as resp:
                    if resp.status != 200:
                        down.append(name)
            except (aiohttp.ClientError, asyncio.TimeoutError):
                down.append(name)
        return (not down), ("ok" if not down else "not ready: " + ", ".join(down))

    async def forward(self, request: web.Request, service: str, path: str, who: identity.Identity) -> web.StreamResponse:
        assert self.session is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in DROP_FROM_CALLER}
        headers[REQUEST_ID] = request_id(request)
        headers[identity.HEADER] = identity.sign(who, self.settings.internal_identity_secret)
        url = f"{self.base[service]}{path}"
        try:
            async with self.session.request(
                request.method, url, params=request.query, headers=headers,
                data=request.content if request.body_exists else None, timeout=self.timeout,
            ) as upstream:
                response = web.StreamResponse(status=upstream.status, reason=upstream.reason)
                for name, value in upstream.headers.items():
                    if name.lower() not in HOP_BY_HOP:
                        response.headers[name] = value
                response.headers[REQUEST_ID] = request_id(request)
                await response.prepare(request)
                async for chunk in upstream.content.iter_chunked(64 * 1024):
                    await response.write(chunk)
                await response.write_eof()
                return response
        except asyncio.TimeoutError:
            log.warning("gateway.upstream_timeout", service=service)
            return problem(504, "upstream-timeout", "Service timed out",
                           f"The {service} service did not answer in time")
        except aiohttp.ClientError as exc:
            log.warning("gateway.upstream_unavailable", service=service, error=type(exc).__name__)
            return problem(503, "upstream-unavailable", "Service unavailable",
                           f"The {service} service is not reachable; try again shortly",
                           headers={"Retry-After": "5"})
