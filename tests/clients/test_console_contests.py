"""The contest screens in a real headless Chromium against the platform as processes:
a judge scores on a phone (seeing others' scores only after their own sheet is in),
the board reads the ranking on a laptop, looks again where judges disagree and
overrides a prize with its reason. Each screen passes axe-core and the CSP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.clients.conftest import name_tag, run
from tests.clients.test_console import (  # noqa: F401  (fixtures)
    LAPTOP,
    PHONE,
    Staff,
    _delete_the_queues_this_test_declared,
    admin,
    browser,
)

pytestmark = pytest.mark.e2e
JUDGE_PASSWORD = "mat-khau-giam-khao-2027"


def open_rounds() -> dict[str, dict[str, str]]:
    now = datetime.now(UTC)
    window = {"opens_at": (now - timedelta(hours=1)).isoformat(), "closes_at": (now + timedelta(days=30)).isoformat()}
    rounds = ("registration", "submission", "screening", "scoring", "decision", "ceremony", "forwarding")
    return {name: window for name in rounds}


def a_scored_edition(gateway_url: str, admin_token: str) -> dict[str, str]:
    """Through the API: an edition, two entries screened in, three judges assigned, two sheets in."""
    tag = name_tag()
    judges = [f"gk.{tag}.{n}" for n in ("an", "binh", "chi")]

    async def work(api):
        edition = await api.call(
            "POST",
            "/contests/editions",
            json_body={
                "code": f"T{tag.upper()}",
                "kind": "technical",
                "number": 10,
                "name": {"vi": f"Hội thi Sáng tạo kỹ thuật {tag}", "en": f"Technical Creativity Contest {tag}"},
                "timeline": open_rounds(),
                "eligibility": {"applied_since": "2021-01-01"},
            },
        )
        entries = []
        for title in ("Máy sấy lúa dùng năng lượng mặt trời", "Hệ thống tưới nhỏ giọt tự động"):
            entries.append(
                await api.call(
                    "POST",
                    f"/contests/editions/{edition['id']}/entries",
                    json_body={
                        "title": title,
                        "field": "agriculture",
                        "summary": "Giải pháp đã áp dụng tại HTX.",
                        "applied_since": "2023-03-01",
                        "entrant": {"kind": "individual", "authors": [{"full_name": f"Tác giả {tag}"}]},
                    },
                )
            )
        for entry in entries:
            await api.call("POST", f"/contests/entries/{entry['id']}/screening", json_body={"decision": "in"})
        for judge in judges:
            await api.create_staff({"username": judge, "password": JUDGE_PASSWORD, "role": "judge"})
            await api.call(
                "PUT",
                f"/contests/editions/{edition['id']}/judges/{judge}",
                json_body={"full_name": f"TS. {judge}", "fields": ["agriculture"]},
            )
        await api.call("POST", f"/contests/editions/{edition['id']}/assignments", json_body={})
        return edition, entries

    edition, entries = run(work, gateway_url, admin_token)
    scores = {judges[1]: ((27, 26, 36), (10, 12, 15)), judges[2]: ((25, 24, 30), (28, 27, 38))}
    for judge, sheets in scores.items():
        token = run(lambda api, j=judge: api.login(j, JUDGE_PASSWORD), gateway_url).access_token
        for entry, (n, a, e) in zip(entries, sheets, strict=True):
            run(
                lambda api, en=entry, n=n, a=a, e=e: api.score_entry(
                    en["id"], {"novelty": n, "applicability": a, "effectiveness": e}, None, True
                ),
                gateway_url,
                token,
            )
    return {"edition": edition["id"], "first": entries[0]["id"], "second": entries[1]["id"], "judge": judges[0]}


def test_a_judge_scores_on_a_phone_and_sees_others_only_after_submitting(browser, gateway_url, admin_token):  # noqa: F811
    made = a_scored_edition(gateway_url, admin_token)
    judge = Staff(browser, gateway_url, PHONE)
    judge.go("/login")
    judge.page.get_by_label("Tên đăng nhập").fill(made["judge"])
    judge.page.get_by_label("Mật khẩu").fill(JUDGE_PASSWORD)
    judge.page.get_by_role("button", name="Đăng nhập").click()
    page = judge.page
    expect(page.get_by_role("heading", level=1)).to_have_text("Chấm giải")  # a judge's day starts at their sheets
    expect(page.get_by_role("link", name="Chấm giải")).to_be_visible()
    expect(page.get_by_role("link", name="Hội viên")).to_have_count(0)
    judge.check("contests-judging-phone")

    page.get_by_role("link", name="Máy sấy lúa dùng năng lượng mặt trời").click()
    expect(page.get_by_text("Sẽ hiện sau khi Anh/Chị nộp phiếu chấm của mình.")).to_be_visible()
    page.get_by_label("Điểm").nth(0).fill("26.5")
    page.get_by_role("button", name="Nộp phiếu chấm").click()  # two criteria left unscored: the API says which
    expect(page.locator("#problem")).to_be_visible()
    expect(page.locator("#err-scores\\.applicability")).to_have_text("Cần chấm tiêu chí này trước khi nộp")
    expect(page.get_by_label("Điểm").nth(0)).to_have_value("26.5")  # what was typed stays
    page.get_by_label("Điểm").nth(1).fill("25")
    page.get_by_label("Điểm").nth(2).fill("35")
    page.get_by_label("Nhận xét").fill("Giải pháp thiết thực, số liệu tiết kiệm rõ ràng.")
    judge.check("contests-sheet-phone")
    page.get_by_role("button", name="Nộp phiếu chấm").click()
    expect(page.get_by_role("status")).to_have_text("Đã nộp phiếu chấm.")
    expect(page.get_by_text("Tổng 86,5 điểm")).to_be_visible()
    table = page.get_by_role("table")
    expect(table).to_contain_text("Giám khảo 1")
    expect(table).to_contain_text("89")  # another judge's total, without their name
    judge.check("contests-sheet-submitted-phone")
    judge.close()


def test_the_board_ranks_looks_again_and_overrides_with_a_reason(admin, gateway_url, admin_token):  # noqa: F811
    made = a_scored_edition(gateway_url, admin_token)
    judge_token = run(lambda api: api.login(made["judge"], JUDGE_PASSWORD), gateway_url).access_token
    for entry, scores in ((made["first"], (26, 25, 35)), (made["second"], (20, 20, 25))):
        run(
            lambda api, en=entry, s=scores: api.score_entry(
                en, dict(zip(("novelty", "applicability", "effectiveness"), s, strict=True)), None, True
            ),
            gateway_url,
            judge_token,
        )
    page = admin.go("/contests")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hội thi sáng tạo")
    admin.check("contests-editions")
    page.get_by_role("link", name=f"Hội thi Sáng tạo kỹ thuật {made['judge'].split('.')[1]}").click()
    expect(page.get_by_role("heading", name="Hồ sơ dự thi")).to_be_visible()
    admin.check("contests-edition")

    page.get_by_role("link", name="Xếp hạng và quyết định giải").click()
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Máy sấy lúa")
    expect(page.get_by_text("cần xem lại")).to_be_visible()  # the second entry: totals 37, 93, 65
    admin.check("contests-ranking")
    page.get_by_role("link", name="Giám khảo chênh lệch nhiều nhất").click()
    expect(rows.nth(0)).to_contain_text("Hệ thống tưới")

    second = page.locator(f"#e-{made['second']}")
    second.get_by_text("Ban Tổ chức quyết định giải").click()
    second.get_by_label("Giải").select_option("honourable")
    second.get_by_label("Lý do").fill("Giải pháp có ý nghĩa thực tiễn cho vùng khô hạn")
    second.get_by_role("button", name="Ghi quyết định").click()
    expect(page.get_by_role("status")).to_have_text("Đã lưu.")
    second = page.locator(f"#e-{made['second']}")
    expect(second).to_contain_text("Giải Khuyến khích")
    expect(second).to_contain_text("Ban Tổ chức quyết định: Giải Khuyến khích. Lý do: Giải pháp có ý nghĩa thực tiễn")
    admin.check("contests-ranking-override")
