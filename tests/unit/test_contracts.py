import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from shared.contracts import (
    CONTRACTS,
    Envelope,
    MemberApproved,
    UnknownEventType,
    asyncapi_document,
    new_event,
    parse_data,
)

ROOT = Path(__file__).resolve().parents[2]


def test_an_event_round_trips_through_json():
    env = new_event(
        MemberApproved(member_id="m1", full_name="Nguyễn Văn An", status="active", email="a@b.vn"),
        producer="membership",
        correlation_id="req-1",
    )
    back = Envelope.model_validate_json(env.model_dump_json())
    assert back == env
    assert back.type == "member.approved" and back.version == 1
    data = parse_data(back)
    assert isinstance(data, MemberApproved) and data.full_name == "Nguyễn Văn An"


def test_consumers_tolerate_new_fields_but_envelopes_do_not():
    env = new_event(MemberApproved(member_id="m1", full_name="A", status="active"), producer="membership")
    env.data["added_later"] = 1
    assert parse_data(env).member_id == "m1"
    raw = json.loads(env.model_dump_json())
    raw["unexpected"] = True
    with pytest.raises(ValidationError):
        Envelope.model_validate(raw)


def test_unknown_event_types_are_refused():
    env = new_event(MemberApproved(member_id="m1", full_name="A", status="active"), producer="membership")
    env.type = "member.teleported"
    with pytest.raises(UnknownEventType):
        parse_data(env)


def test_asyncapi_document_covers_every_contract_and_is_committed():
    doc = asyncapi_document()
    assert doc["asyncapi"].startswith("3.")
    assert {c["address"] for c in doc["channels"].values()} == set(CONTRACTS)
    for message in doc["components"]["messages"].values():
        ref = message["payload"]["allOf"][1]["properties"]["data"]["$ref"]
        assert ref.rsplit("/", 1)[1] in doc["components"]["schemas"]
    committed = json.loads((ROOT / "docs" / "asyncapi.json").read_text())
    assert committed == json.loads(json.dumps(doc)), "docs/asyncapi.json is stale: run `make docs`"
