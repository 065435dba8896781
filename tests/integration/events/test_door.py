"""At the door and after: check-in, attendance, certificates, QR codes, calendars, exports."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from icalendar import Calendar
from openpyxl import load_workbook

from tests.integration.events.conftest import heard

pytestmark = pytest.mark.integration


async def test_a_ticket_checks_in_once_and_cancelled_or_waitlisted_ones_never(svc):
    event = await svc.event(capacity=2, starts_in=timedelta(minutes=30))
    a = await (await svc.guest(event["id"], 1)).json()
    b = await (await svc.guest(event["id"], 2)).json()
    waiting = await (await svc.guest(event["id"], 3)).json()
    assert waiting["status"] == "waitlisted" and waiting["ticket_code"] is None

    typed = a["ticket_code"].lower().replace("-", " ")  # as a steward types it
    first = await svc.client.post("/checkins", json={"ticket_code": typed}, headers=svc.partner)
    assert first.status == 200, await first.text()
    body = await first.json()
    assert body["session_id"] == "s1" and body["registration"]["full_name"] == "Khách 1"
    second = await svc.client.post("/checkins", json={"ticket_code": a["ticket_code"]}, headers=svc.partner)
    assert second.status == 409
    problem = await second.json()
    assert problem["type"].endswith("/already-checked-in")
    assert problem["detail"].startswith("Vé này đã được điểm danh lúc ")
    assert problem["checked_in_at"] == body["checked_in_at"]

    await svc.client.delete(f"/registrations/{b['id']}", headers=svc.admin)
    refused = await svc.client.post("/checkins", json={"ticket_code": b["ticket_code"]}, headers=svc.partner)
    assert refused.status == 409 and (await refused.json())["registration_status"] == "cancelled"
    unknown = await svc.client.post("/checkins", json={"ticket_code": "AAAA-BBBB-CCCC-DDDD"}, headers=svc.partner)
    assert unknown.status == 404
    wrong = await svc.client.post(
        "/checkins", json={"ticket_code": a["ticket_code"], "session_id": "s9"}, headers=svc.partner
    )
    assert wrong.status == 422 and (await wrong.json())["sessions"] == ["s1"]

    # The waitlisted guest got the freed seat and a ticket, and can now come in.
    promoted = await (await svc.client.get(f"/registrations/{waiting['id']}", headers=svc.admin)).json()
    assert promoted["status"] == "confirmed"
    assert (
        await svc.client.post("/checkins", json={"ticket_code": promoted["ticket_code"]}, headers=svc.partner)
    ).status == 200

    attendance = await (await svc.client.get(f"/events/{event['id']}/attendance", headers=svc.admin)).json()
    assert attendance["attended"] == 2 and attendance["sessions"] == [
        {"session_id": "s1", "starts_at": event["sessions"][0]["starts_at"], "checked_in": 2}
    ]
    checked = await heard(svc.heard, "attendance.checked_in", 2)
    assert {c.ticket_code for c in checked} == {a["ticket_code"], promoted["ticket_code"]}

    for what, rows in (("registrations", 3), ("attendance", 2)):
        resp = await svc.client.get(f"/events/{event['id']}/{what}/export?format=csv", headers=svc.admin)
        assert resp.status == 200 and resp.content_type == "text/csv"
        table = list(csv.reader(io.StringIO((await resp.read()).decode("utf-8-sig"))))
        assert len(table) == rows + 1 and table[0][0] == "Mã đăng ký"
        resp = await svc.client.get(f"/events/{event['id']}/{what}/export?format=xlsx", headers=svc.admin)
        sheet = load_workbook(io.BytesIO(await resp.read())).active
        assert sheet.max_row == rows + 1 and sheet.cell(1, 2).value in ("Trạng thái", "Họ và tên")
    bad = await svc.client.get(f"/events/{event['id']}/attendance/export?format=pdf", headers=svc.admin)
    assert bad.status == 422


async def test_training_certificates_are_issued_once_and_verified_publicly(svc):
    await svc.member("m-1", email="hoa@example.vn", name="Đặng Thị Hoa")
    await svc.member("m-2", name="Phan Văn Khải")
    event = await svc.event(
        kind="training",
        training_hours=6,
        capacity=5,
        starts_in=timedelta(minutes=20),
        title={"vi": "Tập huấn kỹ năng số cho trí thức trẻ"},
    )
    hoa = await (await svc.register(event["id"], {"member_id": "m-1"})).json()
    await svc.register(event["id"], {"member_id": "m-2"})  # registered, never came
    await svc.guest(event["id"], 1)
    await svc.client.post("/checkins", json={"ticket_code": hoa["ticket_code"]}, headers=svc.partner)

    early = await svc.client.post(f"/events/{event['id']}/certificates", headers=svc.admin)
    assert early.status == 409 and (await early.json())["type"].endswith("/not-a-training")
    assert (await svc.client.post(f"/events/{event['id']}/complete", headers=svc.admin)).status == 200
    issued = await (await svc.client.post(f"/events/{event['id']}/certificates", headers=svc.admin)).json()
    assert issued == {"issued": 1, "already_issued": 0}
    again = await (await svc.client.post(f"/events/{event['id']}/certificates", headers=svc.admin)).json()
    assert again == {"issued": 0, "already_issued": 1}

    [cert] = await heard(svc.heard, "certificate.issued", 1)
    assert cert.registrant.full_name == "Đặng Thị Hoa" and cert.hours == 6
    check = await svc.client.get(f"/certificates/{cert.certificate_code.lower()}", headers=svc.anonymous)
    assert check.status == 200
    body = await check.json()
    assert body["valid"] and body["full_name"] == "Đặng Thị Hoa" and body["hours"] == 6
    assert body["event_title"]["vi"] == "Tập huấn kỹ năng số cho trí thức trẻ"
    assert (await svc.client.get("/certificates/CN-AAAA-AAAA-AAAA-AAAA", headers=svc.anonymous)).status == 404

    pdf = await svc.client.get(f"/certificates/{cert.certificate_code}/pdf", headers=svc.anonymous)
    data = await pdf.read()
    assert pdf.status == 200 and pdf.content_type == "application/pdf" and data.startswith(b"%PDF")
    assert b"DejaVu" in data, "a Unicode font is embedded, so Vietnamese renders"


async def test_qr_codes_and_calendars(svc):
    await svc.member("m-cal", email="cal@example.vn")
    event = await svc.event(online_url="https://meet.example.vn/abc")
    reg = await (await svc.register(event["id"], {"member_id": "m-cal"})).json()
    png = await svc.client.get(f"/tickets/{reg['ticket_code']}/qr.png", headers=svc.anonymous)
    assert png.status == 200 and (await png.read()).startswith(b"\x89PNG")
    svg = await svc.client.get(f"/tickets/{reg['ticket_code']}/qr.svg", headers=svc.anonymous)
    assert svg.status == 200 and b"<svg" in await svg.read()
    assert (await svc.client.get("/tickets/NOPE-NOPE-NOPE-NOPE/qr.png", headers=svc.anonymous)).status == 404

    ics = await svc.client.get(f"/events/{event['id']}/calendar.ics", headers=svc.anonymous)
    cal = Calendar.from_ical(await ics.read())
    [entry] = cal.walk("VEVENT")
    assert str(entry["summary"]) == "Hội thảo chuyển đổi số"
    assert entry.decoded("dtstart").isoformat() == event["sessions"][0]["starts_at"].replace("Z", "+00:00")

    [confirmed] = await heard(svc.heard, "registration.confirmed", 1)
    feed_path = confirmed.calendar_url.split("/api/v1", 1)[1]
    feed = await svc.client.get(feed_path, headers=svc.anonymous)
    assert feed.status == 200
    [mine] = Calendar.from_ical(await feed.read()).walk("VEVENT")
    assert reg["ticket_code"] in str(mine["description"])
    forged = await svc.client.get(feed_path.split("?")[0] + "?token=not-the-right-one", headers=svc.anonymous)
    assert forged.status == 403
