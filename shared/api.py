"""Declaring a service's HTTP endpoints once: validation, authorisation, OpenAPI.

Each service declares its endpoints in `endpoints.py` (the one module of a service
the gateway imports: models and declarations, no handlers, no I/O):

    api = Api("membership")
    create_member = api.endpoint("create_member", "POST", "/members", summary="Enter a member",
                                 body=MemberIn, response=Member, status=201, scope="members:write")

and binds a handler to each in `api.py`:

    @endpoints.create_member.handles
    async def create_member(request, body: MemberIn): ...

`Api.setup(app)` refuses to start a service with a declared endpoint left unbound.

The route wrapper validates the body and query against the declared pydantic
models (422 problem+json naming each field) and passes them to the handler as
`body=` and `query=`; it refuses callers without the right (403). The gateway
assembles the public OpenAPI document from the same declarations
(`openapi_paths`), so the document and the validation cannot drift apart.

Who may call (the identity the gateway signed, see identity.py):
- role `admin`: every endpoint;
- role `manager`: every endpoint that is not `admin_only`; the service limits
  them to their own organisation's subtree (shared/access.py: reach);
- role `judge`: endpoints marked `judges` (the contests service shows a judge only
  the entries assigned to them);
- a partner key: endpoints whose `scope` is among the key's scopes, never `admin_only`;
- anyone (the gateway forwards `anonymous`): endpoints marked `public`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from shared.errors import MESSAGES, Forbidden
from shared.http import current_identity, parse_json, parse_query
from shared.identity import Identity

Handler = Callable[..., Awaitable[web.StreamResponse]]


@dataclass(eq=False)
class Endpoint:
    name: str  # the operation's name: unique within its service (operationId `<service>_<name>`)
    method: str
    path: str
    summary: str
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    scope: str | None = None
    admin_only: bool = False
    public: bool = False
    # Contest judges may call it (the service limits them to the entries assigned to them).
    judges: bool = False
    tags: tuple[str, ...] = ()
    description: str = ""
    # Non-JSON bodies (imports) and answers (exports, images): media type → schema.
    request_media: dict[str, Any] = field(default_factory=dict)
    response_media: dict[str, Any] = field(default_factory=dict)
    errors: tuple[int, ...] = ()
    # Other success statuses answered with the same body, e.g. (200,) for a 202 job that
    # answers 200 when the caller asked to wait for it.
    also_statuses: tuple[int, ...] = ()
    # Largest request body the gateway lets through (413 above); None: the gateway's
    # default (large for endpoints that take files in `request_media`, small otherwise).
    max_body_bytes: int | None = None
    # Seconds the gateway waits for the service before answering 504; None: its default.
    timeout_seconds: float | None = None
    # The service's handler, bound by its api.py (None in the gateway, which only routes).
    handler: Handler | None = None

    def handles(self, handler: Handler) -> Handler:
        """Decorator: `handler` answers this endpoint."""
        if self.handler is not None:
            raise RuntimeError(f"{self.method} {self.path} already has a handler")
        self.handler = handler
        return handler


def allowed(endpoint: Endpoint, who: Identity) -> bool:
    """Function-level authorisation: may `who` call `endpoint` at all?"""
    if endpoint.public:
        return True
    if who.is_anonymous:
        return False
    if who.is_admin:
        return True
    if endpoint.admin_only:
        return False
    if who.is_manager:
        return True
    if who.is_judge:
        return endpoint.judges
    return endpoint.scope is not None and endpoint.scope in who.scopes


class Api:
    def __init__(self, service: str, tag: str | None = None) -> None:
        self.service = service
        self.tag = tag or service
        self.endpoints: list[Endpoint] = []

    def endpoint(self, name: str, method: str, path: str, *, summary: str, **meta: Any) -> Endpoint:
        """Declare an endpoint (its handler is bound later, in the service's api.py)."""
        if any(e.name == name for e in self.endpoints):
            raise ValueError(f"endpoint name {name!r} declared twice in {self.service}")
        declared = Endpoint(name, method.upper(), path, summary, **meta)
        self.endpoints.append(declared)
        return declared

    def route(self, method: str, path: str, *, summary: str, **meta: Any) -> Callable[[Handler], Handler]:
        """Declare and bind in one step (services not yet split into endpoints.py/api.py)."""

        def register(handler: Handler) -> Handler:
            self.endpoint(
                handler.__name__
                if not any(e.name == handler.__name__ for e in self.endpoints)
                else f"{handler.__name__}_{len(self.endpoints)}",
                method,
                path,
                summary=summary,
                **meta,
            ).handles(handler)
            return handler

        return register

    def setup(self, app: web.Application) -> None:
        unbound = [f"{e.method} {e.path}" for e in self.endpoints if e.handler is None]
        if unbound:
            raise RuntimeError(f"{self.service}: declared endpoints without a handler: {', '.join(unbound)}")
        for endpoint in self.endpoints:
            if endpoint.method == "GET":  # HEAD comes with GET, as HTTP says
                app.router.add_get(endpoint.path, _guarded(endpoint), allow_head=True)
            else:
                app.router.add_route(endpoint.method, endpoint.path, _guarded(endpoint))

    def openapi_paths(self, prefix: str = "/api/v1") -> tuple[dict[str, Any], dict[str, Any]]:
        """OpenAPI 3.1 path items and component schemas for these endpoints."""
        paths: dict[str, Any] = {}
        schemas: dict[str, Any] = {}
        seen: dict[str, int] = {}
        for ep in self.endpoints:
            operation_id = f"{self.service}_{ep.name}"
            seen[operation_id] = seen.get(operation_id, 0) + 1
            if seen[operation_id] > 1:  # one handler behind several routes: ids stay unique
                operation_id = f"{operation_id}_{seen[operation_id]}"
            operation: dict[str, Any] = {
                "operationId": operation_id,
                "summary": ep.summary,
                "tags": list(ep.tags or (self.tag,)),
                "responses": _responses(ep, schemas),
            }
            if ep.description:
                operation["description"] = ep.description
            params = [_path_param(name) for name in _path_names(ep.path)]
            if ep.query is not None:
                params.extend(_query_params(ep.query, schemas))
            if params:
                operation["parameters"] = params
            if ep.body is not None or ep.request_media:
                content = {"application/json": {"schema": _schema_ref(ep.body, schemas)}} if ep.body else {}
                content.update({media: {"schema": schema} for media, schema in ep.request_media.items()})
                operation["requestBody"] = {"required": True, "content": content}
            if ep.public:
                operation["security"] = []
            else:
                operation["security"] = [{"bearerAuth": []}, {"apiKey": []}]
                if ep.scope or ep.admin_only:
                    operation["x-required-scope"] = "admin" if ep.admin_only else ep.scope
            paths.setdefault(prefix + ep.path, {})[ep.method.lower()] = operation
        return paths, schemas


def guarded(endpoint: Endpoint) -> Handler:
    """The endpoint's handler behind the authorisation check and input validation."""
    return _guarded(endpoint)


def _guarded(endpoint: Endpoint) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        if not allowed(endpoint, current_identity(request)):
            raise Forbidden(
                MESSAGES("problem.forbidden.detail"), required=("admin" if endpoint.admin_only else endpoint.scope)
            )
        kwargs: dict[str, Any] = {}
        if endpoint.query is not None:
            kwargs["query"] = parse_query(request, endpoint.query)
        if endpoint.body is not None:
            kwargs["body"] = await parse_json(request, endpoint.body)
        assert endpoint.handler is not None  # setup() refused unbound endpoints
        return await endpoint.handler(request, **kwargs)

    handle.__name__ = endpoint.name
    return handle


# --- OpenAPI pieces -----------------------------------------------------------------

PROBLEM = {"$ref": "#/components/schemas/Problem"}
ERROR_TEXT = {
    400: "Malformed request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    410: "Gone",
    423: "Locked",
    413: "Body too large",
    415: "Unsupported media type",
    422: "Invalid input",
    429: "Too many requests",
    503: "Service unavailable",
}


def _responses(ep: Endpoint, schemas: dict[str, Any]) -> dict[str, Any]:
    ok: dict[str, Any] = {"description": "OK" if ep.status < 300 else "Done"}
    content: dict[str, Any] = {}
    if ep.response is not None:
        content["application/json"] = {"schema": _schema_ref(ep.response, schemas)}
    content.update({media: {"schema": schema} for media, schema in ep.response_media.items()})
    if content:
        ok["content"] = content
    responses: dict[str, Any] = {str(ep.status): ok}
    for status in ep.also_statuses:
        responses[str(status)] = {**ok, "description": "OK" if status < 300 else "Done"}
    codes = set(ep.errors) | {429, 503}
    if not ep.public:
        codes |= {401, 403}
    if ep.body is not None or ep.query is not None or _path_names(ep.path):
        codes |= {400, 422}
    if ep.body is not None:
        codes |= {413, 415}
    for code in sorted(codes):
        responses[str(code)] = {
            "description": ERROR_TEXT.get(code, "Error"),
            "content": {"application/problem+json": {"schema": PROBLEM}},
        }
    return responses


def _schema_ref(model: type[BaseModel], schemas: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(schema.pop("$defs", {}))
    schemas[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _query_params(model: type[BaseModel], schemas: dict[str, Any]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(schema.pop("$defs", {}))
    required = set(schema.get("required", []))
    return [
        {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": prop,
            **({"description": prop["description"]} if "description" in prop else {}),
        }
        for name, prop in schema.get("properties", {}).items()
    ]


def _path_names(path: str) -> list[str]:
    return [part[1:-1].split(":")[0] for part in path.split("/") if part.startswith("{") and part.endswith("}")]


def _path_param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string", "maxLength": 128}}
