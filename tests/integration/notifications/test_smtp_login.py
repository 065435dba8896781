"""SMTP login is used when configured: against a real aiosmtpd server that demands it."""

from __future__ import annotations

import email
import email.policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from deploy.local.embedded_store import free_port
from services.notifications.email import EmailDeferred, SmtpSender
from services.notifications.rendering import Renderer
from shared.settings import Settings

pytestmark = [
    pytest.mark.integration,
    # the test server takes AUTH without TLS, which aiosmtpd rightly warns about
    pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning"),
]


class Inbox:
    def __init__(self) -> None:
        self.received: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):
        self.received.append(envelope.content)
        return "250 OK"


def check(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == b"lienhiep" and auth_data.password == b"s3cret"
    return AuthResult(success=ok)


@pytest.fixture
def authenticated_smtp():
    inbox, port = Inbox(), free_port()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=port, authenticator=check, auth_required=True, auth_require_tls=False
    )
    controller.start()
    yield inbox, port
    controller.stop()


async def test_login_is_used_when_configured_and_a_wrong_password_is_not_a_silent_loss(authenticated_smtp):
    inbox, port = authenticated_smtp
    rendered = Renderer().email("welcome", "vi", {"full_name": "An", "federation": "LHH", "federation_en": "U"})
    good = SmtpSender(Settings(smtp_port=port, smtp_username="lienhiep", smtp_password="s3cret"))
    await good.send(good.build(to="an@example.vn", to_name="An", rendered=rendered, delivery_key="k1"), "an@example.vn")
    await good.close()
    [raw] = inbox.received
    assert email.message_from_bytes(raw, policy=email.policy.default)["Subject"] == rendered.subject
    wrong = SmtpSender(
        Settings(smtp_port=port, smtp_username="lienhiep", smtp_password="wrong", smtp_timeout_seconds=1)
    )
    with pytest.raises(EmailDeferred):  # retried, and visible in the delivery log, until fixed
        await wrong.send(
            wrong.build(to="an@example.vn", to_name="An", rendered=rendered, delivery_key="k2"), "an@example.vn"
        )
    await wrong.close()
    assert len(inbox.received) == 1
