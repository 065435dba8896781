"""What a valid event is, and how its lifecycle and registration window decide."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from services.events.programme import (
    EventIn,
    InvalidTransition,
    RegistrationNotOpen,
    current_session,
    ensure_registration_open,
    next_status,
    session_docs,
    timing_fields,
    window_fields,
)
from shared.clock import epoch

START = datetime(2027, 3, 8, 1, 0, tzinfo=UTC)


def event_in(**changes) -> EventIn:
    body = {
        "kind": "training",
        "title": {"vi": "Tập huấn"},
        "organizer": "LHH",
        "capacity": 30,
        "venue": "Hội trường",
        "sessions": [{"starts_at": START.isoformat(), "ends_at": (START + timedelta(hours=4)).isoformat()}],
    }
    return EventIn.model_validate({**body, **changes})


def fields_at_fault(**changes) -> set[str]:
    with pytest.raises(ValidationError) as err:
        event_in(**changes)
    return {".".join(str(p) for p in e["loc"]) for e in err.value.errors()}


def test_an_event_needs_a_vietnamese_title_a_place_and_sessions_that_end_after_they_start():
    assert "title.vi" in fields_at_fault(title={"en": "Only English"})
    assert fields_at_fault(venue=None) == {""}
    assert "sessions.0" in fields_at_fault(sessions=[{"starts_at": START.isoformat(), "ends_at": START.isoformat()}])
    assert "sessions" in fields_at_fault(sessions=[])
    assert fields_at_fault(kind="seminar", training_hours=3) == {""}
    assert "audience" in fields_at_fault(audience={"kind": "organizations"})
    assert "online_url" in fields_at_fault(online_url="not a link")


def test_a_registration_window_must_open_before_it_closes_and_close_before_the_end():
    assert fields_at_fault(
        registration_opens_at=START.isoformat(), registration_closes_at=(START - timedelta(days=1)).isoformat()
    ) == {""}
    assert fields_at_fault(registration_closes_at=(START + timedelta(days=1)).isoformat()) == {""}


def test_times_without_a_zone_are_vietnamese_local_time():
    event = event_in(sessions=[{"starts_at": "2027-03-08T08:00:00", "ends_at": "2027-03-08T11:30:00"}])
    assert event.sessions[0].starts_at == START


def test_sessions_are_stored_as_a_map_in_time_order_with_derived_first_start_and_last_end():
    later = {
        "starts_at": (START + timedelta(days=1)).isoformat(),
        "ends_at": (START + timedelta(days=1, hours=2)).isoformat(),
    }
    event = event_in(
        sessions=[later, {"starts_at": START.isoformat(), "ends_at": (START + timedelta(hours=3)).isoformat()}]
    )
    sessions = session_docs(event.sessions)
    assert list(sessions) == ["s1", "s2"] and sessions["s1"]["starts_at"] == START  # stored as a datetime
    timing = timing_fields(sessions)
    assert timing["first_start"] == epoch(START) and timing["ends_at"] == START + timedelta(days=1, hours=2)


@pytest.mark.parametrize(
    "current, action, expected",
    [
        ("draft", "publish", "published"),
        ("published", "close_registration", "registration_closed"),
        ("registration_closed", "publish", "published"),
        ("registration_closed", "complete", "completed"),
        ("published", "cancel", "cancelled"),
        ("draft", "cancel", "cancelled"),
    ],
)
def test_the_lifecycle_allows(current, action, expected):
    assert next_status(current, action) == expected


@pytest.mark.parametrize(
    "current, action",
    [("draft", "complete"), ("completed", "cancel"), ("cancelled", "publish"), ("completed", "publish")],
)
def test_the_lifecycle_refuses(current, action):
    with pytest.raises(InvalidTransition):
        next_status(current, action)


def doc(status="published", opens=None, closes=None):
    sessions = session_docs(event_in().sessions)
    return {"status": status, "sessions": sessions, **timing_fields(sessions), **window_fields(opens, closes)}


def test_only_published_events_inside_their_window_take_registrations():
    now = epoch(START - timedelta(days=2))
    ensure_registration_open(doc(), now)
    for d, reason in (
        (doc("draft"), "status"),
        (doc("registration_closed"), "status"),
        (doc(opens=START - timedelta(days=1)), "not_yet_open"),
        (doc(closes=START - timedelta(days=3)), "closed"),
    ):
        with pytest.raises(RegistrationNotOpen) as err:
            ensure_registration_open(d, now)
        assert err.value.extra["reason"] == reason
    with pytest.raises(RegistrationNotOpen):
        ensure_registration_open(doc(), epoch(START + timedelta(days=1)))


def test_a_check_in_counts_for_the_session_under_way_or_the_next():
    two = {
        "s1": {"order": 1, "starts_at": "2027-03-08T01:00:00Z", "ends_at": "2027-03-08T04:00:00Z"},
        "s2": {"order": 2, "starts_at": "2027-03-09T01:00:00Z", "ends_at": "2027-03-09T04:00:00Z"},
    }
    event = {"sessions": two}
    assert current_session(event, epoch(START - timedelta(hours=1))) == "s1"
    assert current_session(event, epoch(START + timedelta(hours=6))) == "s2"
    assert current_session(event, epoch(START + timedelta(days=1, hours=2))) == "s2"
    assert current_session(event, epoch(START + timedelta(days=5))) == "s2"
