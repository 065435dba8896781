"""Who may register, how one person is recognised, and the codes and links they get."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.events.announcements import Links
from services.events.registrants import (
    InvalidIdempotencyKey,
    NotEligible,
    RegistrationIn,
    check_audience,
    holder_keys,
    idempotency_key,
    new_certificate_code,
    new_ticket_code,
    normalise_code,
)
from shared.settings import Settings
from shared.text import normalise_phone


def test_a_guest_is_normalised_and_must_be_reachable():
    reg = RegistrationIn.model_validate(
        {"guest": {"full_name": "  Ngô   Bảo  Châu ", "email": "Chau@Example.VN", "phone": "0912.345.678"}}
    )
    assert (reg.guest.full_name, reg.guest.email, reg.guest.phone) == (
        "Ngô Bảo Châu",
        "chau@example.vn",
        "+84912345678",
    )
    for bad in (
        {"guest": {"full_name": "A"}},
        {"member_id": "m", "guest": {"full_name": "A", "email": "a@b.vn"}},
        {},
        {"guest": {"full_name": "A", "phone": "123"}},
        {"member_id": {"$ne": None}},
    ):
        with pytest.raises(ValidationError):
            RegistrationIn.model_validate(bad)


def test_one_person_has_the_same_keys_however_they_write_their_contact():
    assert holder_keys("e1", email="a@b.vn", phone="+84912345678") == {
        "holder_email": "e1|a@b.vn",
        "holder_phone": "e1|+84912345678",
    }
    assert holder_keys("e1", member_id="m1") == {"holder_member": "e1|m1"}


def test_idempotency_keys_are_scoped_to_event_and_caller_and_must_be_plain():
    assert idempotency_key("e1", "key:portal", "req-1") == "e1|key:portal|req-1"
    with pytest.raises(InvalidIdempotencyKey):
        idempotency_key("e1", "key:portal", "x" * 129)


@pytest.mark.parametrize(
    "audience, member, guest, reason",
    [
        ({"kind": "members"}, None, True, "guest"),
        ({"kind": "members"}, {"status": "lapsed"}, False, "membership_not_active"),
        (
            {"kind": "organizations", "organization_ids": ["o1"]},
            {"status": "active", "organization_tree": ["o2"]},
            False,
            "not_in_listed_organizations",
        ),
    ],
)
def test_restricted_audiences_refuse_with_a_reason(audience, member, guest, reason):
    with pytest.raises(NotEligible) as err:
        check_audience(audience, member, guest=guest)
    assert err.value.extra["reason"] == reason


def test_restricted_audiences_admit_the_right_members():
    check_audience({"kind": "public"}, None, guest=True)
    check_audience({"kind": "members"}, {"status": "active"}, guest=False)
    check_audience(
        {"kind": "organizations", "organization_ids": ["o1"]},
        {"status": "active", "organization_tree": ["o3", "o1"]},
        guest=False,
    )


def test_codes_are_unguessable_and_read_back_however_typed():
    codes = {new_ticket_code() for _ in range(1000)}
    assert len(codes) == 1000
    code = codes.pop()
    assert len(code) == 19 and normalise_code(code.lower().replace("-", " ")) == code
    cert = new_certificate_code()
    assert cert.startswith("CN-") and normalise_code(cert.lower().replace("-", "")) == cert


def test_signed_links_verify_only_for_their_own_value():
    links = Links.from_settings(Settings(internal_identity_secret="x" * 40))
    token = links.cancel_token("reg-1")
    assert links.cancel_token_ok("reg-1", token)
    assert not links.cancel_token_ok("reg-2", token)
    assert not links.calendar_token_ok("reg-1", token), "a cancel link is not a calendar link (purpose)"
    assert not links.cancel_token_ok("reg-1", "không-phải-mã"), "any text a caller sends is refused, not a crash"
    assert len(links.cancel("0" * 32).split("token=")[1]) <= 128, "fits the query's limit"
    assert len(links.member_feed("m" * 64).split("token=")[1]) <= 128


def test_a_guest_with_an_old_eleven_digit_number_is_the_member_with_its_successor():
    """Issue 9: one phone normalisation; the events one missed the pre-2018 prefixes."""
    old = RegistrationIn.model_validate({"guest": {"full_name": "A", "phone": "0168 123 4567"}})
    assert old.guest.phone == normalise_phone("0381234567") == "+84381234567"
    assert holder_keys("e1", phone=old.guest.phone) == holder_keys("e1", phone="+84381234567")
