from datetime import date

from services.notifications.catalogue import ROUTES, format_when, pseudonym, recipients
from shared.contracts import CONTRACTS, MemberApplied, MembershipRenewed, parse_data
from tests.fakes.notification_events import SEMINAR, event_of, registrant


def test_every_routed_event_type_is_a_published_contract():
    assert set(ROUTES) <= set(CONTRACTS)


def test_times_are_shown_in_vietnam_time():
    assert format_when(SEMINAR.starts_at, "vi") == "08:30 ngày 15/12/2026"
    assert format_when(SEMINAR.starts_at, "en") == "15 Dec 2026, 08:30"


def test_reviewers_are_written_to_once_each_and_named_by_pseudonym():
    data = MemberApplied(
        member_id="m-1", full_name="Lê Văn Tám", status="pending", reviewer_emails=["a@hoi.vn", "a@hoi.vn", "b@hoi.vn"]
    )
    people = recipients(ROUTES["member.applied"][0], data)
    assert [p.email for p in people] == ["a@hoi.vn", "b@hoi.vn"]
    assert people[0].recipient_id == pseudonym("staff", "a@hoi.vn") and "@" not in people[0].recipient_id
    assert people[0].context["applicant"]["full_name"] == "Lê Văn Tám"


def test_a_guest_gets_a_stable_pseudonym_and_a_confirmation_carries_the_qr():
    who = registrant(registration_id="r-42")
    event = event_of("registration.confirmed", who=who)
    [person] = recipients(ROUTES["registration.confirmed"][0], parse_data(event))
    assert person.recipient_id == pseudonym("guest", "r-42") and person.member_id is None
    assert person.attachments == {"qr": "HT-7K3M9Q"}
    assert person.context["event"]["title"] == "Hội thảo Chuyển đổi số"


def test_renewal_context_formats_money_and_days():
    data = MembershipRenewed(
        member_id="m",
        full_name="A",
        status="active",
        term_start=date(2027, 1, 1),
        term_end=date(2027, 12, 31),
        dues={"amount_vnd": 1200000, "paid_on": date(2026, 12, 1)},
    )
    [person] = recipients(ROUTES["membership.renewed"][0], data)
    assert person.context["dues"]["amount"] == "1.200.000" and person.context["term_end"] == "31/12/2027"
