"""The staff console in a real headless Chromium (Debian's, driven by Playwright) against
the platform running as processes: what a new staff member does on their first day, in
Vietnamese, on a laptop and at the door on a phone. Every main screen is checked with
axe-core (no serious or critical violation), must raise no Content-Security-Policy
error, and is photographed into var/screenshots/."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from clients.api import ApiProblem
from tests.clients.conftest import ADMIN_PASSWORD, DATA, SCREENSHOTS, name_tag, run

pytestmark = pytest.mark.e2e
CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE = (Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js").read_text(encoding="utf-8")
LAPTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 740}


@pytest.fixture(autouse=True)
def _delete_the_queues_this_test_declared() -> Iterator[None]:
    """The suite-wide fixture of that name is asynchronous, and Playwright's sync API keeps its own event loop
    running in these tests; they declare no queue of their own (the platform runs as processes), so nothing to do."""
    yield


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Module-wide: Playwright's sync API keeps an event loop running while it is open, which the
    # asyncio tests of other modules must not meet.
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


class Staff:
    """One person at the console: a browser context of their own, its CSP errors collected."""

    def __init__(self, browser: Browser, base: str, viewport: dict[str, int] = LAPTOP) -> None:
        self.base = base
        self.context: BrowserContext = browser.new_context(
            viewport=viewport, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh", accept_downloads=True
        )
        self.page: Page = self.context.new_page()
        self.csp_errors: list[str] = []
        self.page.on(
            "console",
            lambda m: (
                self.csp_errors.append(m.text) if m.type == "error" and "Content Security Policy" in m.text else None
            ),
        )

    def go(self, path: str) -> Page:
        self.page.goto(f"{self.base}/console{path}")
        return self.page

    def sign_in(self, username: str, password: str) -> Staff:
        self.go("/login")
        self.page.get_by_label("Tên đăng nhập").fill(username)
        self.page.get_by_label("Mật khẩu").fill(password)
        self.page.get_by_role("button", name="Đăng nhập").click()
        expect(self.page.get_by_role("heading", level=1)).to_contain_text("việc hôm nay")
        return self

    def check(self, name: str) -> None:
        """axe-core in the page (serious and critical violations fail), a full-page screenshot."""
        page = self.page
        page.wait_for_load_state("networkidle")
        page.evaluate(AXE)
        result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
        bad = [
            (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert not bad, f"{name}: {bad}"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
        assert not self.csp_errors, self.csp_errors

    def close(self) -> None:
        assert not self.csp_errors, self.csp_errors
        self.context.close()


@pytest.fixture
def admin(browser: Browser, gateway_url: str) -> Iterator[Staff]:
    staff = Staff(browser, gateway_url).sign_in("admin", ADMIN_PASSWORD)
    yield staff
    staff.close()


def ensure_organisations(gateway_url: str, token: str) -> dict[str, str]:
    """The sample tree, by code (imported through the API if a test before has not)."""
    orgs = run(lambda api: api.organizations(), gateway_url, token)
    if not any(o.code == "HOI-Y-HOC" for o in orgs):
        path = DATA / "organizations_sample.csv"
        run(lambda api: api.import_organizations((path.name, path.read_bytes(), "text/csv")), gateway_url, token)
        orgs = run(lambda api: api.organizations(), gateway_url, token)
    return {o.code: o.id for o in orgs}


# --- first contact ---------------------------------------------------------------------------


def test_sign_in_speaks_vietnamese_and_says_plainly_what_went_wrong(browser, gateway_url):
    staff = Staff(browser, gateway_url)
    page = staff.go("/")
    expect(page).to_have_url(re.compile(r"/console/login"))
    assert page.locator("html").get_attribute("lang") == "vi"
    expect(page.get_by_role("heading", level=1)).to_have_text("Đăng nhập văn phòng LienHiep")
    staff.check("01-sign-in")
    page.get_by_label("Tên đăng nhập").fill("admin")
    page.get_by_label("Mật khẩu").fill("not-the-password")
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("alert")).to_contain_text("Sai tên đăng nhập hoặc mật khẩu")
    cookies = {c["name"]: c for c in staff.context.cookies()}
    assert "lh_session" not in cookies and cookies["lh_csrf"]["httpOnly"]
    page.get_by_label("Mật khẩu").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("việc hôm nay")
    session = {c["name"]: c for c in staff.context.cookies()}["lh_session"]
    assert session["httpOnly"] and session["sameSite"] == "Strict" and session["path"] == "/console"
    # Page scripts never see the staff token.
    assert "lh_session" not in page.evaluate("document.cookie")
    headers = page.request.get(f"{gateway_url}/console/").headers
    assert "'unsafe-inline'" not in headers["content-security-policy"]
    assert "script-src 'self'" in headers["content-security-policy"]
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("today's work")
    assert page.locator("html").get_attribute("lang") == "en"
    staff.check("02-home-english")
    page.get_by_role("button", name="Tiếng Việt").click()
    page.get_by_role("button", name="Đăng xuất").click()
    expect(page.get_by_role("status")).to_contain_text("Bạn đã đăng xuất")
    staff.close()


def test_a_locked_account_is_told_so_in_plain_words(browser, gateway_url, admin_token):
    name = f"khoa.{uuid.uuid4().hex[:5]}"
    run(
        lambda api: api.create_staff({"username": name, "password": "mat-khau-that-dai", "role": "admin"}),
        gateway_url,
        admin_token,
    )
    for _ in range(5):
        with pytest.raises(ApiProblem):
            run(lambda api: api.login(name, "sai-mat-khau"), gateway_url)
    staff = Staff(browser, gateway_url)
    page = staff.go("/login")
    page.get_by_label("Tên đăng nhập").fill(name)
    page.get_by_label("Mật khẩu").fill("mat-khau-that-dai")
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("alert")).to_contain_text("Tài khoản đang bị khóa")
    expect(page.get_by_role("alert")).to_contain_text("nhờ quản trị viên mở khóa")
    staff.close()


def test_a_form_without_its_csrf_token_is_refused(admin, gateway_url):
    answer = admin.page.request.post(f"{gateway_url}/console/members/new", form={"full_name": "Không Có Mã"})
    assert answer.status == 403


# --- import ----------------------------------------------------------------------------------


def test_the_sample_rosters_import_with_each_rejected_row_and_its_reason(admin):
    page = admin.go("/organizations")
    page.get_by_label("Tệp", exact=True).set_input_files(str(DATA / "organizations_sample.csv"))
    page.get_by_role("button", name="Tải lên và nhập").click()
    expect(page.get_by_role("status").filter(has_text="bị từ chối 0")).to_be_visible()
    expect(page.get_by_role("link", name="Hội Y học tỉnh").first).to_be_visible()
    admin.check("03-organisations")

    page = admin.go("/imports")
    admin.check("04-import")
    page.get_by_label("Tệp", exact=True).set_input_files(str(DATA / "members_sample.csv"))
    page.get_by_role("button", name="Tải lên và nhập").click()
    expect(page).to_have_url(re.compile(r"/console/imports/"))
    # The page follows the job by itself (no reload) until the report is there.
    expect(page.get_by_text("Đã nhập xong.")).to_be_visible(timeout=60_000)
    expect(page.locator("[data-count=created]")).to_have_text("288")
    expect(page.locator("[data-count=rejected]")).to_have_text("12")
    page.reload()
    rows = page.locator("table.rejected tbody tr")
    expect(rows).to_have_count(12)
    expected = json.loads((DATA / "members_sample.expected.json").read_text())
    lines = [int(t) for t in rows.locator("td:first-child").all_inner_texts()]
    assert lines == [b["line"] for b in expected["bad_rows"]]
    reasons = rows.locator("td:nth-child(3)").all_inner_texts()
    assert all(r.strip() for r in reasons)
    admin.check("05-import-report")
    # The rejected rows come back as they were written (their own columns), with line and
    # reason, to fix in Excel and import again.
    with page.expect_download() as download:
        page.locator("section[aria-labelledby=h-rejected]").get_by_role("link", name="CSV").click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    header = text.splitlines()[0].split(",")
    assert header[0] == "Dòng" and header[-1] == "Lý do" and "Họ và tên" in header
    assert len(text.strip().splitlines()) == 13


# --- members -----------------------------------------------------------------------------------


def test_typing_nguyen_finds_nguyen_with_its_diacritics(admin, gateway_url, admin_token):
    tag = name_tag()
    run(
        lambda api: api.create_member({"full_name": f"Nguyễn Thị Ánh {tag}", "email": f"anh.{tag}@example.vn"}),
        gateway_url,
        admin_token,
    )
    page = admin.go("/members")
    # Typed, not submitted: the results follow the typing.
    page.get_by_label("Tìm theo tên, email hoặc điện thoại").press_sequentially(f"nguyen thi anh {tag}", delay=20)
    result = page.locator("#results table.members tbody")
    expect(result.get_by_role("link", name=f"Nguyễn Thị Ánh {tag}")).to_be_visible()
    expect(result.locator("tr")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"q=nguyen"))  # the address follows the typing, to bookmark or share
    admin.check("06-members")
    # What was found leaves for Excel as it is shown (the export keeps the search).
    with page.expect_download() as downloading:
        page.locator("p.exports").get_by_role("link", name="CSV").click()
    exported = Path(downloading.value.path()).read_text(encoding="utf-8-sig")
    assert f"Nguyễn Thị Ánh {tag}" in exported and len(exported.strip().splitlines()) == 2
    result.get_by_role("link", name=f"Nguyễn Thị Ánh {tag}").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Nguyễn Thị Ánh {tag}")
    admin.check("07-member")
    # The office corrects her profile: only what was changed is written.
    page.get_by_role("link", name="Sửa hồ sơ").click()
    expect(page.get_by_label("Họ và tên")).to_have_value(f"Nguyễn Thị Ánh {tag}")
    page.get_by_label("Chuyên ngành").fill("Công nghệ sinh học")
    page.get_by_label("Ngày sinh").fill("31/02/1990")
    page.get_by_role("button", name="Lưu").click()
    expect(page.locator(".field-error, [role=alert]").first).to_be_visible()  # no 31 February
    page.get_by_label("Ngày sinh").fill("12/05/1990")
    admin.check("07b-member-edit")
    page.get_by_role("button", name="Lưu").click()
    expect(page.get_by_role("status")).to_contain_text("Đã lưu")
    profile = page.locator("section[aria-labelledby=h-profile]")
    expect(profile).to_contain_text("Công nghệ sinh học")
    expect(profile).to_contain_text("12/05/1990")


def test_an_api_problem_shows_its_title_and_the_message_beside_the_field(admin):
    page = admin.go("/members/new")
    admin.check("08-member-new")
    page.get_by_label("Họ và tên").fill("Trần Văn Lỗi")
    page.get_by_label("Điện thoại").fill("12")
    page.get_by_role("button", name="Lưu").click()
    expect(page.get_by_role("alert")).to_be_visible()
    phone = page.get_by_label("Điện thoại")
    expect(phone).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#err-phone")).not_to_be_empty()
    assert "{" not in page.locator("#err-phone").inner_text()  # a sentence, never JSON
    admin.check("09-member-new-refused")


def test_an_application_is_approved_and_renewed_with_dues(admin, gateway_url, admin_token):
    tag = name_tag()
    member = run(
        lambda api: api.create_member({"full_name": f"Lê Văn Đơn {tag}"}, application=True), gateway_url, admin_token
    )
    page = admin.go(f"/members?status=applied&q={tag}")
    page.get_by_role("link", name=f"Lê Văn Đơn {tag}").click()
    page.get_by_role("button", name="Duyệt đơn").click()
    expect(page.get_by_role("status")).to_contain_text("Đã duyệt đơn")
    page.get_by_label("Số tiền đã đóng (đồng)").fill("200.000")
    page.get_by_label("Ngày đóng").fill("01/12/2026")
    page.get_by_role("button", name="Gia hạn").last.click()
    expect(page.get_by_role("status")).to_contain_text("Đã gia hạn")
    assert run(lambda api: api.member(member.id), gateway_url, admin_token).dues_state == "paid"
    page.get_by_label(re.compile("Gõ đúng họ tên")).fill("someone else")
    page.get_by_role("button", name="Xóa vĩnh viễn").click()
    expect(page.locator("#err-confirm_name")).to_contain_text("chưa khớp")
    assert run(lambda api: api.member(member.id), gateway_url, admin_token).status == "active"


# --- events and the door ------------------------------------------------------------------------


def test_an_event_is_created_published_registered_for_and_checked_in_on_a_phone(
    admin, browser, gateway_url, admin_token, smtp
):
    ensure_organisations(gateway_url, admin_token)
    title = f"Hội thảo Chuyển đổi số {uuid.uuid4().hex[:4]}"
    page = admin.go("/events/new")
    page.get_by_label("Loại sự kiện").select_option("seminar")
    page.get_by_label("Đơn vị tổ chức").select_option(label="— Hội Tin học tỉnh")
    page.get_by_label("Số chỗ").fill("50")
    page.get_by_label("Tên sự kiện (tiếng Việt)").fill(title)
    page.get_by_label("Địa điểm").fill("Hội trường Liên hiệp, Thủ Dầu Một")
    page.get_by_label("Bắt đầu").fill("2030-12-20T08:00")
    page.get_by_label("Kết thúc").fill("2030-12-20T11:30")
    admin.check("10-event-new")
    page.get_by_role("button", name="Lưu").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.get_by_text("Bản nháp", exact=True)).to_be_visible()
    page.get_by_role("button", name="Công bố").click()
    expect(page.get_by_role("status")).to_contain_text("Đã công bố")
    event_id = page.url.rstrip("/").rsplit("/", 1)[1]

    # A partner system registers three people through the API with a key made in the console.
    page = admin.go("/admin/keys")
    page.get_by_label("Dùng cho").fill("Cổng thông tin tỉnh")
    page.get_by_label("registrations:write").check()
    page.get_by_role("button", name="Tạo khóa").click()
    key = page.locator("#new-key").inner_text().strip()
    assert key.startswith("lh_")
    admin.check("11-keys-created")
    tickets = []
    for i, name in enumerate(("Phan Thanh Giản", "Bùi Thị Xuân", "Lý Tự Trọng")):
        reg = run(
            lambda api, n=name, j=i: api.register(
                event_id, {"guest": {"full_name": n, "email": f"khach{j}.{event_id[:6]}@example.vn"}}
            ),
            gateway_url,
            key,
        )
        assert reg.status == "confirmed"
        tickets.append(reg)
    page = admin.go(f"/events/{event_id}")
    expect(page.get_by_text("3/50 chỗ đã xác nhận")).to_be_visible()
    expect(page.locator("progress[max='50'][value='3']")).to_be_visible()
    admin.check("12-event")
    page = admin.go("/events")
    admin.check("13-events")

    # A member registered by the portal finds the event on their page in the console.
    tag = name_tag()
    member = run(
        lambda api: api.create_member({"full_name": f"Trương Định {tag}", "email": f"dinh.{tag}@example.vn"}),
        gateway_url,
        admin_token,
    )
    # The events service learns of new members over the bus: a moment after their creation.
    deadline = time.monotonic() + 60
    while True:
        try:
            run(lambda api: api.register(event_id, {"member_id": member.id}), gateway_url, key)
            break
        except ApiProblem as problem:
            if problem.status != 422 or time.monotonic() > deadline:  # "no such member" until it is known
                raise
            time.sleep(0.3)
    page = admin.go(f"/members/{member.id}")
    registrations = page.locator("section[aria-labelledby=h-registrations]")
    expect(registrations.get_by_role("link", name=title)).to_be_visible()
    expect(registrations).to_contain_text("Đã xác nhận")

    # At the door, one-handed on a 360-pixel phone.
    door = Staff(browser, gateway_url, PHONE).sign_in("admin", ADMIN_PASSWORD)
    phone = door.go("/checkin")
    admin_width = phone.evaluate("document.documentElement.scrollWidth")
    assert admin_width <= 360  # nothing wider than the phone
    door.check("14-checkin-phone")
    phone.get_by_label("Mã vé").fill(tickets[0].ticket_code or "")
    phone.get_by_role("button", name="Điểm danh", exact=True).click()
    answer = phone.locator("[data-answer=ok]")
    expect(answer).to_contain_text("✓")
    expect(answer).to_contain_text("Phan Thanh Giản")
    door.check("15-checkin-done")
    phone.get_by_label("Mã vé").fill(tickets[0].ticket_code or "")
    phone.get_by_role("button", name="Điểm danh", exact=True).click()
    expect(phone.locator("[data-answer=refused]")).to_be_visible()
    door.check("16-checkin-refused")
    door.close()

    # The confirmation each of them was sent is in the delivery log.
    page = admin.go("/deliveries?status=sent")
    deadline = time.monotonic() + 30
    while page.get_by_role("cell", name="Xác nhận đăng ký").count() < 3 and time.monotonic() < deadline:
        page.wait_for_timeout(300)
        page.reload()
    assert page.get_by_role("cell", name="Xác nhận đăng ký").count() >= 3
    admin.check("17-deliveries")
    page.get_by_role("row").filter(has_text="Xác nhận đăng ký").first.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Xác nhận đăng ký")
    admin.check("18-delivery")


def test_a_manager_sees_only_their_own_association(admin, browser, gateway_url, admin_token):
    codes = ensure_organisations(gateway_url, admin_token)
    tag = name_tag()
    theirs = run(
        lambda api: api.create_member(
            {"full_name": f"Đặng Văn Khác {tag}", "organization_ids": [codes["HOI-TIN-HOC"]]}
        ),
        gateway_url,
        admin_token,
    )
    own = run(
        lambda api: api.create_member({"full_name": f"Hồ Thị Nhà {tag}", "organization_ids": [codes["HOI-Y-HOC"]]}),
        gateway_url,
        admin_token,
    )
    page = admin.go("/admin/staff")
    form = page.get_by_role("region", name="Tạo tài khoản")
    form.get_by_label("Tên đăng nhập").fill(f"quanly.{tag}")
    form.get_by_label("Mật khẩu ban đầu").fill("mat-khau-quan-ly-hoi")
    form.get_by_label("Vai trò").select_option("manager")
    form.get_by_label("Hội quản lý (với quản lý hội)").select_option(label="— Hội Y học tỉnh")
    form.get_by_role("button", name="Tạo tài khoản").click()
    expect(page.get_by_role("status")).to_contain_text("Đã tạo tài khoản")
    admin.check("19-staff")

    manager = Staff(browser, gateway_url).sign_in(f"quanly.{tag}", "mat-khau-quan-ly-hoi")
    mpage = manager.go(f"/members?q={tag}")
    expect(mpage.get_by_role("link", name=f"Hồ Thị Nhà {tag}")).to_be_visible()
    expect(mpage.get_by_role("link", name=f"Đặng Văn Khác {tag}")).to_have_count(0)
    expect(mpage.get_by_role("link", name="Tài khoản")).to_have_count(0)  # no administration menu
    manager.check("20-manager-members")
    refused = manager.go(f"/members/{theirs.id}")
    assert refused.locator("h1").inner_text() == "Không thực hiện được"
    assert mpage.get_by_text(f"Đặng Văn Khác {tag}").count() == 0
    manager.go("/admin/staff")
    expect(mpage.get_by_role("alert")).to_be_visible()
    manager.close()
    token = run(lambda api: api.login(f"quanly.{tag}", "mat-khau-quan-ly-hoi"), gateway_url).access_token
    with pytest.raises(ApiProblem) as refusal:
        run(lambda api: api.member(theirs.id), gateway_url, token)
    assert refusal.value.status in (403, 404)
    assert run(lambda api: api.member(own.id), gateway_url, token).id == own.id


# --- every other main screen -----------------------------------------------------------------------


def test_every_other_main_screen_is_accessible(admin, gateway_url, admin_token):
    codes = ensure_organisations(gateway_url, admin_token)
    campaign = run(
        lambda api: api.create_campaign(
            {
                "name": "Thư mời hội thảo",
                "segment": {"kind": "organization", "value": codes["HOI-CO-KHI"]},
                "channels": ["email"],
                "subject": "Thư mời",
                "body": "Kính mời anh chị tham dự.",
            }
        ),
        gateway_url,
        admin_token,
    )
    screens = [
        ("21-home", "/"),
        ("22-organisation-edit", f"/organizations/{codes['HOI-TIN-HOC']}"),
        ("23-campaigns", "/campaigns"),
        ("24-campaign", f"/campaigns/{campaign.id}"),
        ("25-templates", "/templates"),
        ("26-template", "/templates/registration_confirmed/email/vi"),
        ("27-template-sms", "/templates/registration_confirmed/sms/en"),
        ("28-suppressions", "/suppressions"),
        ("29-parked", "/parked"),
        ("30-traffic", "/admin/traffic"),
        ("31-password", "/password"),
        ("32-imports-list", "/imports"),
    ]
    for name, path in screens:
        admin.go(path)
        admin.check(name)
    page = admin.go(f"/campaigns/{campaign.id}")
    expect(page.locator("#campaign-progress progress")).to_be_visible()


def test_a_template_previews_live_while_typing(admin):
    page = admin.go("/templates/registration_confirmed/sms/vi")
    box = page.get_by_label("Nội dung")
    box.fill("Xin chao {{ full_name }}, hen gap lai.")
    expect(page.locator("#preview pre")).to_contain_text("hen gap lai", timeout=10_000)
