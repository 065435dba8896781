"""The front door: every request under /api/v1 passes here, in this order.

1. the client address's rate limit (429), so even floods of unknown paths count;
2. match the declared endpoint (404/405 for anything else);
3. who is calling (anonymous, partner key, staff token; 401 for a bad credential);
4. the credential's rate limit, and the stricter login limit per address (429);
5. function-level authorisation with the endpoint's declaration (401/403);
6. typed input: operator-shaped query keys and JSON keys refused, query and JSON
   body validated against the declared models (422), body size limits (413, 415);
7. the gateway's own handler, or the owning service through the proxy.
"""

from __future__ import annotations

import ipaddress
import json
import time
from typing import Any

from aiohttp import web
from pydantic import ValidationError
from pymongo.errors import PyMongoError

from services.gateway.auth import ANONYMOUS, Authenticator
from services.gateway.proxy import Upstreams
from services.gateway.ratelimit import Decision, TokenBuckets
from services.gateway.routing import Match, RouteTable
from services.gateway.traffic import TrafficCounter
from shared.api import allowed
from shared.http import IDENTITY_KEY, ROUTE_KEY, ProblemError, parse_query, problem, validation_problem
from shared.logging import get_logger
from shared.settings import Settings

log = get_logger(__name__)

RATE_HEADERS = web.RequestKey("rate_limit_headers", dict)
JSON_TYPES = ("application/json", "application/merge-patch+json")
LOGIN_PATH = "/auth/login"


class Front:
    def __init__(
        self, settings: Settings, table: RouteTable, auth: Authenticator, upstreams: Upstreams, traffic: TrafficCounter
    ) -> None:
        self.settings = settings
        self.table = table
        self.auth = auth
        self.upstreams = upstreams
        self.traffic = traffic
        self.by_address = TokenBuckets(settings.gateway_rate_per_second, settings.gateway_rate_burst)
        self.by_credential = TokenBuckets(settings.gateway_rate_per_second, settings.gateway_rate_burst)
        self.logins = TokenBuckets(settings.gateway_login_rate_per_minute / 60.0, settings.gateway_login_burst)
        self.trusted = frozenset(p.strip() for p in settings.gateway_trusted_proxies.split(",") if p.strip())

    # --- the request ----------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        try:
            return await self._handle(request)
        except PyMongoError as exc:
            # The gateway's own store (keys, logins) is unreachable: say so, briefly, and retry later.
            log.warning("gateway.store_unavailable", error=type(exc).__name__)
            return problem(
                503,
                "store-unavailable",
                "Service unavailable",
                "Credentials cannot be checked right now; try again shortly",
                headers={"Retry-After": "5"},
            )

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        request[ROUTE_KEY] = "unmatched"
        address = self.client_address(request)
        by_address = self.by_address.take(f"addr:{address}")  # before anything else: 404 floods count too
        if not by_address.allowed:
            return self._too_many(request, (by_address, self.by_address.window))
        match = self.table.match(request.method, request.path)
        request[ROUTE_KEY] = match.route.template
        ep = match.endpoint
        try:
            who, credential = await self.auth.identify(
                request.headers.get("Authorization"), request.headers.get("X-API-Key")
            )
        except ProblemError:
            if not ep.public:
                raise
            # A stale token sent to a public endpoint (logging in again, the documents) is no reason to refuse.
            who, credential = ANONYMOUS, None
        decision = self._rate(by_address, address, credential, ep.path == LOGIN_PATH and match.service == "gateway")
        request[RATE_HEADERS] = decision[0].headers(decision[1])
        if not decision[0].allowed:
            return self._too_many(request, decision)
        self.traffic.seen(self.traffic.client_id(address, credential), time.time())
        if not allowed(ep, who):
            if who is ANONYMOUS:
                return problem(
                    401,
                    "unauthenticated",
                    "Not authenticated",
                    "Send a partner API key or a staff token: Authorization: Bearer …",
                    headers={"WWW-Authenticate": 'Bearer realm="lienhiep"'},
                )
            return problem(
                403,
                "forbidden",
                "Forbidden",
                "Your credentials do not allow this request",
                required=("admin" if ep.admin_only else ep.scope),
            )
        query = self._check_query(request, match)
        body, limit = await self._check_body(request, match)
        if match.service == "gateway":
            request[IDENTITY_KEY] = who
            request.match_info.update(match.params)  # the handler reads its path parameters as usual
            kwargs: dict[str, Any] = {}
            if ep.query is not None:
                kwargs["query"] = query
            if ep.body is not None:
                kwargs["body"] = body[1]
            return await ep.handler(request, **kwargs)
        path = request.raw_path[len(self.table.prefix) :]
        timeout = ep.timeout_seconds or (
            self.settings.gateway_import_timeout_seconds
            if ep.request_media or ep.response_media
            else self.settings.gateway_upstream_timeout_seconds
        )
        return await self.upstreams.forward(
            request, match.service, path, who, timeout=timeout, body=body[0], stream_limit=limit, extra_headers={}
        )

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

    def _too_many(self, request: web.Request, decision: tuple[Decision, float]) -> web.Response:
        request[RATE_HEADERS] = headers = decision[0].headers(decision[1])
        return problem(
            429,
            "rate-limited",
            "Too many requests",
            f"Slow down: try again in {headers['Retry-After']} s",
            retry_after_seconds=int(headers["Retry-After"]),
        )

    def _rate(self, by_address: Decision, address: str, credential: str | None, login: bool) -> tuple[Decision, float]:
        checks = [(by_address, self.by_address.window)]
        if credential is not None:
            checks.append((self.by_credential.take(credential), self.by_credential.window))
        if login:
            checks.append((self.logins.take(f"login:{address}"), self.logins.window))
        refused = [c for c in checks if not c[0].allowed]
        if refused:
            return max(refused, key=lambda c: c[0].retry_after)
        return min(checks, key=lambda c: c[0].remaining / c[0].limit)

    # --- input ----------------------------------------------------------------------

    def _check_query(self, request: web.Request, match: Match) -> Any:
        bad = [k for k in request.query.keys() if any(c in k for c in "$[]{}.")]
        if bad:
            raise ProblemError(
                422,
                "validation-error",
                "Invalid input",
                f"{len(bad)} field(s) are invalid",
                errors=[
                    {
                        "field": k,
                        "in": "query",
                        "message": "not a parameter of this endpoint",
                        "code": "operator_refused",
                    }
                    for k in bad
                ],
            )
        if match.endpoint.query is not None:
            return parse_query(request, match.endpoint.query)
        if request.query:
            unknown = sorted(set(request.query.keys()))
            raise ProblemError(
                422,
                "validation-error",
                "Invalid input",
                f"{len(unknown)} field(s) are invalid",
                errors=[
                    {"field": k, "in": "query", "message": "Extra inputs are not permitted", "code": "extra_forbidden"}
                    for k in unknown
                ],
            )
        return None

    async def _check_body(self, request: web.Request, match: Match) -> tuple[tuple[bytes | None, Any], int | None]:
        """((bytes to forward, validated model), streaming limit)."""
        ep = match.endpoint
        limit = ep.max_body_bytes or (
            self.settings.gateway_import_body_bytes if ep.request_media else self.settings.gateway_body_bytes
        )
        if not request.body_exists:
            if ep.body is not None and not ep.request_media:
                raise ProblemError(
                    415,
                    "unsupported-media-type",
                    "Send JSON",
                    "This endpoint needs a JSON body (Content-Type: application/json)",
                )
            return (None, None), None
        if request.content_length is not None and request.content_length > limit:
            raise _too_large(limit)
        media = request.content_type
        if ep.request_media and media in ep.request_media:
            return (None, None), limit  # a file: streamed through, counted on the way
        if ep.body is None:
            if ep.request_media:
                raise ProblemError(
                    415,
                    "unsupported-media-type",
                    "Unsupported media type",
                    f"Send one of: {', '.join(ep.request_media)}",
                )
            return (b"", None), None  # the endpoint takes no body: none is forwarded
        if media not in JSON_TYPES:
            raise ProblemError(415, "unsupported-media-type", "Send JSON", "Content-Type must be application/json")
        raw = bytearray()
        async for chunk in request.content.iter_chunked(64 * 1024):
            raw.extend(chunk)
            if len(raw) > limit:
                raise _too_large(limit)
        try:
            data = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ProblemError(400, "malformed-json", "Malformed JSON", "The body is not valid JSON") from None
        operators = list(_operator_keys(data, ""))
        if operators:
            raise ProblemError(
                422,
                "validation-error",
                "Invalid input",
                f"{len(operators)} field(s) are invalid",
                errors=[
                    {"field": f, "in": "body", "message": "operator keys are not accepted", "code": "operator_refused"}
                    for f in operators
                ],
            )
        try:
            model = ep.body.model_validate(data)
        except ValidationError as exc:
            raise validation_problem(exc) from None
        return (bytes(raw), model), None


def _operator_keys(value: Any, at: str):
    if isinstance(value, dict):
        for key, inner in value.items():
            here = f"{at}.{key}" if at else str(key)
            if str(key).startswith("$"):
                yield here
            yield from _operator_keys(inner, here)
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            yield from _operator_keys(inner, f"{at}.{i}" if at else str(i))


def _too_large(limit: int) -> ProblemError:
    return ProblemError(
        413, "payload-too-large", "Request body too large", f"The body may be at most {limit} bytes", max_bytes=limit
    )


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
            return problem(
                403, "cors-origin-refused", "Origin not allowed", "This origin may not call the API from a browser"
            )
        table.match(wanted.upper(), request.path)  # 404/405 for what is not declared
        return web.Response(
            status=204,
            headers={
                "Access-Control-Allow-Origin": request.headers["Origin"],
                "Access-Control-Allow-Methods": wanted.upper(),
                "Access-Control-Allow-Headers": "Authorization, Content-Type, X-API-Key, X-Request-ID",
                "Access-Control-Max-Age": "600",
                "Vary": "Origin",
            },
        )

    return cors_preflight
