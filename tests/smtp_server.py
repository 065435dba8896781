"""A real SMTP server (aiosmtpd) for tests: keeps what it receives, and can be told
to answer a recipient with a given code (a hard bounce, a temporary failure)."""

from __future__ import annotations

import asyncio
import email
import email.policy
from dataclasses import dataclass, field
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from deploy.local.embedded_store import free_port


@dataclass
class Recorder:
    messages: list[EmailMessage] = field(default_factory=list)
    answers: dict[str, str] = field(default_factory=dict)  # recipient → "550 ..." etc.
    slow: dict[str, float] = field(default_factory=dict)  # recipient → seconds before answering DATA
    envelopes: list[tuple[list[str], list[str]]] = field(default_factory=list)  # (rcpt_tos, mail_options)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        answer = self.answers.get(address.lower())
        if answer:
            return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append((list(envelope.rcpt_tos), list(envelope.mail_options)))
        self.messages.append(
            email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        )
        delay = max((self.slow.get(r.lower(), 0.0) for r in envelope.rcpt_tos), default=0.0)
        if delay:
            await asyncio.sleep(delay)  # the message is taken; the answer comes late
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in str(m["To"])]


class SmtpServer:
    def __init__(self, smtputf8: bool = False) -> None:
        self.port = free_port()
        self.recorder = Recorder()
        self._controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port, enable_SMTPUTF8=smtputf8)

    def __enter__(self) -> SmtpServer:
        self._controller.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._controller.stop()
