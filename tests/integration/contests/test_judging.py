"""Judging that can be trusted: no judge gets an entry they have a conflict with,
judges see only their entries, others' scores stay hidden until one's own sheet is
submitted, and a submitted sheet is reopened only by the board, with the reason."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration

GUEST_AUTHOR = {"kind": "group", "authors": [{"full_name": "Nguyễn Văn Hùng", "email": "hung@example.vn"}]}


async def judging_setup(contests):
    edition = await contests.edition()
    e1 = await contests.submit(
        edition["id"], headers=contests.manager("org-chi-hoi"), title="Phần mềm quản lý trang trại"
    )
    e2 = await contests.submit(edition["id"], entrant=GUEST_AUTHOR, title="Máy gieo hạt tự động bằng khí nén")
    e3 = await contests.submit(edition["id"], headers=contests.manager("org-co-khi"), title="Hệ thống tưới nhỏ giọt")
    await contests.screen_in(e1["id"], e2["id"], e3["id"])
    await contests.seat(edition["id"], "an", "org-tin-hoc")
    await contests.seat(edition["id"], "binh", "org-co-khi")
    for name in ("chi", "dung", "em"):
        await contests.seat(edition["id"], name)
    declared = await contests.call(
        "POST",
        "/contests/judging/conflicts",
        contests.judge("chi"),
        201,
        json={"edition_id": edition["id"], "kind": "relative", "person_name": "nguyen van hung", "note": "Anh rể"},
    )
    assert declared["items"][0]["kind"] == "relative"
    return edition, e1, e2, e3


async def test_no_entry_goes_to_a_judge_with_a_conflict(contests):
    edition, e1, e2, e3 = await judging_setup(contests)
    report = await contests.call("POST", f"/contests/editions/{edition['id']}/assignments", contests.admin, json={})
    pairs = {(p["code"], p["judge"]) for p in report["pairs"]}
    assert report["assigned"] == 9 and report["shortfalls"] == []
    assert (e1["code"], "an") not in pairs  # own association (the entry comes from one of its branches)
    assert (e3["code"], "binh") not in pairs  # own association
    assert (e2["code"], "chi") not in pairs  # a declared relative, matched without diacritics
    judges = {
        j["username"]: j
        for j in (await contests.call("GET", f"/contests/editions/{edition['id']}/judges", contests.admin))["items"]
    }
    assert judges["an"]["organization_name"] == "Hội Tin học tỉnh" and sum(j["assigned"] for j in judges.values()) == 9
    refused = await contests.call(
        "POST", f"/contests/entries/{e1['id']}/assignments", contests.admin, 409, json={"judge": "an"}
    )
    assert refused["conflict"] == "organization" and refused["detail"].endswith("(cùng đơn vị)")
    # Assigning again changes nothing: every entry has its judges.
    again = await contests.call("POST", f"/contests/editions/{edition['id']}/assignments", contests.admin, json={})
    assert again["assigned"] == 0


async def test_a_conflict_declared_later_takes_the_entry_back_and_the_gap_is_filled(contests):
    edition, e1, *_ = await judging_setup(contests)
    await contests.call("POST", f"/contests/editions/{edition['id']}/assignments", contests.admin, json={})
    mine = await contests.call("GET", "/contests/judging/entries", contests.judge("dung"))
    assert e1["id"] in {i["entry_id"] for i in mine["items"]}
    await contests.call(
        "POST",
        "/contests/judging/conflicts",
        contests.judge("dung"),
        201,
        json={"edition_id": edition["id"], "kind": "entry", "entry_id": e1["id"], "note": "Tôi từng tư vấn cho nhóm"},
    )
    await contests.call("GET", f"/contests/judging/entries/{e1['id']}", contests.judge("dung"), 404)
    await contests.call("GET", f"/contests/entries/{e1['id']}", contests.judge("dung"), 404)
    short = await contests.call("POST", f"/contests/editions/{edition['id']}/assignments", contests.admin, json={})
    # Left for E1: an (own association), chi (a relative among its authors), dung (recused); binh and em have it.
    assert short["pairs"] == [] and short["shortfalls"] == [
        {"entry_id": e1["id"], "code": e1["code"], "wanted": 3, "assigned": 2}
    ]
    await contests.seat(edition["id"], "giang")
    topped = await contests.call("POST", f"/contests/editions/{edition['id']}/assignments", contests.admin, json={})
    assert [(p["code"], p["judge"]) for p in topped["pairs"]] == [(e1["code"], "giang")]
    # A judge cannot name an entry they were never given: for them it does not exist.
    await contests.call(
        "POST",
        "/contests/judging/conflicts",
        contests.judge("an"),
        404,
        json={"edition_id": edition["id"], "kind": "entry", "entry_id": e1["id"]},
    )


async def test_judges_see_only_their_entries_without_the_authors_addresses(contests):
    edition, e1, e2, e3 = await judging_setup(contests)
    await contests.call("POST", f"/contests/entries/{e2['id']}/assignments", contests.admin, json={"judge": "an"})
    mine = await contests.call("GET", "/contests/judging/entries", contests.judge("an"))
    assert [i["code"] for i in mine["items"]] == [e2["code"]] and mine["items"][0]["sheet_status"] == "assigned"
    seen = await contests.call("GET", f"/contests/entries/{e2['id']}", contests.judge("an"))
    assert seen["entrant"]["authors"] == [
        {
            "full_name": "Nguyễn Văn Hùng",
            "member_id": None,
            "language": "vi",
            "share": None,
            "school": None,
            "grade": None,
        }
    ]
    for other in (e1, e3):
        await contests.call("GET", f"/contests/entries/{other['id']}", contests.judge("an"), 404)
        await contests.call("GET", f"/contests/judging/entries/{other['id']}", contests.judge("an"), 404)
        await contests.score(other["id"], "an", 20, 20, 30, expect=404)
    # Judges run nothing else: not the ranking, not the exports, not other judges' lists.
    await contests.call("GET", f"/contests/editions/{edition['id']}/ranking", contests.judge("an"), 403)
    await contests.call("GET", f"/contests/editions/{edition['id']}/judges", contests.judge("an"), 403)


async def test_others_scores_stay_hidden_until_ones_own_sheet_is_submitted(contests, heard):
    _edition, _, e2, _ = await judging_setup(contests)
    for name in ("an", "binh", "dung"):
        await contests.call("POST", f"/contests/entries/{e2['id']}/assignments", contests.admin, json={"judge": name})
    view = await contests.score(e2["id"], "an", 25, 20, 35)
    assert view["sheet"]["status"] == "submitted" and view["sheet"]["total"] == 80
    assert view["others_hidden"] is False and view["others"] == []

    draft = await contests.score(e2["id"], "binh", 10, 10, None, submit=False, expect=422)
    assert draft["errors"][0]["field"] == "scores.effectiveness"
    draft = await contests.call(
        "PUT",
        f"/contests/judging/entries/{e2['id']}/sheet",
        contests.judge("binh"),
        json={"scores": {"novelty": 18.5}, "comment": "Cần xem thêm số liệu"},
    )
    assert draft["others_hidden"] is True and draft["others"] == [] and draft["sheet"]["scores"] == {"novelty": 18.5}
    incomplete = await contests.call(
        "PUT",
        f"/contests/judging/entries/{e2['id']}/sheet",
        contests.judge("binh"),
        422,
        json={"scores": {"novelty": 18.5, "applicability": 31, "beauty": 1}, "submit": True},
    )
    assert {e["field"] for e in incomplete["errors"]} == {
        "scores.beauty",
        "scores.applicability",
        "scores.effectiveness",
    }
    looked = await contests.call("GET", f"/contests/judging/entries/{e2['id']}", contests.judge("binh"))
    assert looked["others_hidden"] is True and looked["others"] == []

    view = await contests.score(e2["id"], "binh", 18.5, 22, 30)
    assert view["others"] == [
        {
            "judge_label": {"vi": "Giám khảo 1", "en": "Judge 1"},
            "total": 80.0,
            "scores": {"novelty": 25.0, "applicability": 20.0, "effectiveness": 35.0},
        }
    ]
    assert "an" not in str(view["others"])  # judges stay anonymous to each other
    first = await contests.call("GET", f"/contests/judging/entries/{e2['id']}", contests.judge("an"))
    assert [o["total"] for o in first["others"]] == [70.5]

    await contests.score(e2["id"], "dung", 20, 20, 20)
    [scored] = await heard.wait_for("entry.scored")
    assert scored.entry.code == e2["code"]
    entry = await contests.call("GET", f"/contests/entries/{e2['id']}", contests.website)
    assert entry["status"] == "scored" and entry["result"] is None  # the entrant sees no score


async def test_a_submitted_sheet_is_reopened_only_by_the_board_with_its_reason(contests):
    _edition, _, e2, _ = await judging_setup(contests)
    await contests.call("POST", f"/contests/entries/{e2['id']}/assignments", contests.admin, json={"judge": "dung"})
    await contests.score(e2["id"], "dung", 25, 20, 35)
    changed = await contests.score(e2["id"], "dung", 5, 5, 5, expect=409)
    assert changed["detail"] == "Phiếu chấm đã nộp: chỉ Ban Tổ chức mở lại được"
    short = await contests.call(
        "POST", f"/contests/entries/{e2['id']}/sheets/dung/reopen", contests.admin, 422, json={"reason": "sai"}
    )
    assert short["errors"][0]["field"] == "reason"
    await contests.call(
        "POST",
        f"/contests/entries/{e2['id']}/sheets/dung/reopen",
        contests.judge("dung"),
        403,
        json={"reason": "Tôi muốn sửa điểm của mình"},
    )
    reopened = await contests.call(
        "POST",
        f"/contests/entries/{e2['id']}/sheets/dung/reopen",
        contests.admin,
        json={"reason": "Giám khảo nhập nhầm điểm tiêu chí hiệu quả"},
    )
    assert reopened["status"] == "reopened" and reopened["reopen_reasons"] == [
        "Giám khảo nhập nhầm điểm tiêu chí hiệu quả"
    ]
    fixed = await contests.score(e2["id"], "dung", 25, 20, 30)
    assert fixed["sheet"]["total"] == 75 and fixed["sheet"]["reopen_reasons"] == [
        "Giám khảo nhập nhầm điểm tiêu chí hiệu quả"
    ]
    await contests.call(
        "POST",
        f"/contests/entries/{e2['id']}/sheets/nobody/reopen",
        contests.admin,
        404,
        json={"reason": "Không có phiếu này đâu"},
    )


async def test_scoring_is_refused_outside_the_scoring_round(contests):
    edition, _, e2, _ = await judging_setup(contests)
    await contests.call("POST", f"/contests/entries/{e2['id']}/assignments", contests.admin, json={"judge": "dung"})
    await contests.rounds(edition["id"], "decision")
    late = await contests.score(e2["id"], "dung", 25, 20, 35, expect=409)
    assert late["round"] == "scoring" and late["detail"].startswith("Chung khảo diễn ra từ")
