"""The email channel: SMTP with aiosmtplib.

A 5xx answer is permanent (`EmailRejected`: a hard bounce); a 4xx answer, a timeout
or a refused connection is transient (`EmailDeferred`) and is retried by the bus.
"""

from __future__ import annotations

from email.message import EmailMessage
import hashlib
from email.utils import formataddr

import aiosmtplib

from services.notifications.rendering import RenderedEmail
from shared.settings import Settings


class EmailDeferred(Exception):
    """The mail server could not take the message now; try again later."""


class EmailRejected(Exception):
    """The mail server refused the message for good (5xx)."""


def delivery_message_id(delivery_key: str) -> str:
    return hashlib.sha256(delivery_key.encode()).hexdigest()[:32]


class SmtpSender:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def build(self, *, to: str, to_name: str, rendered: RenderedEmail, delivery_key: str,
              headers: dict[str, str] | None = None) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.settings.smtp_from
        message["To"] = formataddr((to_name, to))
        message["Subject"] = rendered.subject
        # A stable Message-ID per delivery lets mail systems drop a duplicate.
        message["Message-ID"] = f"<{delivery_message_id(delivery_key)}@lienhiep.local>"
        for name, value in (headers or {}).items():
            message[name] = value
        message.set_content(rendered.text, charset="utf-8")
        message.add_alternative(rendered.html, subtype="html", charset="utf-8")
        return message

    async def send(self, message: EmailMessage) -> None:
        s = self.settings
        try:
            await aiosmtplib.send(
                message,
                hostname=s.smtp_host,
                port=s.smtp_port,
                start_tls=s.smtp_starttls,
                username=s.smtp_username or None,
                password=s.smtp_password or None,
                timeout=s.smtp_timeout_seconds,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            if codes and all(500 <= c < 600 for c in codes):
                raise EmailRejected(f"recipient refused ({codes[0]})") from None
            raise EmailDeferred(f"recipient deferred ({codes})") from None
        except aiosmtplib.SMTPResponseException as exc:
            if 500 <= exc.code < 600:
                raise EmailRejected(f"refused ({exc.code})") from None
            raise EmailDeferred(f"deferred ({exc.code})") from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise EmailDeferred(f"{type(exc).__name__}") from None
