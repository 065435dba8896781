"""The front door: every request under /api/v1 passes here, in this order.

1. the client address's rate limit (429), so even floods of unknown paths count;
2. match the declared endpoint (404/405 for anything else);
3. who is calling (anonymous, partner key, staff token; 401 for a bad credential);
4. the credential's rate limit, and the stricter login limit per address (429);
5. function-level authorisation with the endpoint's declaration (401/403);
6. typed input (inputs.py): operator-shaped query keys and JSON keys refused, query
   and JSON body validated against the declared models (422), body size limits (413,
   415), a body that does not arrive in time (408);
7. the gateway's own handler, or a replica of the owning service through the proxy.

Every refusal is a shared error, answered as problem+json in the caller's language
by the error middleware. Rate limits hold across gateway replicas (rate_limiting.py).
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from pymongo.errors import PyMongoError

from services.gateway import inputs
from services.gateway.catalogue import MESSAGES
from services.gateway.identifying import ANONYMOUS, Callers
from services.gateway.proxy import Proxy, too_large, too_slow
from services.gateway.rate_limiting import SharedBuckets
from services.gateway.ratelimit import Decision
from services.gateway.routing import Match, RouteTable
from services.gateway.traffic import TrafficCounter
from shared.api import Endpoint, allowed
from shared.errors import MESSAGES as SHARED
from shared.errors import DomainError, Forbidden, Problem, Unauthenticated, Unavailable, UnsupportedMedia
from shared.http import IDENTITY_KEY, ROUTE_KEY, parse_query
from shared.identity import Identity
from shared.logging import get_logger
from shared.settings import Settings

log = get_logger(__name__)

RATE_HEADERS = web.RequestKey("rate_limit_headers", dict)
JSON_TYPES = ("application/json", "application/merge-patch+json")
LOGIN_PATH = "/auth/login"


class StoreUnavailable(Unavailable):
    code = "store-unavailable"


@dataclass
class Limits:
    """The three limits every request meets, each shared by the gateway replicas."""

    by_address: SharedBuckets
    by_credential: SharedBuckets
    logins: SharedBuckets


class Front:
    def __init__(
        self,
        settings: Settings,
        table: RouteTable,
        callers: Callers,
        proxy: Proxy,
        traffic: TrafficCounter,
        limits: Limits,
    ) -> None:
        self.settings = settings
        self.table = table
        self.callers = callers
        self.proxy = proxy
        self.traffic = traffic
        self.limits = limits
        self.trusted = frozenset(p.strip() for p in settings.gateway_trusted_proxies.split(",") if p.strip())

    # --- the request ----------------------------------------------------------------

    async def handle(self, request: web.Request, match: Match | None = None) -> web.StreamResponse:
        try:
            return await self._handle(request, match)
        except PyMongoError as exc:
            # The gateway's own store (keys, logins) is unreachable: say so, briefly, and retry later.
            log.warning("gateway.store_unavailable", error=type(exc).__name__)
            raise StoreUnavailable(MESSAGES("gateway.store_unavailable"), headers={"Retry-After": "5"}) from None

    async def _handle(self, request: web.Request, match: Match | None) -> web.StreamResponse:
        request[ROUTE_KEY] = "unmatched"
        address = self.client_address(request)
        by_address = await self.limits.by_address.take(f"addr:{address}")  # before anything: 404 floods count too
        if not by_address.allowed:
            raise self._too_many(request, by_address, self.limits.by_address.window)
        match = match or self.table.match(request.method, request.path)
        request[ROUTE_KEY] = match.route.template
        ep = match.endpoint
        who, credential = await self._who(request, ep)
        login = ep.path == LOGIN_PATH and match.service == "gateway"
        decision, window = await self._rate(by_address, address, credential, login)
        request[RATE_HEADERS] = decision.headers(window)
        if not decision.allowed:
            raise self._too_many(request, decision, window)
        self.traffic.seen(self.traffic.client_id(address, credential), time.time())
        _authorise(ep, who)
        query = self._query(request, ep)
        body, limit = await self._body(request, ep)
        if match.service == "gateway":
            return await self._own(request, match, who, query, body[1])
        timeout = ep.timeout_seconds or (
            self.settings.gateway_import_timeout_seconds
            if ep.request_media or ep.response_media
            else self.settings.gateway_upstream_timeout_seconds
        )
        path = request.raw_path[len(self.table.prefix) :]
        return await self.proxy.forward(
            request, match.service, path, who, timeout=timeout, body=body[0], stream_limit=limit
        )

    async def _who(self, request: web.Request, ep: Endpoint) -> tuple[Identity, str | None]:
        try:
            return await self.callers.identify(request.headers.get("Authorization"), request.headers.get("X-API-Key"))
        except DomainError:
            if not ep.public:
                raise
            # A stale token sent to a public endpoint (logging in again, the documents) is no reason to refuse.
            return ANONYMOUS, None

    async def _own(
        self, request: web.Request, match: Match, who: Identity, query: Any, body: Any
    ) -> web.StreamResponse:
        ep = match.endpoint
        request[IDENTITY_KEY] = who
        request.match_info.update(match.params)  # the handler reads its path parameters as usual
        kwargs: dict[str, Any] = {}
        if ep.query is not None:
            kwargs["query"] = query
        if ep.body is not None:
            kwargs["body"] = body
        assert ep.handler is not None  # api.py binds every gateway endpoint
        return await ep.handler(request, **kwargs)

    def client_address(self, request: web.Request) -> str:
        remote = request.remote or "unknown"
        if remote in self.trusted:
            forwarded = request.headers.get("X-Forwarded-For", "")
            hops = [h.strip() for h in forwarded.split(",") if h.strip()]
            for hop in reversed(hops):
                if hop not in self.trusted:
                    try:
                        return str(ipaddress.ip_address(hop))
                    except ValueError:
                        break
        return remote

    def _too_many(self, request: web.Request, decision: Decision, window: float) -> DomainError:
        request[RATE_HEADERS] = headers = decision.headers(window)
        seconds = int(headers["Retry-After"])
        return Problem(
            429,
            "rate-limited",
            SHARED("problem.too_many"),
            MESSAGES("gateway.rate_limited", seconds=seconds),
            retry_after_seconds=seconds,
        )

    async def _rate(
        self, by_address: Decision, address: str, credential: str | None, login: bool
    ) -> tuple[Decision, float]:
        checks = [(by_address, self.limits.by_address.window)]
        if credential is not None:
            checks.append((await self.limits.by_credential.take(credential), self.limits.by_credential.window))
        if login:
            checks.append((await self.limits.logins.take(f"login:{address}"), self.limits.logins.window))
        refused = [c for c in checks if not c[0].allowed]
        if refused:
            return max(refused, key=lambda c: c[0].retry_after)
        return min(checks, key=lambda c: c[0].remaining / c[0].limit)

    # --- input ----------------------------------------------------------------------

    def _query(self, request: web.Request, ep: Endpoint) -> Any:
        inputs.check_query(request.query.keys(), declared=ep.query is not None)
        return parse_query(request, ep.query) if ep.query is not None else None

    async def _body(self, request: web.Request, ep: Endpoint) -> tuple[tuple[bytes | None, Any], int | None]:
        """((bytes to forward, validated model), streaming limit)."""
        limit = ep.max_body_bytes or (
            self.settings.gateway_import_body_bytes if ep.request_media else self.settings.gateway_body_bytes
        )
        if not request.body_exists:
            if ep.body is not None and not ep.request_media:
                raise UnsupportedMedia(MESSAGES("gateway.send_json_body"))
            return (None, None), None
        if request.content_length is not None and request.content_length > limit:
            raise too_large(limit)
        media = request.content_type
        if ep.request_media and media in ep.request_media:
            return (None, None), limit  # a file: streamed through, counted on the way
        if ep.body is None:
            if ep.request_media:
                raise UnsupportedMedia(MESSAGES("gateway.send_one_of", media=", ".join(ep.request_media)))
            return (b"", None), None  # the endpoint takes no body: none is forwarded
        if media not in JSON_TYPES:
            raise Problem(
                415, "unsupported-media-type", SHARED("problem.send_json"), SHARED("problem.send_json.detail")
            )
        raw = await self._read(request, limit)
        return (raw, inputs.parse_body(raw, ep.body)), None

    async def _read(self, request: web.Request, limit: int) -> bytes:
        """The whole body, at most `limit` bytes, within the body timeout (408 after it)."""
        seconds = self.settings.gateway_body_timeout_seconds
        raw = bytearray()
        try:
            async with asyncio.timeout(seconds):
                async for chunk in request.content.iter_chunked(64 * 1024):
                    raw.extend(chunk)
                    if len(raw) > limit:
                        raise too_large(limit)
        except TimeoutError:
            raise too_slow(seconds) from None
        return bytes(raw)


def _authorise(ep: Endpoint, who: Identity) -> None:
    """Function-level authorisation: 401 without credentials, 403 with the wrong ones."""
    if allowed(ep, who):
        return
    if who is ANONYMOUS:
        raise Unauthenticated(
            MESSAGES("gateway.send_credentials"), headers={"WWW-Authenticate": 'Bearer realm="lienhiep"'}
        )
    raise Forbidden(SHARED("problem.forbidden.detail"), required=("admin" if ep.admin_only else ep.scope))


# --- response decoration (before the first byte leaves) ------------------------------


def decorate(origins: frozenset[str]):
    """on_response_prepare: rate-limit headers, CORS for configured origins, safe defaults."""

    async def on_prepare(request: web.Request, response: web.StreamResponse) -> None:
        rate = request.get(RATE_HEADERS)
        if rate:
            for name, value in rate.items():
                response.headers.setdefault(name, value)
        origin = request.headers.get("Origin")
        if origin and origin in origins:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Expose-Headers"] = (
                "X-Request-ID, Location, Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, "
                "RateLimit-Policy"
            )
            response.headers.add("Vary", "Origin")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Cache-Control", "no-store")
        response.headers.pop("Server", None)

    return on_prepare


def preflight(origins: frozenset[str], table: RouteTable):
    """Answer CORS preflight requests: allowed origins only, declared endpoints only."""

    @web.middleware
    async def cors_preflight(request: web.Request, handler):
        wanted = request.headers.get("Access-Control-Request-Method")
        if request.method != "OPTIONS" or not wanted or "Origin" not in request.headers:
            return await handler(request)
        if request.headers["Origin"] not in origins:
            raise Problem(
                403, "cors-origin-refused", MESSAGES("gateway.cors_refused"), MESSAGES("gateway.cors_refused.detail")
            )
        table.match(wanted.upper(), request.path)  # 404/405 for what is not declared
        return web.Response(
            status=204,
            headers={
                "Access-Control-Allow-Origin": request.headers["Origin"],
                "Access-Control-Allow-Methods": wanted.upper(),
                "Access-Control-Allow-Headers": "Authorization, Content-Type, X-API-Key, X-Request-ID, Accept-Language",
                "Access-Control-Max-Age": "600",
                "Vary": "Origin",
            },
        )

    return cors_preflight
