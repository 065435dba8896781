"""The email channel: SMTP with aiosmtplib, over a few reused connections.

A 5xx answer is permanent (`EmailRejected`: a hard bounce, the address is
suppressed); a 4xx answer, a timeout or a refused connection before the message is
sent is transient (`EmailDeferred`) and the delivery is retried later; a timeout
after the message was sent is an unknown outcome (`EmailOutcomeUnknown`).
Internationalised addresses go out with SMTPUTF8 when the server offers it (their
domains in IDNA form), and are refused at once, with the reason, when it does not.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
from email.utils import formataddr, formatdate, parseaddr

import aiosmtplib
import segno

from services.notifications.links import redact
from services.notifications.rendering import RenderedEmail
from shared.settings import Settings


class EmailDeferred(Exception):
    """The mail server could not take the message now; try again later."""


class EmailOutcomeUnknown(Exception):
    """The message went to the server but its answer did not come (a timeout or a
    dropped connection after DATA): it may have been taken. Not a refusal: resent only
    after a longer wait, with the same Message-ID, so a second copy is recognisable."""


class EmailRejected(Exception):
    """The mail server refused the message for good (5xx). `hard_bounce`: it refused
    the recipient, so the address is suppressed; otherwise the message itself was
    refused (too large, content) and the address stays usable."""

    def __init__(self, reason: str, *, hard_bounce: bool) -> None:
        super().__init__(reason)
        self.hard_bounce = hard_bounce


def delivery_message_id(delivery_key: str) -> str:
    return hashlib.sha256(delivery_key.encode()).hexdigest()[:32]


def qr_png(text: str) -> bytes:
    """The ticket code as a QR image (PNG)."""
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=6, border=2)
    return buffer.getvalue()


def encode_header(value: str) -> str:
    """An RFC 2047 header value: ASCII as it is, anything else as base64 encoded words
    of at most 75 characters, folded between words. Spaces stay inside the words
    (readers ignore the whitespace between two encoded words)."""
    if value.isascii():
        return value
    words, chunk = [], b""
    for char in value:
        data = char.encode()
        if len(chunk) + len(data) > 39:  # 39 bytes → 52 base64 characters → a 64-character word
            words.append(chunk)
            chunk = b""
        chunk += data
    words.append(chunk)
    return "\r\n ".join(f"=?utf-8?b?{base64.b64encode(w).decode()}?=" for w in words)


def _address(name: str, address: str) -> str:
    if not name:
        return address
    if name.isascii():
        return formataddr((name, address))
    return f"{encode_header(name)} <{address}>"


def _base64_lines(data: bytes) -> str:
    encoded = base64.b64encode(data).decode()
    return "\r\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))


def _part(content_type: str, data: bytes, extra: str = "") -> str:
    return f"Content-Type: {content_type}\r\nContent-Transfer-Encoding: base64\r\n{extra}\r\n{_base64_lines(data)}\r\n"


def build_message(
    *,
    sender: str,
    to: str,
    to_name: str,
    rendered: RenderedEmail,
    delivery_key: str,
    headers: dict[str, str] | None = None,
    qr: str | None = None,
) -> bytes:
    """The email as it goes on the wire: text and HTML alternatives (the HTML with the
    ticket's QR image when there is one), UTF-8 throughout, base64 bodies. Written
    directly rather than with the email package, which is slow (about 80 messages a
    second on our machines) and whose header folding loses spaces in Vietnamese subjects."""
    digest = delivery_message_id(delivery_key)
    outer, inner = f"=_alt_{digest[:24]}", f"=_rel_{digest[:24]}"
    lines = [
        f"From: {sender}",
        f"To: {_address(to_name, to)}",
        f"Subject: {encode_header(rendered.subject)}",
        f"Date: {formatdate(localtime=False)}",
        # A stable Message-ID per delivery lets mail systems drop a duplicate.
        f"Message-ID: <{digest}@lienhiep.local>",
        "MIME-Version: 1.0",
    ]
    lines += [f"{name}: {encode_header(value)}" for name, value in (headers or {}).items()]
    lines.append(f'Content-Type: multipart/alternative; boundary="{outer}"')
    body = [f"--{outer}\r\n" + _part('text/plain; charset="utf-8"', rendered.text.encode())]
    html = _part('text/html; charset="utf-8"', rendered.html.encode())
    if qr:
        image = _part(
            'image/png; name="ticket-qr.png"',
            qr_png(qr),
            'Content-ID: <qr>\r\nContent-Disposition: inline; filename="ticket-qr.png"\r\n',
        )
        html = (
            f'Content-Type: multipart/related; boundary="{inner}"\r\n\r\n'
            f"--{inner}\r\n{html}--{inner}\r\n{image}--{inner}--\r\n"
        )
    body.append(f"--{outer}\r\n{html}--{outer}--\r\n")
    return ("\r\n".join(lines) + "\r\n\r\n" + "".join(body)).encode(
        "utf-8"
    )  # ASCII unless an SMTPUTF8 address is in To


def wire_address(address: str) -> tuple[str, bool]:
    """The address as it goes to the server: an internationalised domain in its ASCII
    (IDNA) form; and whether the local part still needs SMTPUTF8 (RFC 6531)."""
    local, _, domain = address.rpartition("@")
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            raise EmailRejected(f"not a deliverable domain ({len(domain)} characters)", hard_bounce=True) from None
    return f"{local}@{domain}", not local.isascii()


class SmtpSender:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.sender_address = parseaddr(settings.smtp_from)[1]
        self._idle: list[aiosmtplib.SMTP] = []
        self._slots = asyncio.Semaphore(settings.smtp_connections)

    def build(
        self,
        *,
        to: str,
        to_name: str,
        rendered: RenderedEmail,
        delivery_key: str,
        headers: dict[str, str] | None = None,
        qr: str | None = None,
    ) -> bytes:
        from_header = self.settings.smtp_from
        name, address = parseaddr(from_header)
        return build_message(
            sender=_address(name, address),
            to=wire_address(to)[0],
            to_name=to_name,
            rendered=rendered,
            delivery_key=delivery_key,
            headers=headers,
            qr=qr,
        )

    async def send(self, raw: bytes, recipient: str) -> None:
        """Hand one message to the server. EmailRejected: refused for good; EmailDeferred:
        not taken, try again; EmailOutcomeUnknown: the message was sent but the server's
        answer did not come (it may have taken it)."""
        address, needs_utf8 = wire_address(recipient)
        async with self._slots:
            client = self._idle.pop() if self._idle else None
            try:
                client = await self._hand_over(client, address, needs_utf8, raw)
            except EmailOutcomeUnknown:
                await self._drop(client)
                raise
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                await self._drop(client)
                raise _refusal(exc) from None
            self._keep(client)

    async def _hand_over(
        self, client: aiosmtplib.SMTP | None, address: str, needs_utf8: bool, raw: bytes
    ) -> aiosmtplib.SMTP:
        """MAIL and RCPT (again on a fresh connection when the server closed an idle
        one), then DATA. Once DATA is under way, a lost answer is an unknown outcome:
        the message is not sent again at once, and when it is, with the same Message-ID."""
        if client is None or not client.is_connected:
            client = await self._connect()
        try:
            await self._envelope(client, address, needs_utf8)
        except aiosmtplib.SMTPServerDisconnected:
            client = await self._connect()
            await self._envelope(client, address, needs_utf8)
        try:
            await client.data(raw)
        except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError, TimeoutError) as exc:
            await self._drop(client)
            raise EmailOutcomeUnknown(f"no answer after the message was sent ({type(exc).__name__})") from None
        return client

    async def _envelope(self, client: aiosmtplib.SMTP, address: str, needs_utf8: bool) -> None:
        options: list[str] = []
        if client.is_ehlo_or_helo_needed:  # the server's extensions are known after EHLO
            await client.ehlo()
        if needs_utf8:
            if not client.supports_extension("smtputf8"):
                raise EmailRejected(
                    "the mail server does not accept addresses with non-ASCII characters (no SMTPUTF8)",
                    hard_bounce=False,
                )
            options.append("SMTPUTF8")
        await client.mail(self.sender_address, options=options)
        await client.rcpt(address, encoding="utf-8" if needs_utf8 else "ascii")

    async def _connect(self) -> aiosmtplib.SMTP:
        s = self.settings
        client = aiosmtplib.SMTP(
            hostname=s.smtp_host, port=s.smtp_port, start_tls=s.smtp_starttls, timeout=s.smtp_timeout_seconds
        )
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


def _refusal(exc: BaseException) -> EmailRejected | EmailDeferred:
    """What a failure before the message was handed over means for the delivery."""
    if isinstance(exc, EmailRejected):
        return exc
    if isinstance(exc, aiosmtplib.SMTPRecipientRefused):
        if 500 <= exc.code < 600:
            return EmailRejected(redact(f"recipient refused ({exc.code} {exc.message})"), hard_bounce=True)
        return EmailDeferred(f"recipient deferred ({exc.code})")
    if isinstance(
        exc, (aiosmtplib.SMTPAuthenticationError, aiosmtplib.SMTPConnectResponseError, aiosmtplib.SMTPHeloError)
    ):
        # Our account or the server's state, not the recipient: retried (and dead-lettered
        # for staff to replay once the settings are fixed), never a bounce.
        return EmailDeferred(redact(f"server refused us ({exc.code} {exc.message})"))
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        if 500 <= exc.code < 600:
            return EmailRejected(redact(f"refused ({exc.code} {exc.message})"), hard_bounce=False)
        return EmailDeferred(redact(f"deferred ({exc.code} {exc.message})"))
    return EmailDeferred(redact(f"{type(exc).__name__}: {exc}")[:300])
