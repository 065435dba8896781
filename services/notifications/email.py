"""The email channel: SMTP with aiosmtplib, over a few reused connections.

A 5xx answer is permanent (`EmailRejected`: a hard bounce, the address is
suppressed); a 4xx answer, a timeout or a refused connection is transient
(`EmailDeferred`) and the delivery is retried later.
"""

from __future__ import annotations

import asyncio
import email.generator
import email.policy
import hashlib
import io
from email.message import EmailMessage
from email.utils import formataddr, formatdate, parseaddr

import aiosmtplib
import segno

from services.notifications.rendering import RenderedEmail
from shared.settings import Settings


WIRE_POLICY = email.policy.SMTP.clone(max_line_length=998)


class EmailDeferred(Exception):
    """The mail server could not take the message now; try again later."""


class EmailRejected(Exception):
    """The mail server refused the message for good (5xx)."""


def delivery_message_id(delivery_key: str) -> str:
    return hashlib.sha256(delivery_key.encode()).hexdigest()[:32]


def qr_png(text: str) -> bytes:
    """The ticket code as a QR image (PNG)."""
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=6, border=2)
    return buffer.getvalue()


class SmtpSender:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._idle: list[aiosmtplib.SMTP] = []
        self._slots = asyncio.Semaphore(settings.smtp_connections)

    def build(self, *, to: str, to_name: str, rendered: RenderedEmail, delivery_key: str,
              headers: dict[str, str] | None = None, qr: str | None = None) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.settings.smtp_from
        message["To"] = formataddr((to_name, to))
        message["Subject"] = rendered.subject
        message["Date"] = formatdate(localtime=False)
        # A stable Message-ID per delivery lets mail systems drop a duplicate.
        message["Message-ID"] = f"<{delivery_message_id(delivery_key)}@lienhiep.local>"
        for name, value in (headers or {}).items():
            message[name] = value
        message.set_content(rendered.text, charset="utf-8")
        message.add_alternative(rendered.html, subtype="html", charset="utf-8")
        if qr:
            html_part = message.get_payload()[1]
            html_part.add_related(qr_png(qr), maintype="image", subtype="png", cid="<qr>", filename="ticket-qr.png")
        return message

    @staticmethod
    def wire_bytes(message: EmailMessage) -> bytes:
        """The message as sent. Python's header folding drops the space at a fold
        between encoded words ("duyệt: Đỗ" arrives as "duyệt:Đỗ"), so headers are
        written unfolded (encoded words longer than 75 characters, which readers accept)."""
        buffer = io.BytesIO()
        email.generator.BytesGenerator(buffer, policy=WIRE_POLICY).flatten(message)
        return buffer.getvalue()

    async def send(self, message: EmailMessage) -> None:
        sender = parseaddr(self.settings.smtp_from)[1]
        recipient = parseaddr(str(message["To"]))[1]
        raw = self.wire_bytes(message)
        async with self._slots:
            client = self._idle.pop() if self._idle else None
            try:
                if client is None or not client.is_connected:
                    client = await self._connect()
                try:
                    await client.sendmail(sender, [recipient], raw)
                except aiosmtplib.SMTPServerDisconnected:
                    # The server closed an idle connection: one fresh try.
                    client = await self._connect()
                    await client.sendmail(sender, [recipient], raw)
            except aiosmtplib.SMTPRecipientsRefused as exc:
                await self._drop(client)
                codes = [r.code for r in exc.recipients]
                if codes and all(500 <= c < 600 for c in codes):
                    raise EmailRejected(f"recipient refused ({codes[0]} {exc.recipients[0].message})") from None
                raise EmailDeferred(f"recipient deferred ({codes})") from None
            except aiosmtplib.SMTPResponseException as exc:
                await self._drop(client)
                if 500 <= exc.code < 600:
                    raise EmailRejected(f"refused ({exc.code} {exc.message})") from None
                raise EmailDeferred(f"deferred ({exc.code} {exc.message})") from None
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                await self._drop(client)
                raise EmailDeferred(f"{type(exc).__name__}: {exc}"[:300]) from None
            self._keep(client)

    async def _connect(self) -> aiosmtplib.SMTP:
        s = self.settings
        client = aiosmtplib.SMTP(hostname=s.smtp_host, port=s.smtp_port, start_tls=s.smtp_starttls,
                                 timeout=s.smtp_timeout_seconds)
        await client.connect()
        if s.smtp_username:
            await client.login(s.smtp_username, s.smtp_password)
        return client

    def _keep(self, client: aiosmtplib.SMTP | None) -> None:
        if client is not None and client.is_connected:
            self._idle.append(client)

    async def _drop(self, client: aiosmtplib.SMTP | None) -> None:
        if client is not None and client.is_connected:
            try:
                await client.quit()
            except Exception:
                client.close()

    async def close(self) -> None:
        while self._idle:
            await self._drop(self._idle.pop())
