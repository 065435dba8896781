import pytest
from openapi_spec_validator import validate

from services.gateway.openapi import PUBLIC_APIS, openapi_document
from shared.api import Api, Endpoint, allowed
from shared.identity import Identity


async def _noop(request):
    return None


def endpoint(**meta) -> Endpoint:
    return Endpoint("GET", "/x", _noop, "x", **meta)


@pytest.mark.parametrize(
    "who, meta, ok",
    [
        (Identity(sub="staff:a", roles=("admin",)), {"admin_only": True}, True),
        (Identity(sub="staff:m", roles=("manager",)), {"scope": "members:write"}, True),
        (Identity(sub="staff:m", roles=("manager",)), {"admin_only": True}, False),
        (Identity(sub="key:p", scopes=("members:read",)), {"scope": "members:read"}, True),
        (Identity(sub="key:p", scopes=("members:read",)), {"scope": "members:write"}, False),
        (Identity(sub="key:p", scopes=("members:read",)), {}, False),
        (Identity(sub="key:p", scopes=("admin",)), {"admin_only": True}, False),
        (Identity(sub="anonymous"), {"scope": "events:read"}, False),
        (Identity(sub="anonymous"), {"public": True}, True),
    ],
)
def test_who_may_call_what(who, meta, ok):
    assert allowed(endpoint(**meta), who) is ok


def test_the_public_openapi_document_is_valid_and_covers_every_endpoint():
    doc = openapi_document()
    validate(doc)
    for api in PUBLIC_APIS.values():
        for ep in api.endpoints:
            operation = doc["paths"][f"/api/v1{ep.path}"][ep.method.lower()]
            # who may call it is part of the document: public, or a credential (and which scope)
            assert operation["security"] == [] if ep.public else operation["security"], ep.path
            if ep.admin_only:
                assert operation["x-required-scope"] == "admin"


def test_operation_ids_are_unique():
    ids = [op["operationId"] for item in openapi_document()["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))


def test_an_endpoint_may_document_other_success_statuses():
    from pydantic import BaseModel

    class Job(BaseModel):
        state: str

    api = Api("x")
    api.route("POST", "/jobs", summary="start", response=Job, status=202, also_statuses=(200,))(_noop)
    paths, _ = api.openapi_paths()
    responses = paths["/api/v1/jobs"]["post"]["responses"]
    assert responses["202"]["content"] == responses["200"]["content"]
