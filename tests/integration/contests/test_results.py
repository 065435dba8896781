"""From score sheets to prizes: tiers with quotas, disagreement, overrides with
reasons, a judge withdrawing, publication that tells every entrant, the public list,
the award decision and certificates, exports, forwarding and erasure."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from shared.contracts import MemberErased, new_event
from tests.support import eventually
from tests.support.bus import make_bus

pytestmark = pytest.mark.integration

TIERS = [
    {"code": "first", "threshold": 85, "quota": 1, "prize_vnd": 20_000_000},
    {"code": "second", "threshold": 75, "quota": 1, "prize_vnd": 15_000_000},
    {"code": "third", "threshold": 65, "quota": 2, "prize_vnd": 10_000_000},
    {"code": "honourable", "threshold": 50, "prize_vnd": 5_000_000},
]
# Each entry's sheets by judge: (novelty, applicability, effectiveness); totals in the comments.
SHEETS = {
    "E1": {"an": (28, 27, 36), "binh": (28, 27, 36), "chi": (28, 27, 36)},  # 91 91 91
    "E2": {"an": (27, 26, 35), "binh": (27, 26, 35), "chi": (27, 26, 35)},  # 88 88 88
    "E3": {"an": (28, 28, 38), "binh": (20, 20, 26), "chi": (24, 24, 32)},  # 94 66 80: judges disagree
    "E4": {"an": (21, 21, 28), "binh": (21, 21, 28), "chi": (21, 21, 28)},  # 70
    "E5": {"an": (20, 20, 27), "binh": (20, 20, 27), "chi": (20, 20, 27)},  # 67
}


async def scored_edition(contests):
    """An edition of five scored entries; E1 by a member."""
    await contests.member("m-hung", "Nguyễn Văn Hùng", orgs=["org-nong-nghiep"], email="hung@hoi-nn.vn")
    edition = await contests.edition(tiers=TIERS, national_contest="Hội thi Sáng tạo kỹ thuật toàn quốc lần thứ 17")
    entries = {}
    for n, name in enumerate(SHEETS, start=1):
        authors = (
            [{"member_id": "m-hung"}] if name == "E1" else [{"full_name": f"Tác giả {n}", "email": f"tg{n}@example.vn"}]
        )
        entries[name] = await contests.submit(
            edition["id"],
            title=f"Giải pháp số {n} về cơ giới hóa nông nghiệp",
            entrant={"kind": "group", "authors": authors},
        )
    await contests.screen_in(*(e["id"] for e in entries.values()))
    for judge in ("an", "binh", "chi"):
        await contests.seat(edition["id"], judge)
    await contests.call("POST", f"/contests/editions/{edition['id']}/assignments", contests.admin, json={})
    for name, sheets in SHEETS.items():
        for judge, scores in sheets.items():
            await contests.score(entries[name]["id"], judge, *scores)
    return edition, entries


SCORE_KEYS = {"scores", "total", "final_score", "judges_score", "criteria_scores", "judges", "override", "spread"}


def keys(value) -> set[str]:
    """Every key anywhere in a JSON answer."""
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys(v)}
    return set()


def by_code(ranking, entries):
    codes = {e["code"]: name for name, e in entries.items()}
    return {codes[i["code"]]: i for i in ranking["items"]}


async def test_tiers_follow_thresholds_then_quotas_and_overrides_show_their_reason(contests, heard):
    edition, entries = await scored_edition(contests)
    path = f"/contests/editions/{edition['id']}/ranking"
    placed = by_code(await contests.call("GET", path, contests.admin), entries)
    assert {n: (p["rank"], p["final_score"], p["tier"]) for n, p in placed.items()} == {
        "E1": (1, 91, "first"),
        "E2": (2, 88, "second"),  # reached 85, but the one first prize is taken
        "E3": (3, 80, "third"),  # reached 75, but the one second prize is taken
        "E4": (4, 70, "third"),
        "E5": (5, 67, "honourable"),  # reached 65, but both third prizes are taken
    }
    assert placed["E2"]["explanation"] == ["Đủ điểm Giải Nhất nhưng Giải Nhất đã đủ 1 suất: xuống giải dưới"]
    assert placed["E3"]["spread"] == 28 and placed["E3"]["look_again"] and placed["E3"]["stddev"] == 11.43
    assert placed["E3"]["judges"] == [
        {"judge": "an", "total": 94},
        {"judge": "binh", "total": 66},
        {"judge": "chi", "total": 80},
    ]
    worst = await contests.call("GET", f"{path}?sort=disagreement", contests.admin)
    assert worst["items"][0]["code"] == entries["E3"]["code"]
    tiers = {t["tier"]: (t["awarded"], t["quota"]) for t in worst["tiers"]}
    assert tiers == {"first": (1, 1), "second": (1, 1), "third": (2, 2), "honourable": (1, None)}

    short = await contests.call(
        "PUT",
        f"/contests/entries/{entries['E4']['id']}/override",
        contests.admin,
        422,
        json={"tier": "none", "reason": "trùng"},
    )
    assert short["errors"][0]["field"] == "reason"
    reason = "Trùng với giải pháp đã đạt giải Hội thi lần thứ IX"
    await contests.call(
        "PUT",
        f"/contests/entries/{entries['E4']['id']}/override",
        contests.admin,
        json={"tier": "none", "reason": reason},
    )
    placed = by_code(await contests.call("GET", path, contests.admin), entries)
    assert placed["E4"]["tier"] is None and placed["E4"]["tier_by_rules"] == "third"
    assert placed["E4"]["override"]["reason"] == reason and placed["E4"]["explanation"][0].endswith(reason)
    assert placed["E5"]["tier"] == "third"  # the place E4 left
    english = await contests.client.get(path, headers={**contests.admin, "Accept-Language": "en"})
    e4 = next(i for i in (await english.json())["items"] if i["code"] == entries["E4"]["code"])
    assert e4["explanation"][0] == f"The organising board decided: No prize. Reason: {reason}"

    # Nobody but the board has seen a score so far.
    for who in (contests.website, contests.manager("org-nong-nghiep")):
        seen = await contests.call("GET", f"/contests/entries/{entries['E1']['id']}", who)
        assert seen["result"] is None and not keys(seen) & SCORE_KEYS
    await contests.call("GET", path, contests.website, 403)
    await contests.call("GET", f"/contests/editions/{edition['id']}/results", contests.anonymous, 404)

    await contests.rounds(edition["id"], "decision", "forwarding")
    published = await contests.call("POST", f"/contests/editions/{edition['id']}/publish", contests.admin)
    assert (published["awarded"], published["not_awarded"]) == (4, 1)
    [announced] = await heard.wait_for("contest.results_published")
    assert announced.awarded == {"first": 1, "second": 1, "third": 2} and announced.entries_ranked == 5
    awarded = await heard.wait_for("entry.awarded", count=4)
    [not_awarded] = await heard.wait_for("entry.not_awarded")
    assert not_awarded.entry.code == entries["E4"]["code"] and not_awarded.final_score == 70
    first = next(a for a in awarded if a.tier == "first")
    assert (first.tier_vi, first.prize_vnd, first.entrants[0].email) == ("Giải Nhất", 20_000_000, "hung@hoi-nn.vn")
    assert first.results_url == f"https://lienhiep.example.vn/api/v1/contests/editions/{edition['id']}/results"

    public = await contests.call("GET", f"/contests/editions/{edition['id']}/results", contests.anonymous)
    assert [(i["code"], i["tier"]) for i in public["items"]] == [
        (entries["E1"]["code"], "first"),
        (entries["E2"]["code"], "second"),
        (entries["E3"]["code"], "third"),
        (entries["E5"]["code"], "third"),
    ]
    assert public["items"][0]["authors"] == ["Nguyễn Văn Hùng"] and not keys(public) & {"judges", "scores"}
    seen = await contests.call("GET", f"/contests/entries/{entries['E2']['id']}", contests.website)
    assert seen["status"] == "awarded" and seen["result"]["tier_label"]["vi"] == "Giải Nhì"
    assert seen["result"]["final_score"] == 88 and not keys(seen) & {"judges", "scores", "criteria_scores"}
    # Published is final: no more overrides, scores or panel changes; publishing again changes nothing.
    await contests.call("DELETE", f"/contests/entries/{entries['E4']['id']}/override", contests.admin, 409)
    again = await contests.call("POST", f"/contests/editions/{edition['id']}/publish", contests.admin)
    assert again["published_at"] == published["published_at"]
    frozen = await contests.call("GET", path, contests.admin)
    assert frozen["published"] and by_code(frozen, entries)["E4"]["tier"] is None


async def test_a_judge_leaving_recomputes_the_ranking_and_publication_waits_for_complete_sheets(contests):
    edition, entries = await scored_edition(contests)
    path = f"/contests/editions/{edition['id']}/ranking"
    await contests.call(
        "POST",
        f"/contests/editions/{edition['id']}/judges/an/withdraw",
        contests.admin,
        json={"reason": "Giám khảo xin rút vì lý do sức khỏe"},
    )
    placed = by_code(await contests.call("GET", path, contests.admin), entries)
    assert all(not p["complete"] and p["rank"] is None for p in placed.values())
    assert placed["E3"]["explanation"] == ["Chưa đủ phiếu chấm: 2/3"]
    await contests.rounds(edition["id"], "scoring", "decision")
    blocked = await contests.call("POST", f"/contests/editions/{edition['id']}/publish", contests.admin, 409)
    assert blocked["detail"] == "Chưa công bố được: 5 hồ sơ chưa đủ phiếu chấm, 0 phiếu chấm chưa nộp"

    await contests.seat(edition["id"], "dung")
    topped = await contests.call("POST", f"/contests/editions/{edition['id']}/assignments", contests.admin, json={})
    assert {p["judge"] for p in topped["pairs"]} == {"dung"} and topped["assigned"] == 5
    for name, sheets in SHEETS.items():
        await contests.score(entries[name]["id"], "dung", *(sheets["binh"] if name == "E3" else sheets["chi"]))
    placed = by_code(await contests.call("GET", path, contests.admin), entries)
    # E3 without the withdrawn judge's 94: (66 + 80 + 66) / 3 = 70.67
    assert placed["E3"]["final_score"] == 70.67 and placed["E3"]["tier"] == "third"
    assert placed["E3"]["judges"] == [
        {"judge": "binh", "total": 66},
        {"judge": "chi", "total": 80},
        {"judge": "dung", "total": 66},
    ]
    again = by_code(await contests.call("GET", path, contests.admin), entries)
    assert again == placed  # the same inputs give the same ranking
    await contests.call("POST", f"/contests/editions/{edition['id']}/publish", contests.admin)


async def test_the_decision_certificates_exports_forwarding_and_erasure(contests, heard, settings):
    edition, entries = await scored_edition(contests)
    eid = edition["id"]
    await contests.rounds(eid, "decision", "forwarding")
    draft = await contests.client.get(f"/contests/editions/{eid}/decision", headers=contests.admin)
    assert draft.status == 200 and draft.content_type == "application/pdf"
    draft_pdf = await draft.read()
    assert draft_pdf.startswith(b"%PDF-") and len(draft_pdf) > 5000
    await contests.call("POST", f"/contests/editions/{eid}/certificates", contests.admin, 409)  # not published yet
    await contests.call("POST", f"/contests/editions/{eid}/publish", contests.admin)
    final_pdf = await (await contests.client.get(f"/contests/editions/{eid}/decision", headers=contests.admin)).read()
    assert final_pdf.startswith(b"%PDF-") and final_pdf != draft_pdf

    issued = await contests.call("POST", f"/contests/editions/{eid}/certificates", contests.admin)
    assert issued == {"issued": 5, "already_issued": 0}  # five prizes: E5 is honourable here
    assert (await contests.call("POST", f"/contests/editions/{eid}/certificates", contests.admin)) == {
        "issued": 0,
        "already_issued": 5,
    }
    certificates = await heard.wait_for("award.issued", count=5)
    mine = next(c for c in certificates if c.entry.code == entries["E1"]["code"])
    code = mine.certificate_code
    assert mine.verify_url == f"https://lienhiep.example.vn/api/v1/contests/certificates/{code}"
    checked = await contests.call("GET", f"/contests/certificates/{code}", contests.anonymous)
    assert checked["valid"] and checked["tier_label"]["vi"] == "Giải Nhất" and checked["authors"] == ["Nguyễn Văn Hùng"]
    pdf = await contests.client.get(f"/contests/certificates/{code}/pdf", headers=contests.anonymous)
    assert pdf.status == 200 and (await pdf.read()).startswith(b"%PDF-")
    await contests.call("GET", "/contests/certificates/STKT10-NOTREAL1", contests.anonymous, 404)

    forwarded = await contests.call(
        "POST", f"/contests/entries/{entries['E1']['id']}/forward", contests.admin, json={"note": "Gửi kèm hồ sơ gốc"}
    )
    assert forwarded["status"] == "forwarded"
    [sent_on] = await heard.wait_for("entry.forwarded")
    assert sent_on.national_contest == "Hội thi Sáng tạo kỹ thuật toàn quốc lần thứ 17"
    refused = await contests.call(
        "POST", f"/contests/entries/{entries['E1']['id']}/forward", contests.admin, 409, json={}
    )
    assert refused["type"].endswith("/invalid-transition")

    ranking = await contests.client.get(f"/contests/editions/{eid}/exports/ranking", headers=contests.admin)
    sheet = load_workbook(io.BytesIO(await ranking.read())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("Nhóm", "Hạng", "Mã hồ sơ", "Tên giải pháp") and len(rows) == 6
    assert rows[1][2] == entries["E1"]["code"] and rows[1][14] == "Giải Nhất"
    sheets = await contests.client.get(
        f"/contests/editions/{eid}/exports/score-sheets?judge=binh", headers=contests.admin
    )
    rows = list(load_workbook(io.BytesIO(await sheets.read())).active.iter_rows(values_only=True))
    assert rows[0][4:7] == ("Tính mới, tính sáng tạo", "Khả năng áp dụng", "Hiệu quả kinh tế – xã hội")
    assert {r[0] for r in rows[1:]} == {"binh"} and len(rows) == 6
    per_entry = await contests.client.get(
        f"/contests/editions/{eid}/exports/entry-scores?format=csv", headers={**contests.admin, "Accept-Language": "en"}
    )
    text = (await per_entry.read()).decode("utf-8-sig")
    assert text.splitlines()[0].startswith("Entry,Title,Field,Judge,Novelty and creativity") and "Aggregate" in text
    dossier = await contests.client.get(f"/contests/editions/{eid}/exports/forwarded", headers=contests.admin)
    rows = list(load_workbook(io.BytesIO(await dossier.read())).active.iter_rows(values_only=True))
    assert len(rows) == 2 and rows[1][0] == entries["E1"]["code"] and rows[1][7] == "hung@hoi-nn.vn"

    followup = await contests.call(
        "PUT",
        f"/contests/entries/{entries['E1']['id']}/follow-up",
        contests.admin,
        json={
            "potential": "Có thể sản xuất hàng loạt cho các HTX",
            "contacts": [{"full_name": "Nguyễn Văn Hùng", "phone": "0912 345 678"}],
            "support": [
                {"kind": "patent", "state": "in_progress", "note": "Nộp đơn tại Cục SHTT"},
                {"kind": "investor"},
            ],
        },
    )
    assert followup["contacts"][0]["phone"] == "+84912345678" and [s["kind"] for s in followup["support"]] == [
        "investor",
        "patent",
    ]
    listed = await contests.call("GET", "/contests/follow-ups?state=open", contests.admin)
    assert [f["entry_code"] for f in listed["items"]] == [entries["E1"]["code"]]

    publisher = make_bus(settings, "membership-stand-in")
    await publisher.start()
    try:
        await publisher.publish(new_event(MemberErased(member_id="m-hung"), producer="membership"))
    finally:
        await publisher.close()

    async def forgotten():
        results = await contests.call("GET", f"/contests/editions/{eid}/results", contests.anonymous)
        return results["items"][0]["authors"] == ["—"]

    await eventually(forgotten, what="the erased member's name gone from the public results")
    entry = await contests.call("GET", f"/contests/entries/{entries['E1']['id']}", contests.admin)
    assert entry["entrant"]["authors"][0]["full_name"] == "—" and "hung@hoi-nn.vn" not in str(entry)
    assert entry["result"]["tier"] == "first"  # the prize stays, the name goes
