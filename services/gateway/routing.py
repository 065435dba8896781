"""The public route table, built from every service's endpoint declarations.

Nothing is routed by hand: each `Api` (the services' and the gateway's own) lists
its endpoints, and a request is matched by method and path template. What is not
declared answers 404 (405 when only the method is wrong), so every route that
answers is in the OpenAPI document and nothing else is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from services.gateway.catalogue import MESSAGES
from shared.api import Api, Endpoint
from shared.errors import MESSAGES as SHARED
from shared.errors import Problem

PREFIX = "/api/v1"
_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::([^{}]*(?:\{[^{}]*\}[^{}]*)*))?\}")


@dataclass(frozen=True)
class Route:
    service: str
    endpoint: Endpoint
    template: str  # the public template, e.g. /api/v1/members/{member_id}
    pattern: re.Pattern[str]
    literal_segments: int


@dataclass(frozen=True)
class Match:
    route: Route
    params: dict[str, str]

    @property
    def service(self) -> str:
        return self.route.service

    @property
    def endpoint(self) -> Endpoint:
        return self.route.endpoint


def compile_template(path: str) -> re.Pattern[str]:
    out, pos = [], 0
    for m in _PARAM.finditer(path):
        out.append(re.escape(path[pos : m.start()]))
        out.append(f"(?P<{m.group(1)}>{m.group(2) or '[^/]+'})")
        pos = m.end()
    out.append(re.escape(path[pos:]))
    return re.compile("".join(out) + r"\Z")


class RouteTable:
    def __init__(self, apis: Mapping[str, Api], prefix: str = PREFIX) -> None:
        self.prefix = prefix
        self.routes: list[Route] = []
        # First segment under the prefix → the routes that start with it (fast lookup).
        self._by_head: dict[str, list[Route]] = {}
        for service, api in apis.items():
            for ep in api.endpoints:
                literal = sum(1 for part in ep.path.split("/") if part and not part.startswith("{"))
                route = Route(service, ep, prefix + ep.path, compile_template(ep.path), literal)
                self.routes.append(route)
                head = ep.path.split("/")[1] if ep.path.count("/") >= 1 else ""
                self._by_head.setdefault(head, []).append(route)
        # Literal paths before templated ones: /members/search wins over /members/{id}.
        for routes in self._by_head.values():
            routes.sort(key=lambda r: -r.literal_segments)

    def match(self, method: str, path: str) -> Match:
        """The declared endpoint for this request; a 404/405 problem if there is none."""
        if not path.startswith(self.prefix + "/"):
            raise _not_found(path)
        tail = path[len(self.prefix) :]
        head = tail.split("/")[1]
        allowed: set[str] = set()
        for route in self._by_head.get(head, ()):
            found = route.pattern.match(tail)
            if found is None:
                continue
            if route.endpoint.method == method or (method == "HEAD" and route.endpoint.method == "GET"):
                return Match(route, found.groupdict())
            allowed.add(route.endpoint.method)
        if allowed:
            raise Problem(
                405,
                "method-not-allowed",
                SHARED("problem.method_not_allowed"),
                MESSAGES("gateway.method_not_allowed", method=method[:20]),
                allowed=sorted(allowed),
            )
        raise _not_found(path)

    def scopes(self) -> set[str]:
        """Every scope some endpoint requires: what a partner key may be given."""
        return {r.endpoint.scope for r in self.routes if r.endpoint.scope}


def _not_found(path: str) -> Problem:
    return Problem(404, "not-found", SHARED("problem.not_found"), MESSAGES("gateway.no_route"))
