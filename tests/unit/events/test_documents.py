"""Documents: reminders' hours, calendar files, spreadsheet safety, QR images."""

from __future__ import annotations

import pytest
from icalendar import Calendar

from services.events.documents import calendar, export, qr_png, qr_svg
from services.events.reminders import event_item_key, parse_hours
from shared.clock import local_time_text as local_text
from shared.tabular import to_csv


def test_reminder_hours_are_read_from_settings_largest_first():
    assert parse_hours("2, 24") == [24.0, 2.0]
    assert event_item_key("e1", 24.0, 1800000000.0) == "event:e1:24h:1800000000"
    with pytest.raises(ValueError):
        parse_hours("24,0")


def test_times_are_shown_in_vietnam():
    assert local_text("2026-11-27T07:30:00Z") == "14:30 27/11/2026"


def test_a_calendar_has_one_entry_per_session_in_utc():
    event = {
        "_id": "e1",
        "title": {"vi": "Hội nghị KH&KT"},
        "status": "published",
        "venue": "Hội trường A",
        "starts_at": "2027-01-05T01:00:00Z",
        "online_url": None,
        "description": {"vi": "Chương trình"},
        "sessions": {
            "s1": {
                "order": 1,
                "starts_at": "2027-01-05T01:00:00Z",
                "ends_at": "2027-01-05T04:00:00Z",
                "title": {"vi": "Khai mạc"},
                "room": "P.1",
            },
            "s2": {
                "order": 2,
                "starts_at": "2027-01-06T01:00:00Z",
                "ends_at": "2027-01-06T04:00:00Z",
                "title": None,
                "room": None,
            },
        },
    }
    cal = Calendar.from_ical(calendar([event], name="x", tickets={"e1": "ABCD-EFGH-JKLM-NPQR"}))
    entries = cal.walk("VEVENT")
    assert [str(e["summary"]) for e in entries] == ["Hội nghị KH&KT – Khai mạc", "Hội nghị KH&KT"]
    assert str(entries[0]["location"]) == "Hội trường A, P.1"
    assert "ABCD-EFGH-JKLM-NPQR" in str(entries[1]["description"])


def test_exports_neutralise_formulas_but_keep_phone_numbers():
    data = to_csv(["a", "b"], [["=1+2", "+84912345678"]]).decode("utf-8-sig")
    assert data.splitlines()[1] == "'=1+2,+84912345678"
    reg = {
        "_id": "r1",
        "status": "confirmed",
        "full_name": "Lý Thường Kiệt",
        "created_at": "2027-01-01T00:00:00Z",
        "checkins": {"s1": "2027-01-05T01:02:00Z"},
    }
    body, media = export("attendance", "xlsx", [reg])
    assert media.endswith("spreadsheetml.sheet") and body[:2] == b"PK"


def test_qr_codes_come_as_png_and_svg():
    assert qr_png("ABCD").startswith(b"\x89PNG")
    assert qr_svg("ABCD").lstrip().startswith(b"<svg")


def test_certificates_find_a_unicode_font_or_say_what_is_missing(monkeypatch):
    from services.events import documents

    assert documents.certificate_font("/nowhere/font.ttf").endswith(".ttf")
    monkeypatch.setattr(documents, "FONT_CANDIDATES", ())
    with pytest.raises(documents.CertificateFontMissing) as err:
        documents.certificate_font("/nowhere/font.ttf")
    assert err.value.status == 503 and err.value.extra["setting"] == "EVENTS_CERTIFICATE_FONT"


def test_a_title_with_a_line_break_makes_a_valid_calendar():
    """Issue 10.7: a title (or venue) with a line break used to make the .ics answer 500."""
    event = {
        "_id": "e2",
        "title": {"vi": "Hội thảo\r\nBEGIN:VEVENT\nX"},
        "status": "published",
        "venue": "Hội trường\nB",
        "starts_at": "2027-01-05T01:00:00Z",
        "sessions": {"s1": {"order": 1, "starts_at": "2027-01-05T01:00:00Z", "ends_at": "2027-01-05T04:00:00Z"}},
    }
    cal = Calendar.from_ical(calendar([event], name=event["title"]["vi"]))
    [entry] = cal.walk("VEVENT")
    assert str(entry["summary"]) == "Hội thảo BEGIN:VEVENT X" and str(entry["location"]) == "Hội trường B"
