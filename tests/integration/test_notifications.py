"""Welcome emails from member.approved: real broker, embedded store, real SMTP."""

from __future__ import annotations

import uuid

import pytest

from services.notifications.app import create_app
from shared.contracts import MemberApproved, OrganizationCreated, new_event
from shared.identity import HEADER, Identity, sign
from tests.smtp_server import SmtpServer
from tests.support import eventually
from tests.support.bus import make_bus

pytestmark = pytest.mark.integration


@pytest.fixture
def smtp():
    with SmtpServer() as server:
        yield server


@pytest.fixture
async def service(aiohttp_client, settings, smtp):
    settings = settings.model_copy(update={"smtp_port": smtp.port, "notify_retry_seconds": "0.2"})
    client = await aiohttp_client(create_app(settings))
    publisher = make_bus(settings, "membership")
    await publisher.start()
    yield (
        client,
        publisher,
        {HEADER: sign(Identity(sub="staff:lan", roles=("admin",)), settings.internal_identity_secret)},
    )
    await publisher.close()


def approved(email: str | None, language: str = "vi", consent: bool = True):
    return new_event(
        MemberApproved(
            member_id=str(uuid.uuid4()),
            full_name="Nguyễn Thị Mai",
            email=email,
            status="active",
            language=language,
            consents={"email": consent},
        ),
        producer="membership",
    )


async def deliveries(client, staff, **query):
    resp = await client.get("/notifications/deliveries", headers=staff, params=query)
    return (await resp.json())["items"]


async def test_a_new_member_gets_one_welcome_email_in_vietnamese(service, smtp):
    client, publisher, staff = service
    event = approved("mai@example.vn")
    for _ in range(3):  # published again and again, as a relay may after a crash
        await publisher.publish(event)
    mails = await eventually(lambda: _async(smtp.recorder.to("mai@example.vn")), what="welcome email")
    items = await eventually(lambda: _sent(client, staff, event), what="delivery recorded as sent")
    assert len(smtp.recorder.to("mai@example.vn")) == 1
    mail = mails[0]
    assert str(mail["Subject"]).startswith("Chào mừng Nguyễn Thị Mai")
    assert "Kính gửi Nguyễn Thị Mai" in mail.get_body(("plain",)).get_content()
    assert "<strong>Nguyễn Thị Mai</strong>" in mail.get_body(("html",)).get_content()
    assert items[0]["template"] == "welcome" and items[0]["attempts"] == 1


async def test_english_speakers_get_english(service, smtp):
    _client, publisher, _staff = service
    await publisher.publish(approved("john@example.com", language="en"))
    mails = await eventually(lambda: _async(smtp.recorder.to("john@example.com")), what="email")
    assert str(mails[0]["Subject"]).startswith("Welcome")


async def test_a_hard_bounce_is_recorded_as_failed_and_not_retried(service, smtp):
    client, publisher, staff = service
    smtp.recorder.answers["gone@example.vn"] = "550 5.1.1 No such user"
    event = approved("gone@example.vn")
    await publisher.publish(event)
    items = await eventually(lambda: _with_status(client, staff, event, "failed"), what="failed delivery")
    assert "550" in items[0]["last_error"] and items[0]["attempts"] == 1
    suppressed = await client.get("/notifications/suppressions", headers=staff)
    assert [s["address"] for s in (await suppressed.json())["items"]] == ["gone@example.vn"]
    again = approved("gone@example.vn")  # nothing more goes to a bounced address
    await publisher.publish(again)
    skipped = await eventually(lambda: _with_status(client, staff, again, "skipped"), what="suppressed")
    assert skipped[0]["reason"] == "suppressed"
    assert smtp.recorder.to("gone@example.vn") == []


async def test_a_temporary_failure_is_retried_until_it_goes_through(service, smtp):
    client, publisher, staff = service
    smtp.recorder.answers["busy@example.vn"] = "451 4.3.0 Try again later"
    event = approved("busy@example.vn")
    await publisher.publish(event)
    await eventually(lambda: _retrying(client, staff, event), what="delivery waiting for a retry")
    del smtp.recorder.answers["busy@example.vn"]
    items = await eventually(lambda: _sent(client, staff, event), what="sent after retry")
    assert items[0]["attempts"] >= 2
    assert len(smtp.recorder.to("busy@example.vn")) == 1


async def test_no_email_without_an_address_or_consent_and_the_log_says_why(service, smtp):
    client, publisher, staff = service
    for event, reason in ((approved("quiet@example.vn", consent=False), "no-consent"), (approved(None), "no-address")):
        await publisher.publish(event)
        # The handler's one write is the event's deliveries, the skipped one included.
        items = await eventually(lambda event=event: deliveries(client, staff, event_id=event.id), what="event handled")
        assert [(d["status"], d["reason"]) for d in items] == [("skipped", reason)]
    assert smtp.recorder.messages == []


async def _with_status(client, staff, event, status):
    items = [d for d in await deliveries(client, staff, status=status) if d["source_event_id"] == event.id]
    return items


async def _retrying(client, staff, event):
    items = [d for d in await deliveries(client, staff, event_id=event.id) if d.get("last_error")]
    return items


async def _sent(client, staff, event):
    return await _with_status(client, staff, event, "sent")


async def _async(value):
    return value


async def test_messages_sign_with_the_federation_at_the_root_of_the_tree(service, smtp):
    """Issue 10.13: the federation's name comes from the root of the organisation tree as
    membership announces it; the FEDERATION_NAME setting is only the fallback."""
    _client, publisher, _staff = service
    root = "Liên hiệp các Hội Khoa học và Kỹ thuật tỉnh Bình Dương"
    await publisher.publish(
        new_event(
            OrganizationCreated(organization_id=str(uuid.uuid4()), code="LHH-BD", name=root, kind="federation"),
            producer="membership",
        )
    )
    branch = OrganizationCreated(
        organization_id=str(uuid.uuid4()), code="HOI-Y", name="Hội Y học", kind="association", parent_id="x"
    )
    await publisher.publish(new_event(branch, producer="membership"))

    async def welcomed_under_the_root():
        await publisher.publish(approved(address := f"hoa.{uuid.uuid4().hex[:6]}@example.vn"))
        mails = await eventually(lambda: _async(smtp.recorder.to(address)), what="welcome email")
        return str(mails[0]["Subject"]).endswith(root)

    # The tree's news and the member's travel on different queues: wait for the first to land.
    assert await eventually(welcomed_under_the_root, timeout=30, interval=0.5, what="signed with the root's name")
