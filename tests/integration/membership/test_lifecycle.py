"""The membership lifecycle as staff run it: applications reviewed, suspensions,
resignations, renewals with dues, a history of every change, and the events other
services rely on."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

pytestmark = pytest.mark.integration


async def test_an_application_is_announced_then_approved_with_who_and_when(client, admin, signed, federation, events):
    await client.patch(
        f"/organizations/{federation['HOI-Y-HOC']}", headers=admin, json={"contact_email": "vanphong@hoiyhoc.vn"}
    )
    resp = await client.post(
        "/members/applications",
        headers=admin,
        json={
            "full_name": "Phan Thị Mai",
            "email": "mai@example.vn",
            "organization_ids": [federation["HOI-Y-HOC"]],
            "consents": {"email": True, "sms": True},
            "consent_source": "web form",
        },
    )
    assert resp.status == 201
    member = await resp.json()
    assert member["status"] == "applied" and "term" not in member
    assert member["consent_records"]["sms"]["granted"] is True
    assert member["consent_records"]["sms"]["source"] == "web form"
    applied = (await events.wait_for("member.applied", member["id"]))[0]
    assert applied.reviewer_emails == ["vanphong@hoiyhoc.vn"] and applied.email == "mai@example.vn"

    reviewer = signed(sub="staff:hung")
    approved = await (await client.post(f"/members/{member['id']}/approve", headers=reviewer, json={})).json()
    assert approved["status"] == "active" and approved["approved_by"] == "staff:hung"
    assert approved["term"]["start"] < approved["term"]["end"] and approved["dues_state"] == "unpaid"
    welcome = (await events.wait_for("member.approved", member["id"]))[0]
    assert welcome.status == "active" and welcome.consents.sms is True

    again = await client.post(f"/members/{member['id']}/approve", headers=reviewer, json={})
    body = await again.json()
    assert again.status == 409 and body["type"].endswith("/invalid-transition")
    assert body["status_now"] == "active" and "suspend" in body["possible_actions"]


async def test_a_rejected_application_goes_no_further(client, admin):
    member = await (await client.post("/members/applications", headers=admin, json={"full_name": "Lò Văn Khó"})).json()
    rejected = await (
        await client.post(f"/members/{member['id']}/reject", headers=admin, json={"reason": "Không đủ điều kiện"})
    ).json()
    assert rejected["status"] == "rejected"
    assert (await client.post(f"/members/{member['id']}/approve", headers=admin, json={})).status == 409


async def test_suspension_reinstatement_resignation_and_the_history_of_it_all(client, admin, signed, events):
    member = await (
        await client.post("/members", headers=admin, json={"full_name": "Đinh Công Tráng", "phone": "0903 123 456"})
    ).json()
    for action, who in (("suspend", "staff:a"), ("reinstate", "staff:b"), ("resign", "staff:c")):
        resp = await client.post(
            f"/members/{member['id']}/{action}", headers=signed(sub=who), json={"reason": f"lý do {action}"}
        )
        assert resp.status == 200, await resp.text()
    changed = await (
        await client.patch(
            f"/members/{member['id']}",
            headers=admin,
            json={"email": "Trang@Example.vn", "titles": "KS", "consents": {"email": True, "sms": True}},
        )
    ).json()
    assert changed["email"] == "trang@example.vn" and changed["titles"] == ["KS"]
    assert changed["consent_records"]["sms"]["granted"] is True

    history = (await (await client.get(f"/members/{member['id']}/history", headers=admin)).json())["items"]
    assert [(h["action"], h["by"]) for h in history] == [
        ("created", "staff:lan"),
        ("suspend", "staff:a"),
        ("reinstate", "staff:b"),
        ("resign", "staff:c"),
        ("updated", "staff:lan"),
    ]
    assert history[1]["changes"] == {"status": {"from": "active", "to": "suspended"}}
    assert history[1]["note"] == "lý do suspend"
    assert history[4]["changes"]["email"] == {"from": None, "to": "trang@example.vn"}
    assert all(h["at"] for h in history)

    updates = await events.wait_for("member.updated", member["id"], count=4)
    assert [u.status for u in updates] == ["suspended", "active", "resigned", "resigned"]
    assert updates[-1].email == "trang@example.vn" and updates[-1].phone == "+84903123456"
    assert updates[0].changed_fields == ["status"]
    assert updates[-1].changed_fields == ["consents", "email", "titles"]
    assert (await client.post(f"/members/{member['id']}/reinstate", headers=admin, json={})).status == 409


async def test_a_change_to_someone_elses_email_is_refused_naming_them(client, admin):
    first = await (
        await client.post("/members", headers=admin, json={"full_name": "Cao Thị Một", "email": "mot@example.vn"})
    ).json()
    second = await (await client.post("/members", headers=admin, json={"full_name": "Cao Thị Hai"})).json()
    resp = await client.patch(f"/members/{second['id']}", headers=admin, json={"email": "MOT@example.vn"})
    body = await resp.json()
    assert resp.status == 409 and body["field"] == "email" and body["existing_member_id"] == first["id"]
    assert body["existing_member_name"] == "Cao Thị Một"
    resp = await client.patch(f"/members/{second['id']}", headers=admin, json={"phone": "12", "role": "admin"})
    assert resp.status == 422 and {e["field"] for e in (await resp.json())["errors"]} == {"phone", "role"}


async def test_renewal_with_dues_clears_the_unpaid_list_and_is_announced(client, admin, federation, events):
    association = federation["HOI-TIN-HOC"]
    payer, debtor = [
        await (
            await client.post(
                "/members", headers=admin, json={"full_name": name, "organization_ids": [federation["CH-TIN-HOC-TDM"]]}
            )
        ).json()
        for name in ("Vương Đình Trả", "Vương Đình Nợ")
    ]
    unpaid = await (await client.get(f"/organizations/{association}/unpaid-dues", headers=admin)).json()
    assert {m["id"] for m in unpaid["items"]} == {payer["id"], debtor["id"]}

    resp = await client.post(
        f"/members/{payer['id']}/renew",
        headers=admin,
        json={"dues": {"amount_vnd": 200000, "paid_on": "2026-11-20", "receipt_number": "BL-0042"}},
    )
    assert resp.status == 200, await resp.text()
    renewed = await resp.json()
    assert renewed["dues_state"] == "paid"
    assert renewed["term"]["start"] > payer["term"]["end"] or renewed["term"]["start"] == _next_day(
        payer["term"]["end"]
    )
    event = (await events.wait_for("membership.renewed", payer["id"]))[0]
    assert event.dues.amount_vnd == 200000 and event.dues.receipt_number == "BL-0042"
    assert str(event.term_end) == renewed["term"]["end"]

    unpaid = await (await client.get(f"/organizations/{association}/unpaid-dues", headers=admin)).json()
    assert [m["id"] for m in unpaid["items"]] == [debtor["id"]]
    bad = await client.post(
        f"/members/{payer['id']}/renew", headers=admin, json={"term_start": "2027-01-01", "term_end": "2026-01-01"}
    )
    assert bad.status == 422 and (await bad.json())["field"] == "term_end"
    bad = await client.post(f"/members/{payer['id']}/renew", headers=admin, json={"dues": {"amount_vnd": -1}})
    assert bad.status == 422 and {e["field"] for e in (await bad.json())["errors"]} == {
        "dues.amount_vnd",
        "dues.paid_on",
    }


def _next_day(day: str) -> str:
    return (date.fromisoformat(day) + timedelta(days=1)).isoformat()
