"""Reverse proxy from the public `/api/v1/...` surface to the internal services.

- One pooled aiohttp client for every service; bodies stream both ways (imports
  and exports are never held whole), with the route's size limit enforced while
  streaming.
- The caller's identity is signed for the service, with the request id.
- Per-route timeouts: a slow service answers 504 problem+json, a down one 503.
- A circuit breaker per service: after repeated failures the gateway answers 503
  at once for a while instead of piling requests on a sick service.
- Retries (once, on connection failures) only for idempotent requests whose body
  can be sent again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping

import aiohttp
from aiohttp import web
from prometheus_client import Counter
from yarl import URL

from services.gateway.breaker import CircuitBreaker
from shared import identity
from shared.http import REQUEST_ID, problem, request_id
from shared.logging import get_logger
from shared.settings import Settings

log = get_logger(__name__)

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)
DROP_FROM_CALLER = HOP_BY_HOP | {
    identity.HEADER.lower(),
    "authorization",
    "x-api-key",
    "cookie",
    "origin",
    "x-forwarded-for",
    "forwarded",
}
DROP_FROM_SERVICE = HOP_BY_HOP | {"server", "date", "access-control-allow-origin", "access-control-allow-credentials"}
SMALL_BODY = 256 * 1024  # answers up to this size are read whole; larger ones stream
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
UPSTREAM_ERRORS = Counter(
    "lienhiep_gateway_upstream_errors", "Failed calls from the gateway to a service", ["service", "kind"]
)


class BodyTooLarge(Exception):
    pass


class Limited:
    """The request body in chunks, stopping once it passes `limit` bytes (the client
    library reports the stop as a connection error; `exceeded` tells it apart)."""

    def __init__(self, stream: aiohttp.StreamReader, limit: int) -> None:
        self.stream, self.limit, self.exceeded = stream, limit, False

    async def chunks(self) -> AsyncIterator[bytes]:
        seen = 0
        async for chunk in self.stream.iter_chunked(64 * 1024):
            seen += len(chunk)
            if seen > self.limit:
                self.exceeded = True
                raise BodyTooLarge
            yield chunk


class Upstreams:
    """One pooled HTTP client and one circuit breaker per internal service."""

    def __init__(self, settings: Settings, services: list[str]) -> None:
        self.settings = settings
        self.base = {name: settings.upstream(name) for name in services}
        self.breakers = {
            name: CircuitBreaker(settings.gateway_breaker_failures, settings.gateway_breaker_reset_seconds)
            for name in services
        }
        self.session: aiohttp.ClientSession | None = None
        self._signed: dict[identity.Identity, tuple[str, float]] = {}
        self._timeouts: dict[float, aiohttp.ClientTimeout] = {}

    async def __aenter__(self) -> Upstreams:
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=256, keepalive_timeout=30, ttl_dns_cache=300),
            auto_decompress=False,
            skip_auto_headers=("User-Agent",),
            # One client serves every caller: it must never keep a cookie from one answer for the next caller.
            cookie_jar=aiohttp.DummyCookieJar(),
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
            except (TimeoutError, aiohttp.ClientError):
                down.append(name)
        return (not down), ("ok" if not down else "not ready: " + ", ".join(down))

    def sign(self, who: identity.Identity) -> str:
        """The signed identity header, reused while it has most of its life left."""
        now = time.time()
        cached = self._signed.get(who)
        if cached is not None and cached[1] - now > identity.TTL_SECONDS / 2:
            return cached[0]
        token = identity.sign(who, self.settings.internal_identity_secret)
        if len(self._signed) > 10_000:
            self._signed.clear()
        self._signed[who] = (token, now + identity.TTL_SECONDS)
        return token

    async def forward(
        self,
        request: web.Request,
        service: str,
        path: str,
        who: identity.Identity,
        *,
        timeout: float,
        body: bytes | None,
        stream_limit: int | None,
        extra_headers: Mapping[str, str],
    ) -> web.StreamResponse:
        """Send the request on to `service` and stream its answer back. `path`: the
        service's path with the caller's query string, exactly as encoded.

        `body`: the already-read body (JSON), or None to stream the caller's body
        (up to `stream_limit` bytes) or to send none.
        """
        assert self.session is not None
        breaker = self.breakers[service]
        if not breaker.allow():
            UPSTREAM_ERRORS.labels(service, "circuit-open").inc()
            return problem(
                503,
                "upstream-unavailable",
                "Service unavailable",
                f"The {service} service is failing; try again shortly",
                headers={"Retry-After": str(max(1, round(breaker.retry_after()))), **extra_headers},
            )
        headers = {k: v for k, v in request.headers.items() if k.lower() not in DROP_FROM_CALLER}
        headers[REQUEST_ID] = request_id(request)
        headers[identity.HEADER] = self.sign(who)
        url = URL(f"{self.base[service]}{path}", encoded=True)
        data: object = body
        limited: Limited | None = None
        if body is None and request.body_exists and stream_limit is not None:
            limited = Limited(request.content, stream_limit)
            data = limited.chunks()
        replayable = limited is None
        attempts = 2 if request.method in IDEMPOTENT and replayable else 1
        client_timeout = self._timeouts.get(timeout)
        if client_timeout is None:
            client_timeout = self._timeouts[timeout] = aiohttp.ClientTimeout(total=timeout, connect=min(3.0, timeout))
        for attempt in range(1, attempts + 1):
            started: list[web.StreamResponse] = []
            try:
                return await self._exchange(
                    request, service, url, headers, data, client_timeout, extra_headers, started
                )
            except (TimeoutError, aiohttp.ClientError, BodyTooLarge) as exc:
                if limited is not None and limited.exceeded:
                    return problem(
                        413,
                        "payload-too-large",
                        "Request body too large",
                        f"The body may be at most {stream_limit} bytes",
                        max_bytes=stream_limit,
                        headers=extra_headers,
                    )
                if started:
                    # The answer had begun: all that is left is to cut the connection.
                    UPSTREAM_ERRORS.labels(service, "broken-stream").inc()
                    log.warning("gateway.upstream_stream_broken", service=service, error=type(exc).__name__)
                    if request.transport is not None:
                        request.transport.close()
                    return started[0]
                if isinstance(exc, asyncio.TimeoutError):
                    breaker.failure()
                    UPSTREAM_ERRORS.labels(service, "timeout").inc()
                    log.warning("gateway.upstream_timeout", service=service)
                    return problem(
                        504,
                        "upstream-timeout",
                        "Service timed out",
                        f"The {service} service did not answer within {timeout:g} s",
                        headers=extra_headers,
                    )
                if (
                    isinstance(exc, (aiohttp.ClientConnectorError, aiohttp.ServerDisconnectedError))
                    and attempt < attempts
                ):
                    await asyncio.sleep(0.05)
                    continue
                breaker.failure()
                UPSTREAM_ERRORS.labels(service, "unreachable").inc()
                log.warning("gateway.upstream_unavailable", service=service, error=type(exc).__name__)
            break
        return problem(
            503,
            "upstream-unavailable",
            "Service unavailable",
            f"The {service} service is not reachable; try again shortly",
            headers={"Retry-After": "5", **extra_headers},
        )

    async def _exchange(
        self,
        request: web.Request,
        service: str,
        url: URL,
        headers: dict[str, str],
        data: object,
        timeout: aiohttp.ClientTimeout,
        extra_headers: Mapping[str, str],
        started: list[web.StreamResponse],
    ) -> web.StreamResponse:
        assert self.session is not None
        breaker = self.breakers[service]
        async with self.session.request(request.method, url, headers=headers, data=data, timeout=timeout) as upstream:
            if upstream.status >= 500:
                breaker.failure()
                UPSTREAM_ERRORS.labels(service, f"status-{upstream.status}").inc()
            else:
                breaker.success()
            headers = {name: value for name, value in upstream.headers.items() if name.lower() not in DROP_FROM_SERVICE}
            headers.update(extra_headers)
            length = upstream.content_length
            if length is not None and length <= SMALL_BODY:
                # A small answer: one read, one write (most API answers).
                return web.Response(
                    status=upstream.status, reason=upstream.reason, headers=headers, body=await upstream.read()
                )
            response = web.StreamResponse(status=upstream.status, reason=upstream.reason, headers=headers)
            if length is not None:
                response.content_length = length
            await response.prepare(request)
            started.append(response)
            async for chunk in upstream.content.iter_any():
                await response.write(chunk)
            await response.write_eof()
            return response
