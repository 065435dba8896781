"""The outbox's events reach the real notifications service: each entrant gets an
email about their entry, in their own language, once."""

from __future__ import annotations

import pytest

from services.notifications.app import create_app as notifications_app
from tests.integration.notifications.conftest import notify_settings
from tests.support import eventually

pytestmark = pytest.mark.integration


@pytest.fixture
async def notifications(aiohttp_client, settings, smtp, sms):
    return await aiohttp_client(notifications_app(notify_settings(settings, smtp, sms)))


async def test_entrants_are_told_by_email_in_their_language(contests, notifications, smtp):
    edition = await contests.edition()
    entry = await contests.submit(edition["id"])

    async def mail(address: str, count: int):
        async def arrived():
            found = smtp.recorder.to(address)
            return found if len(found) >= count else None

        return await eventually(arrived, timeout=20, what=f"{count} email(s) to {address}")

    [vi] = await mail("hung@example.vn", 1)
    [en] = await mail("mai@example.vn", 1)
    assert (
        str(vi["Subject"])
        == f"Đã nhận hồ sơ dự thi {entry['code']}: Máy sấy lúa dùng năng lượng mặt trời kết hợp sinh khối"
    )
    assert str(en["Subject"]).startswith(f"Entry {entry['code']} received")
    assert "Kính gửi Nguyễn Văn Hùng" in vi.get_body(("plain",)).get_content()

    await contests.call(
        "POST",
        f"/contests/entries/{entry['id']}/screening",
        contests.admin,
        json={"decision": "out", "reason": "Giải pháp chưa được áp dụng vào thực tế"},
    )
    screened = (await mail("hung@example.vn", 2))[1]
    assert str(screened["Subject"]) == f"Kết quả sơ khảo hồ sơ {entry['code']}"
    assert "Lý do: Giải pháp chưa được áp dụng vào thực tế" in screened.get_body(("plain",)).get_content()
    english = (await mail("mai@example.vn", 2))[1]
    assert str(english["Subject"]) == f"Screening result for entry {entry['code']}"
    assert len(smtp.recorder.to("hung@example.vn")) == 2  # once each, however often the relay runs
