"""A webhook never carries what its key could not read through the API: scopes, reach, public forms."""

import json
from datetime import UTC, datetime

import pytest

from services.webhooks.endpoints import OFFERED
from services.webhooks.public_forms import Viewer, body, may_hear, organisations_of, public_form, scope_of
from shared.access import Reach, subtree_ids
from shared.contracts import (
    CONTRACTS,
    CertificateIssued,
    EventCancelled,
    MemberErased,
    MemberUpdated,
    OrganizationUpdated,
    Registrant,
    RegistrationWaitlisted,
)
from tests.fakes.partner_events import DOCTORS, ENGINEERS, ENGINEERS_BRANCH, TREE, confirmed, member, seminar

ALL_SCOPES = frozenset({"members:read", "events:read", "registrations:write"})


def unbound(scopes=ALL_SCOPES, prefix="a1b2c3d4") -> Viewer:
    return Viewer(prefix, frozenset(scopes), Reach.all())


def bound_to(org: str, scopes=ALL_SCOPES, prefix="e5f6a7b8") -> Viewer:
    return Viewer(prefix, frozenset(scopes), Reach(False, frozenset(subtree_ids(org, TREE))))


def test_every_offered_type_is_a_contract_and_internal_ones_are_not_offered():
    assert set(OFFERED) <= set(CONTRACTS)
    for internal in ("member.applied", "event.reminder_due", "notification.delivered", "webhook.endpoint_disabled"):
        assert internal not in OFFERED


@pytest.mark.parametrize(
    "event_type, scope",
    [
        ("member.approved", "members:read"),
        ("membership.expiring", "members:read"),
        ("organization.updated", "members:read"),
        ("event.cancelled", "events:read"),
        ("registration.confirmed", "registrations:write"),
        ("attendance.checked_in", "registrations:write"),
        ("certificate.issued", "registrations:write"),
    ],
)
def test_each_type_needs_the_scope_its_api_reading_needs(event_type, scope):
    assert scope_of(event_type) == scope
    assert may_hear(unbound({scope}), event_type, [ENGINEERS])
    assert not may_hear(unbound(ALL_SCOPES - {scope}), event_type, [ENGINEERS])


def test_a_key_bound_to_an_association_hears_its_subtree_and_nothing_else():
    engineers = bound_to(ENGINEERS)
    assert may_hear(engineers, "member.approved", [ENGINEERS_BRANCH])
    assert may_hear(engineers, "member.approved", [DOCTORS, ENGINEERS])  # a member of both
    assert not may_hear(engineers, "member.approved", [DOCTORS])
    assert not may_hear(engineers, "member.approved", [])  # a member of no organisation
    assert not may_hear(engineers, "event.published", [None])  # an event without a known organiser
    assert may_hear(unbound(), "event.published", [None])
    assert not may_hear(bound_to(ENGINEERS_BRANCH), "registration.confirmed", [ENGINEERS])  # the parent is outside


def test_organisations_of_each_kind_of_event():
    assert organisations_of(member([ENGINEERS, DOCTORS])) == [ENGINEERS, DOCTORS]
    assert organisations_of(confirmed(DOCTORS)) == [DOCTORS]
    assert organisations_of(EventCancelled(event=seminar(ENGINEERS))) == [ENGINEERS]
    update = OrganizationUpdated(organization_id=DOCTORS, code="YH", name="Hội Y học", kind="association")
    assert organisations_of(update) == [DOCTORS]
    assert organisations_of(MemberErased(member_id="m-1"), [ENGINEERS]) == [ENGINEERS]


def test_a_member_is_shown_as_the_api_shows_it_with_only_the_organisations_in_reach():
    data = MemberUpdated(**member([ENGINEERS, DOCTORS]).model_dump(), changed_fields=["email"])
    shown = public_form("member.updated", data, bound_to(ENGINEERS)).model_dump()
    assert shown["member"]["email"] == "mai@example.vn" and shown["member"]["phone"] == "+84912345678"
    assert shown["member"]["organization_ids"] == [ENGINEERS]
    assert shown["changed_fields"] == ["email"]
    assert public_form("member.updated", data, unbound()).model_dump()["member"]["organization_ids"] == sorted(
        [ENGINEERS, DOCTORS]
    )


def test_the_person_and_ticket_go_only_to_the_key_that_made_the_registration():
    data = confirmed(ENGINEERS, registered_by="key:a1b2c3d4")
    mine = public_form("registration.confirmed", data, unbound(prefix="a1b2c3d4")).model_dump()
    assert mine["registration"]["registered_by_you"] is True
    assert mine["registration"]["person"]["email"] == "binh@example.vn"
    assert mine["registration"]["ticket_code"] == data.ticket_code
    theirs = public_form("registration.confirmed", data, bound_to(ENGINEERS)).model_dump()
    assert theirs["registration"] == {
        "registration_id": data.registrant.registration_id,
        "status": "confirmed",
        "registered_by_you": False,
        "person": None,
        "ticket_code": None,
    }
    assert theirs["event"]["title_vi"] == "Hội thảo Chuyển đổi số"
    # a registration nobody says who made (an older producer) shows nobody the person
    anonymous = confirmed(ENGINEERS, registered_by=None)
    assert public_form("registration.confirmed", anonymous, unbound()).model_dump()["registration"]["person"] is None


def test_links_that_act_for_the_person_are_never_sent():
    data = confirmed(ENGINEERS, registered_by="key:a1b2c3d4")
    text = body(
        "registration.confirmed",
        datetime(2026, 12, 1, tzinfo=UTC),
        public_form("registration.confirmed", data, unbound(prefix="a1b2c3d4")),
    ).decode()
    assert "SECRET-LINK" not in text and "FEED-LINK" not in text and "cancel" not in text


def test_a_cancelled_event_never_carries_its_registrants():
    registrant = Registrant(registration_id="r-1", full_name="Lê Thị Hoa", email="hoa@example.vn")
    data = EventCancelled(event=seminar(ENGINEERS), reason="Diễn giả ốm", registrants=[registrant])
    text = body("event.cancelled", datetime(2026, 12, 1, tzinfo=UTC), public_form("event.cancelled", data, unbound()))
    assert b"hoa@example.vn" not in text and "Lê Thị Hoa".encode() not in text
    assert json.loads(text)["data"]["reason"] == "Diễn giả ốm"


def test_type_specific_fields_and_certificate_codes_only_for_the_registering_key():
    waiting = RegistrationWaitlisted(event=seminar(ENGINEERS), registrant=confirmed(ENGINEERS).registrant, position=3)
    assert public_form("registration.waitlisted", waiting, unbound()).model_dump()["position"] == 3
    who = confirmed(ENGINEERS, registered_by="key:a1b2c3d4").registrant
    cert = CertificateIssued(event=seminar(ENGINEERS), registrant=who, certificate_code="CC-1", hours=8, verify_url="u")
    assert (
        public_form("certificate.issued", cert, unbound(prefix="a1b2c3d4")).model_dump()["certificate_code"] == "CC-1"
    )
    other = public_form("certificate.issued", cert, unbound(prefix="99999999")).model_dump()
    assert other["certificate_code"] is None and other["verify_url"] is None and other["hours"] == 8


def test_the_body_is_the_standard_shape_compact_and_without_empty_fields():
    data = member([ENGINEERS])
    raw = body(
        "member.approved", datetime(2026, 12, 1, 2, 3, 4, tzinfo=UTC), public_form("member.approved", data, unbound())
    )
    parsed = json.loads(raw)
    assert list(parsed) == ["type", "timestamp", "data"]
    assert parsed["type"] == "member.approved" and parsed["timestamp"] == "2026-12-01T02:03:04Z"
    assert "changed_fields" not in parsed["data"] and b", " not in raw and b": " not in raw
    assert "Nguyễn Thị Mai" in raw.decode()  # UTF-8, not \\u escapes
