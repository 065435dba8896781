"""Reverse proxy from the public `/api/v1/...` surface to the internal services.

- One pooled aiohttp client for every replica of every service (upstreams.py chooses
  the replica); bodies stream both ways (imports and exports are never held whole),
  with the route's size limit enforced while streaming, and an upload that stalls
  longer than `GATEWAY_BODY_TIMEOUT_SECONDS` cut off (408).
- The caller's identity is signed for the service, with the request id; the caller's
  Accept-Language travels on, so the service answers in the caller's language.
- Per-route timeouts: a slow service answers 504 problem+json, a down one 503.
- Only what says a replica is unhealthy counts against its circuit: no connection,
  a timeout, a 502 or 503 (breaker.py); a 4xx or a 500 never does.
- A request that never reached a replica (no connection) is tried once more on
  another one if its body can be sent again; one whose connection broke before any
  answer is tried again only if it is idempotent.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web
from prometheus_client import Counter
from yarl import URL

from services.gateway.breaker import unhealthy_status
from services.gateway.catalogue import MESSAGES
from services.gateway.upstreams import Pool, Replica, Upstreams
from shared import identity
from shared.errors import MESSAGES as SHARED
from shared.errors import DomainError, Problem, TooLarge, Unavailable
from shared.http import REQUEST_ID, request_id
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


class UpstreamUnavailable(Unavailable):
    code = "upstream-unavailable"


class BodyCut(Exception):
    """The caller's streamed body went over its limit, or stalled."""


def too_large(limit: int) -> TooLarge:
    return TooLarge(SHARED("problem.too_large.detail", limit=limit), max_bytes=limit)


def too_slow(seconds: float) -> DomainError:
    return Problem(
        408,
        "request-timeout",
        MESSAGES("gateway.request_timeout"),
        MESSAGES("gateway.body_too_slow", seconds=f"{seconds:g}"),
        headers={"Connection": "close"},
    )


class Limited:
    """The request body in chunks, stopping once it passes `limit` bytes or a chunk
    takes longer than `idle` seconds (the client library reports the stop as a
    connection error; `cut` tells which it was)."""

    def __init__(self, stream: aiohttp.StreamReader, limit: int, idle: float) -> None:
        self.stream, self.limit, self.idle = stream, limit, idle
        self.cut: DomainError | None = None

    async def chunks(self) -> AsyncIterator[bytes]:
        seen = 0
        while True:
            try:
                async with asyncio.timeout(self.idle):
                    chunk = await self.stream.readany()
            except TimeoutError:
                self.cut = too_slow(self.idle)
                raise BodyCut from None
            if not chunk:
                return
            seen += len(chunk)
            if seen > self.limit:
                self.cut = too_large(self.limit)
                raise BodyCut
            yield chunk


class Proxy:
    def __init__(self, settings: Settings, upstreams: Upstreams) -> None:
        self.settings = settings
        self.upstreams = upstreams
        self.session: aiohttp.ClientSession | None = None
        self._signed: dict[identity.Identity, tuple[str, float]] = {}
        self._timeouts: dict[float, aiohttp.ClientTimeout] = {}

    async def __aenter__(self) -> Proxy:
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=256, keepalive_timeout=30, ttl_dns_cache=300),
            auto_decompress=False,
            skip_auto_headers=("User-Agent",),
            # One client serves every caller: it must never keep a cookie from one answer for the next caller.
            cookie_jar=aiohttp.DummyCookieJar(),
        )
        self.upstreams.start(self.session)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.upstreams.stop()
        if self.session is not None:
            await self.session.close()

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
    ) -> web.StreamResponse:
        """Send the request on to a replica of `service` and stream its answer back.
        `path`: the service's path with the caller's query string, exactly as encoded.
        `body`: the already-read body (JSON), or None to stream the caller's body (up
        to `stream_limit` bytes) or to send none."""
        pool = self.upstreams.pools[service]
        headers = self._headers(request, who)
        limited = None
        if body is None and request.body_exists and stream_limit is not None:
            limited = Limited(request.content, stream_limit, self.settings.gateway_body_timeout_seconds)
        data: object = body if limited is None else limited.chunks()
        replica: Replica | None = None
        for attempt in range(1 if limited is not None else 2):
            replica = pool.choose(avoid=replica)
            if replica is None:
                raise _failing(pool) if attempt == 0 else _unreachable(service)
            started: list[web.StreamResponse] = []
            try:
                return await self._exchange(request, replica, path, headers, data, timeout, started)
            except (TimeoutError, aiohttp.ClientError, BodyCut) as exc:
                if started:
                    return self._broken(request, replica, exc, started[0])
                self._give_up_unless_retryable(replica, exc, limited, timeout)
                if not _may_retry(exc, request.method):
                    break
                await asyncio.sleep(0.05)
        raise _unreachable(service)

    def _headers(self, request: web.Request, who: identity.Identity) -> dict[str, str]:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in DROP_FROM_CALLER}
        headers[REQUEST_ID] = request_id(request)
        headers[identity.HEADER] = self.sign(who)
        return headers

    def _give_up_unless_retryable(
        self, replica: Replica, exc: BaseException, limited: Limited | None, timeout: float
    ) -> None:
        """Raise the caller's problem for a failure no retry can help; count what says
        the replica is unhealthy."""
        if limited is not None and limited.cut is not None:
            raise limited.cut from None
        if isinstance(exc, TimeoutError):
            raise self._timed_out(replica, timeout) from None
        if not isinstance(exc, BodyCut):
            self._unhealthy(replica, "unreachable", exc)

    async def _exchange(
        self,
        request: web.Request,
        replica: Replica,
        path: str,
        headers: dict[str, str],
        data: object,
        timeout: float,
        started: list[web.StreamResponse],
    ) -> web.StreamResponse:
        assert self.session is not None
        url = URL(f"{replica.base}{path}", encoded=True)
        async with self.session.request(
            request.method, url, headers=headers, data=data, timeout=self._timeout(timeout)
        ) as upstream:
            if unhealthy_status(upstream.status):
                replica.breaker.failure()
                UPSTREAM_ERRORS.labels(replica.service, f"status-{upstream.status}").inc()
            else:
                replica.breaker.success()  # it answered: a 4xx or one route's 500 says nothing of its health
            answer_headers = {k: v for k, v in upstream.headers.items() if k.lower() not in DROP_FROM_SERVICE}
            length = upstream.content_length
            if length is not None and length <= SMALL_BODY:
                # A small answer: one read, one write (most API answers).
                return web.Response(
                    status=upstream.status, reason=upstream.reason, headers=answer_headers, body=await upstream.read()
                )
            response = web.StreamResponse(status=upstream.status, reason=upstream.reason, headers=answer_headers)
            if length is not None:
                response.content_length = length
            await response.prepare(request)
            started.append(response)
            async for chunk in upstream.content.iter_any():
                await response.write(chunk)
            await response.write_eof()
            return response

    def _timeout(self, seconds: float) -> aiohttp.ClientTimeout:
        found = self._timeouts.get(seconds)
        if found is None:
            found = self._timeouts[seconds] = aiohttp.ClientTimeout(total=seconds, connect=min(3.0, seconds))
        return found

    def _broken(
        self, request: web.Request, replica: Replica, exc: BaseException, response: web.StreamResponse
    ) -> web.StreamResponse:
        # The answer had begun: all that is left is to cut the connection.
        UPSTREAM_ERRORS.labels(replica.service, "broken-stream").inc()
        log.warning("gateway.upstream_stream_broken", service=replica.service, error=type(exc).__name__)
        if request.transport is not None:
            request.transport.close()
        return response

    def _timed_out(self, replica: Replica, timeout: float) -> DomainError:
        self._unhealthy(replica, "timeout", None)
        return Problem(
            504,
            "upstream-timeout",
            MESSAGES("gateway.upstream_timeout"),
            MESSAGES("gateway.upstream_timeout.detail", service=replica.service, seconds=f"{timeout:g}"),
        )

    def _unhealthy(self, replica: Replica, kind: str, exc: BaseException | None) -> None:
        replica.breaker.failure()
        UPSTREAM_ERRORS.labels(replica.service, kind).inc()
        log.warning(
            f"gateway.upstream_{kind}",
            service=replica.service,
            replica=replica.base,
            error=type(exc).__name__ if exc else None,
        )


def _may_retry(exc: BaseException, method: str) -> bool:
    """Never sent (no connection): any method; broken before an answer: idempotent ones."""
    if isinstance(exc, aiohttp.ClientConnectorError):
        return True
    return isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientOSError) and method in IDEMPOTENT


def _failing(pool: Pool) -> DomainError:
    UPSTREAM_ERRORS.labels(pool.service, "circuit-open").inc()
    return UpstreamUnavailable(
        MESSAGES("gateway.upstream_failing", service=pool.service),
        headers={"Retry-After": str(max(1, round(pool.retry_after())))},
    )


def _unreachable(service: str) -> DomainError:
    return UpstreamUnavailable(MESSAGES("gateway.upstream_unreachable", service=service), headers={"Retry-After": "5"})
