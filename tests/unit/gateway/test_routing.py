"""The route table comes from the endpoint declarations: what is declared answers,
nothing else does, and the OpenAPI document lists exactly the same routes."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate

from services.gateway.openapi import PUBLIC_APIS, openapi_document
from services.gateway.routing import RouteTable
from services.gateway.traffic import periods
from shared.api import Api
from shared.http import ProblemError


async def _noop(request):
    return None


def table() -> RouteTable:
    api = Api("membership")
    api.route("GET", "/members/{member_id}", summary="one")(_noop)
    api.route("GET", "/members/search", summary="search")(_noop)
    api.route("POST", "/members", summary="create")(_noop)
    api.route("GET", "/files/{name:[a-z]+\\.csv}", summary="file")(_noop)
    return RouteTable({"membership": api})


def test_requests_match_the_declared_template_literal_paths_first():
    t = table()
    assert t.match("GET", "/api/v1/members/search").endpoint.summary == "search"
    found = t.match("GET", "/api/v1/members/m-42")
    assert found.params == {"member_id": "m-42"} and found.route.template == "/api/v1/members/{member_id}"
    assert t.match("HEAD", "/api/v1/members/m-42").endpoint.summary == "one"
    assert t.match("GET", "/api/v1/files/list.csv").params == {"name": "list.csv"}


@pytest.mark.parametrize(
    "method, path, status",
    [
        ("GET", "/api/v1/nothing", 404),
        ("GET", "/api/v1/members/a/b", 404),
        ("GET", "/api/v1/files/LIST.csv", 404),
        ("GET", "/api/v2/members", 404),
        ("GET", "/api/v1/", 404),
        ("DELETE", "/api/v1/members", 405),
        ("PUT", "/api/v1/members/m-1", 405),
    ],
)
def test_what_is_not_declared_answers_404_or_405(method, path, status):
    with pytest.raises(ProblemError) as caught:
        table().match(method, path)
    assert caught.value.status == status
    if status == 405:
        assert caught.value.extra["allowed"]


def test_every_declared_route_is_documented_and_every_documented_route_is_routed():
    doc = openapi_document()
    validate(doc)
    t = RouteTable(PUBLIC_APIS)
    routed = {(r.endpoint.method.lower(), r.template) for r in t.routes}
    documented = {(m, p) for p, item in doc["paths"].items() for m in item}
    assert routed == documented
    for method, path in routed:
        concrete = path.replace("{", "").replace("}", "")
        assert t.match(method.upper(), concrete).route.template == path
    non_public = [op for item in doc["paths"].values() for op in item.values() if op.get("security") != []]
    assert all(op["security"] for op in non_public)


def test_traffic_periods_follow_the_vietnamese_calendar():
    # 2026-12-31 17:30 UTC is already 2027-01-01 00:30 in Hà Nội.
    p = periods(1798738200.0)
    assert p == {
        "today": "day:2027-01-01",
        "this_week": "week:2026-W53",
        "this_month": "month:2027-01",
        "this_year": "year:2027",
        "total": "total",
    }
