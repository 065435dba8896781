"""aiohttp helpers every service and the gateway share.

- `problem` / `ProblemError`: RFC 9457 problem+json for every error; validation
  errors list each field at fault.
- `DomainError`: base of the errors domain code raises; the error middleware maps
  each to problem+json once, from its `status` and `code`.
- middlewares: `X-Request-ID` in and out (bound to every log line), errors,
  internal identity check, access log.
- `parse_json` / `parse_query`: typed input with pydantic (`extra="forbid"`), so an
  operator payload such as `{"$ne": null}` never reaches MongoDB.
- `add_health_routes`: `/healthz` (alive) and `/readyz` (dependencies reachable).
- `/metrics`: Prometheus text for every service (requests by route template,
  method and status; latency histograms; whatever else the process registers,
  such as the bus consumers' outcomes and the gateway's upstream errors).
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import re
import tempfile
import time
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, TypeVar

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from pydantic import BaseModel, ValidationError
from pymongo.errors import ConnectionFailure, NetworkTimeout, ServerSelectionTimeoutError, WaitQueueTimeoutError

from shared import identity as identity_mod
from shared import tabular
from shared.errors import MESSAGES, DomainError, Problem, Unavailable, invalid_field, validation_error
from shared.errors import Conflict as Conflict  # re-exported for the HTTP layer
from shared.errors import NotFound as NotFound  # re-exported for the HTTP layer
from shared.i18n import Lang, negotiate
from shared.logging import bind_context, clear_context, get_logger

log = get_logger(__name__)

PROBLEM_BASE = "https://lienhiep.vn/problems/"
REQUEST_ID = "X-Request-ID"
PUBLIC_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
ReadyCheck = Callable[[], Awaitable[tuple[bool, str]]]
READY_CHECKS = web.AppKey("ready_checks", dict)
MAX_BODY = web.AppKey("max_body_bytes", int)
REQUEST_ID_KEY = web.RequestKey("request_id", str)
IDENTITY_KEY = web.RequestKey("identity", identity_mod.Identity)
# The route template a request matched, for metrics (the gateway sets it for the
# public path it matched, since its own aiohttp route is a catch-all).
ROUTE_KEY = web.RequestKey("route_template", str)

disable_created_metrics()  # no `_created` series: half the scrape for nothing
HTTP_REQUESTS = Counter(
    "lienhiep_http_requests", "HTTP requests answered, by route template and status", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "lienhiep_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)

M = TypeVar("M", bound=BaseModel)


# --- errors ----------------------------------------------------------------------
# Domain errors live in shared/errors.py (no web import); they are re-exported here
# for the HTTP layer. `ProblemError` is a problem spelled out where it is raised.
ProblemError = Problem
# Driver errors that mean "the store is not answering", not "this request is wrong".
STORE_DOWN = (ConnectionFailure, ServerSelectionTimeoutError, NetworkTimeout, WaitQueueTimeoutError)
STORE_RETRY_AFTER_SECONDS = 5


def problem(
    status: int,
    code: str,
    title: str,
    detail: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> web.Response:
    body: dict[str, Any] = {"type": PROBLEM_BASE + code, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return problem_response(body, headers)


def problem_response(body: dict[str, Any], headers: Mapping[str, str] | None = None) -> web.Response:
    return web.Response(
        status=body["status"],
        text=json.dumps(body, ensure_ascii=False, default=_json_default),
        content_type="application/problem+json",
        headers=headers,
    )


def error_response(exc: DomainError, lang: str) -> web.Response:
    """A domain error as problem+json in `lang`."""
    return problem_response({"type": PROBLEM_BASE + exc.code, **exc.public(lang)}, exc.headers or None)


def validation_problem(exc: ValidationError, location: str = "body") -> DomainError:
    return validation_error(exc, location)


def language(request: web.Request) -> Lang:
    """The language the caller reads: Accept-Language, Vietnamese by default."""
    return negotiate(request.headers.get("Accept-Language"))


# --- JSON ------------------------------------------------------------------------


def _json_default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


def json_response(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.Response(
        status=status,
        text=json.dumps(data, ensure_ascii=False, default=_json_default),
        content_type="application/json",
        headers=headers,
    )


async def parse_json(request: web.Request, model: type[M]) -> M:
    """The request body validated as `model`; 400 for bad JSON, 422 for bad fields."""
    if request.content_type not in ("application/json", "application/merge-patch+json"):
        raise Problem(
            415, "unsupported-media-type", MESSAGES("problem.send_json"), MESSAGES("problem.send_json.detail")
        )
    return parse_json_bytes(await request.read(), model)


def parse_json_bytes(raw: bytes, model: type[M]) -> M:
    """`raw` validated as `model`; 400 for bad JSON (too deep included), 422 for bad fields."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise Problem(
            400, "malformed-json", MESSAGES("problem.malformed_json"), MESSAGES("problem.malformed_json.detail")
        ) from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc) from None
    except RecursionError:
        raise Problem(
            400, "malformed-json", MESSAGES("problem.malformed_json"), MESSAGES("problem.malformed_json.detail")
        ) from None


def parse_query(request: web.Request, model: type[M]) -> M:
    """Query parameters validated as `model` (a repeated key becomes a list)."""
    raw: dict[str, Any] = {}
    for key in request.query.keys():
        values = request.query.getall(key)
        raw[key] = values if len(values) > 1 else values[0]
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise validation_error(exc, "query") from None


# --- middlewares ------------------------------------------------------------------


@web.middleware
async def request_context_middleware(request: web.Request, handler):
    """Take or make the request id, log the request, return the id."""
    request_id = _clean_request_id(request.headers.get(REQUEST_ID))
    request[REQUEST_ID_KEY] = request_id
    clear_context()
    bind_context(request_id=request_id, correlation_id=request_id)
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        response.headers[REQUEST_ID] = request_id
        return response
    except web.HTTPException as exc:
        status = exc.status
        exc.headers[REQUEST_ID] = request_id
        raise
    finally:
        elapsed = time.perf_counter() - started
        route = _route_template(request)
        if request.path not in PUBLIC_PATHS:
            # The route template, not the path: paths can hold personal data (an email address).
            log.info("http.request", method=request.method, route=route, status=status, ms=round(elapsed * 1000, 2))
        HTTP_REQUESTS.labels(request.method, route, str(status)).inc()
        HTTP_LATENCY.labels(request.method, route).observe(elapsed)
        clear_context()


def _route_template(request: web.Request) -> str:
    explicit = request.get(ROUTE_KEY)
    if explicit:
        return explicit
    match = request.match_info
    if match is None or match.http_exception is not None:
        return "unmatched"
    resource = match.route.resource
    return resource.canonical if resource is not None else "unmatched"


_REQUEST_ID_SHAPE = re.compile(r"[A-Za-z0-9_.:-]{1,128}")


def _clean_request_id(value: str | None) -> str:
    # Accept a caller's id only if it is short and printable: it goes into logs and events.
    if value and _REQUEST_ID_SHAPE.fullmatch(value):
        return value
    return uuid.uuid4().hex


@web.middleware
async def error_middleware(request: web.Request, handler):
    """Every error leaves as problem+json in the caller's language; no stack trace or
    internal detail leaks."""
    try:
        return await handler(request)
    except DomainError as exc:
        return error_response(exc, language(request))
    except STORE_DOWN as exc:
        log.warning("http.store_unavailable", route=_route_template(request), error=type(exc).__name__)
        return error_response(
            Unavailable(
                MESSAGES("problem.store_unavailable.detail"), headers={"Retry-After": str(STORE_RETRY_AFTER_SECONDS)}
            ),
            language(request),
        )
    except web.HTTPRequestEntityTooLarge:
        limit = request.app[MAX_BODY]
        return error_response(
            Problem(
                413,
                "payload-too-large",
                MESSAGES("problem.too_large"),
                MESSAGES("problem.too_large.detail", limit=limit),
                max_bytes=limit,
            ),
            language(request),
        )
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        extra: dict[str, Any] = {}
        if isinstance(exc, web.HTTPMethodNotAllowed):
            extra["allowed"] = sorted(exc.allowed_methods)
        return problem(
            exc.status,
            _slug(exc.reason),
            exc.reason,
            None,
            headers={k: v for k, v in exc.headers.items() if k.lower() == "allow"},
            **extra,
        )
    except Exception:
        log.exception("http.unhandled_error", route=_route_template(request))
        lang = language(request)
        return problem(
            500,
            "internal-error",
            MESSAGES.text("problem.internal", lang),
            MESSAGES.text("problem.internal.detail", lang),
            request_id=request.get(REQUEST_ID_KEY),
        )


def _slug(text: str) -> str:
    return "-".join(text.lower().split())


def identity_middleware(secret: str):
    """Refuse any request without a valid identity signed by the gateway."""

    @web.middleware
    async def check_identity(request: web.Request, handler):
        if request.path in PUBLIC_PATHS:
            return await handler(request)
        token = request.headers.get(identity_mod.HEADER)
        if not token:
            raise Problem(
                401,
                "unauthenticated",
                MESSAGES("problem.unauthenticated"),
                "Internal services answer only requests forwarded by the gateway",
            )
        try:
            request[IDENTITY_KEY] = identity_mod.verify(token, secret)
        except identity_mod.InvalidIdentity as exc:
            raise Problem(401, "unauthenticated", MESSAGES("problem.unauthenticated"), str(exc)) from None
        return await handler(request)

    return check_identity


def current_identity(request: web.Request) -> identity_mod.Identity:
    return request[IDENTITY_KEY]


def request_id(request: web.Request) -> str:
    """The request's id, also the correlation id of the events it causes."""
    return request[REQUEST_ID_KEY]


# --- app factory pieces ---------------------------------------------------------


def make_app(*, max_body_bytes: int, identity_secret: str | None, metrics: bool = True) -> web.Application:
    """An application with the shared middlewares; `identity_secret=None` for the gateway.
    `metrics=False` leaves `/metrics` out (the gateway serves it behind credentials)."""
    middlewares = [request_context_middleware, error_middleware]
    if identity_secret is not None:
        middlewares.append(identity_middleware(identity_secret))
    app = web.Application(middlewares=middlewares, client_max_size=max_body_bytes)
    app[READY_CHECKS] = {}
    app[MAX_BODY] = max_body_bytes
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/readyz", _readyz)
    if metrics:
        app.router.add_get("/metrics", _metrics)
    return app


def add_ready_check(app: web.Application, name: str, check: ReadyCheck) -> None:
    app[READY_CHECKS][name] = check


async def _healthz(request: web.Request) -> web.Response:
    # The pid lets whoever started the process (`make run`) tell it from another copy on the same port.
    return json_response({"status": "alive", "pid": os.getpid()})


async def _metrics(request: web.Request) -> web.Response:
    return metrics_response()


def metrics_response() -> web.Response:
    """Prometheus text of everything this process registered."""
    body = generate_latest(REGISTRY)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def _readyz(request: web.Request) -> web.Response:
    results: dict[str, dict[str, Any]] = {}
    ready = True
    for name, check in request.app[READY_CHECKS].items():
        try:
            ok, detail = await check()
        except Exception as exc:
            ok, detail = False, type(exc).__name__
        results[name] = {"ok": ok, "detail": detail}
        ready = ready and ok
    return json_response({"status": "ready" if ready else "not ready", "checks": results}, status=200 if ready else 503)


# --- tabular downloads ------------------------------------------------------------


async def table_response(
    request: web.Request,
    *,
    filename: str,
    fmt: str,
    sheet: str,
    header: Sequence[str],
    rows: AsyncIterable[Sequence[Any]],
) -> web.StreamResponse:
    """Stream a table as a CSV or XLSX download (`filename` without extension). Every
    cell is neutralised against formula injection by shared/tabular.py."""
    response = web.StreamResponse(headers={"Content-Disposition": f'attachment; filename="{filename}.{fmt}"'})
    if fmt == "csv":
        response.content_type, response.charset = tabular.CSV_MEDIA, "utf-8"
        await response.prepare(request)
        buffered: list[Sequence[Any]] = []
        first = True
        async for row in rows:
            buffered.append(row)
            if len(buffered) >= 500:
                await response.write(_csv_part(header if first else None, buffered))
                buffered, first = [], False
        await response.write(_csv_part(header if first else None, buffered))
        await response.write_eof()
        return response
    writer = tabular.XlsxWriter(sheet, header)
    async for row in rows:
        writer.append(row)
    fd, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(fd)
    try:
        await asyncio.to_thread(writer.save, path)
        response.content_type = tabular.XLSX_MEDIA
        response.content_length = os.path.getsize(path)
        await response.prepare(request)
        with open(path, "rb") as stream:
            while chunk := stream.read(65536):
                await response.write(chunk)
    finally:
        os.unlink(path)
    await response.write_eof()
    return response


def _csv_part(header: Sequence[str] | None, rows: list[Sequence[Any]]) -> bytes:
    if header is not None:
        return tabular.to_csv(header, rows)
    buffer = io.StringIO()
    csv.writer(buffer).writerows([[tabular.csv_cell(v) for v in row] for row in rows])
    return buffer.getvalue().encode("utf-8")


UPLOAD_CHUNK = 65536
# What aiohttp's multipart parser raises on a broken form (bad part headers, boundaries, lengths).
_BROKEN_FORM = (HttpProcessingError, ValueError, AssertionError, LookupError)


async def upload(request: web.Request, field: str = "file") -> tuple[AsyncIterator[bytes], str | None]:
    """An uploaded file, a chunk at a time, and its name when the form gave one: the raw
    body, or the multipart form's `field`. A malformed form is the caller's mistake (422
    on `field`), found while the parts are read or while the file's bytes are."""
    if not request.content_type.startswith("multipart/"):
        return request.content.iter_chunked(UPLOAD_CHUNK), None
    try:
        reader = await request.multipart()
        async for part in reader:
            if getattr(part, "name", None) == field and isinstance(part, BodyPartReader):
                return _part_chunks(part, field), part.filename
    except _BROKEN_FORM as exc:
        raise _malformed(field) from exc
    raise invalid_field(field, MESSAGES("field.missing"), "missing")


async def _part_chunks(part: BodyPartReader, field: str) -> AsyncIterator[bytes]:
    try:
        while chunk := await part.read_chunk(UPLOAD_CHUNK):
            yield chunk
    except _BROKEN_FORM as exc:
        raise _malformed(field) from exc


def _malformed(field: str) -> DomainError:
    return invalid_field(field, MESSAGES("field.malformed_multipart", field=field), "malformed")
