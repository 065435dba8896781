"""Editions and entries: rules checked whole, rounds' windows, eligibility, the
entrants told, and who reaches which entry."""

from __future__ import annotations

import pytest

from tests.integration.contests.conftest import technical_entry

pytestmark = pytest.mark.integration


async def test_an_edition_takes_the_usual_rules_and_refuses_incoherent_ones_naming_each_field(contests):
    edition = await contests.edition()
    assert next(f["name"]["vi"] for f in edition["fields"]) == "Công nghệ thông tin, Điện tử, Viễn thông"
    assert [c["code"] for c in edition["criteria"]] == ["novelty", "applicability", "effectiveness"]
    assert edition["timeline"]["screening"]["label"] == {"vi": "Sơ khảo", "en": "Screening"}
    assert edition["timeline"]["scoring"]["open_now"] and edition["aggregation_label"]["vi"] == "Trung bình cộng"
    # Anyone may read editions: the contest's website shows them.
    listed = await contests.call("GET", "/contests/editions", contests.anonymous)
    assert [e["code"] for e in listed["items"]] == ["STKT10"]

    taken = await contests.call(
        "POST",
        "/contests/editions",
        contests.admin,
        409,
        json={"code": "STKT10", "kind": "technical", "name": {"vi": "Trùng mã"}},
    )
    assert taken["field"] == "code" and "STKT10" in taken["detail"]
    bad = await contests.call(
        "PATCH",
        f"/contests/editions/{edition['id']}",
        contests.admin,
        422,
        json={
            "tiers": [
                {"code": "second", "threshold": 70, "quota": 2},
                {"code": "first", "threshold": 90, "quota": 1},
            ],
            "min_judges": 5,
            "judges_per_entry": 3,
        },
    )
    assert {e["field"] for e in bad["errors"]} == {"tiers", "tiers.1.threshold", "min_judges"}
    english = await contests.client.patch(
        f"/contests/editions/{edition['id']}",
        json={"tie_break": ["beauty"]},
        headers={**contests.admin, "Accept-Language": "en"},
    )
    assert english.status == 422 and (await english.json())["errors"][0]["message"] == "There is no criterion beauty"
    # Partners and managers do not run editions.
    await contests.call(
        "POST", "/contests/editions", contests.website, 403, json={"code": "X1", "kind": "youth", "name": {"vi": "x"}}
    )


async def test_entries_are_refused_outside_registration_with_the_rounds_dates(contests):
    edition = await contests.edition(first="screening")
    refused = await contests.call(
        "POST", f"/contests/editions/{edition['id']}/entries", contests.website, 409, json=technical_entry()
    )
    registration = edition["timeline"]["registration"]
    assert refused["type"].endswith("/round-closed") and refused["round"] == "registration"
    assert refused["detail"] == (
        f"Đăng ký dự thi diễn ra từ {registration['opens_at_local']} đến {registration['closes_at_local']} (giờ Việt Nam)"
    )


async def test_eligibility_is_checked_with_each_fault_named(contests):
    edition = await contests.edition()
    body = technical_entry(
        applied_since="2019-05-01",
        field="space",
        history={"previously_entered": True},
        entrant={
            "kind": "individual",
            "authors": [
                {"full_name": "A", "share": 50, "phone": "12"},
                {"full_name": "B"},
            ],
        },
    )
    refused = await contests.call(
        "POST", f"/contests/editions/{edition['id']}/entries", contests.website, 422, json=body
    )
    assert refused["errors"][0]["field"] == "entrant.authors"  # an individual has one author
    body["entrant"] = {"kind": "group", "authors": [{"full_name": "A", "share": 50, "phone": "12"}, {"full_name": "B"}]}
    refused = await contests.call(
        "POST", f"/contests/editions/{edition['id']}/entries", contests.website, 422, json=body
    )
    faults = {e["field"]: e["message"] for e in refused["errors"]}
    assert set(faults) == {"entrant.authors.0.phone", "entrant.authors"}
    body["entrant"] = technical_entry()["entrant"]
    refused = await contests.call(
        "POST", f"/contests/editions/{edition['id']}/entries", contests.website, 422, json=body
    )
    faults = {e["field"]: e["message"] for e in refused["errors"]}
    assert faults["applied_since"] == "Giải pháp phải được áp dụng từ ngày 01/01/2021 trở đi"
    assert faults["history.previously_entered"] == "Giải pháp đã dự thi trước đây không được dự thi lại"
    assert faults["field"].startswith("Lĩnh vực không có trong kỳ thi này: it, mechanics")


async def test_members_are_linked_and_a_title_like_a_past_entry_is_flagged_for_the_board_only(contests, heard):
    await contests.member("m-hung", "Nguyễn Văn Hùng", orgs=["org-nong-nghiep"], email="hung@hoi-nn.vn")
    past = await contests.edition(code="STKT9", number=9)
    await contests.submit(past["id"])
    edition = await contests.edition()
    entry = await contests.submit(
        edition["id"],
        title="Máy sấy lúa dùng năng lượng mặt trời kết hợp sinh khối (cải tiến)",
        entrant={
            "kind": "group",
            "authors": [{"member_id": "m-hung", "share": 70}, {"full_name": "Lê Văn Tám", "share": 30}],
        },
    )
    author = entry["entrant"]["authors"][0]
    assert (author["full_name"], author["email"], author["share"]) == ("Nguyễn Văn Hùng", "hung@hoi-nn.vn", 70)
    assert entry["warnings"] is None  # the website does not see the board's flags
    seen_by_board = await contests.call("GET", f"/contests/entries/{entry['id']}", contests.admin)
    assert [w["code"] for w in seen_by_board["warnings"]] == ["STKT9-0001"]
    # The member's association now reaches the entry; another association does not.
    await contests.call("GET", f"/contests/entries/{entry['id']}", contests.manager("org-nong-nghiep"))
    gone = await contests.call("GET", f"/contests/entries/{entry['id']}", contests.manager("org-co-khi"), 404)
    assert gone["title"] == "Không tìm thấy" and "Hùng" not in str(gone)
    unknown = await contests.call(
        "POST",
        f"/contests/editions/{edition['id']}/entries",
        contests.website,
        422,
        json=technical_entry(entrant={"kind": "group", "authors": [{"member_id": "m-nobody"}]}),
    )
    assert unknown["errors"][0]["field"] == "entrant.authors.0.member_id"
    submitted = await heard.wait_for("entry.submitted", count=2)
    mine = next(e for e in submitted if e.entry.entry_id == entry["id"])
    assert mine.entry.code == "STKT10-0001" and mine.entrants[0].member_id == "m-hung"
    assert mine.entrants[0].email == "hung@hoi-nn.vn" and len(mine.entrants) == 1  # a guest without address is not told


async def test_managers_submit_for_their_organisation_and_list_only_what_they_reach(contests):
    edition = await contests.edition()
    mine = await contests.submit(edition["id"], headers=contests.manager("org-tin-hoc"), field="it")
    assert mine["entrant"]["organization_id"] == "org-tin-hoc"
    await contests.submit(edition["id"], headers=contests.manager("org-co-khi"), field="mechanics")
    await contests.submit(edition["id"])  # a guest group from the website
    outside = await contests.call(
        "POST",
        f"/contests/editions/{edition['id']}/entries",
        contests.manager("org-chi-hoi"),
        422,
        json=technical_entry(
            entrant={"kind": "organization", "organization_id": "org-co-khi", "authors": [{"full_name": "Võ Văn Kiệt"}]}
        ),
    )
    assert outside["errors"][0]["field"] == "entrant.organization_id"
    listed = await contests.call("GET", f"/contests/editions/{edition['id']}/entries", contests.manager("org-tin-hoc"))
    assert [e["code"] for e in listed["items"]] == [mine["code"]]
    everything = await contests.call("GET", f"/contests/editions/{edition['id']}/entries?limit=2", contests.website)
    assert len(everything["items"]) == 2 and everything["next_after"] == everything["items"][1]["code"]
    rest = await contests.call(
        "GET", f"/contests/editions/{edition['id']}/entries?after={everything['next_after']}", contests.website
    )
    assert len(rest["items"]) == 1 and rest["next_after"] is None
    # A judge is no partner: listing is not theirs to call.
    await contests.call("GET", f"/contests/editions/{edition['id']}/entries", contests.judge("an"), 403)


async def test_an_entry_is_corrected_until_it_is_screened(contests):
    edition = await contests.edition()
    entry = await contests.submit(edition["id"])
    fixed = await contests.call(
        "PATCH",
        f"/contests/entries/{entry['id']}",
        contests.website,
        json={"summary": "Sấy 3 tấn lúa mỗi mẻ.", "applied_since": "2022-01-15"},
    )
    assert fixed["summary"] == "Sấy 3 tấn lúa mỗi mẻ." and fixed["applied_since"] == "2022-01-15"
    assert fixed["entrant"]["authors"][1]["share"] == 40
    too_early = await contests.call(
        "PATCH", f"/contests/entries/{entry['id']}", contests.website, 422, json={"applied_since": "2020-01-01"}
    )
    assert too_early["errors"][0]["field"] == "applied_since"
    await contests.screen_in(entry["id"])
    locked = await contests.call(
        "PATCH", f"/contests/entries/{entry['id']}", contests.website, 409, json={"summary": "x"}
    )
    assert locked["detail"] == "Hồ sơ đã qua sơ khảo: không sửa được nữa"


async def test_screening_out_needs_a_reason_and_tells_the_entrants(contests, heard):
    edition = await contests.edition()
    entry = await contests.submit(edition["id"])
    no_reason = await contests.call(
        "POST", f"/contests/entries/{entry['id']}/screening", contests.admin, 422, json={"decision": "out"}
    )
    assert no_reason["errors"][0]["field"] == "decision" or "reason" in str(no_reason)
    out = await contests.call(
        "POST",
        f"/contests/entries/{entry['id']}/screening",
        contests.admin,
        json={"decision": "out", "reason": "Giải pháp chưa được áp dụng vào thực tế"},
    )
    assert out["status"] == "screened_out" and out["screening_reason"] == "Giải pháp chưa được áp dụng vào thực tế"
    assert [h["status"] for h in out["status_history"]] == ["submitted", "screened_out"]
    [told] = await heard.wait_for("entry.screened")
    assert told.decision == "out" and told.reason == "Giải pháp chưa được áp dụng vào thực tế"
    await contests.call(
        "POST",
        f"/contests/entries/{entry['id']}/screening",
        contests.admin,
        409,
        json={"decision": "out", "reason": "lại"},
    )
    back = await contests.call(
        "POST", f"/contests/entries/{entry['id']}/screening", contests.admin, json={"decision": "in"}
    )
    assert back["status"] == "screened_in"
    await contests.call(
        "POST", f"/contests/entries/{entry['id']}/screening", contests.website, 403, json={"decision": "in"}
    )
