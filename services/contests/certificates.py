"""Award certificates: issued once per awarded entry after publication, each with an
unguessable number anyone can verify without logging in (and print as a PDF).
The entrants are told with the verification link (award.issued)."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

from pymongo.errors import DuplicateKeyError

from services.contests import announcing, papers, timeline
from services.contests.catalogue import MESSAGES, label
from services.contests.reach import Deps
from services.contests.records import EditionDoc, EntryDoc
from shared.contracts import AwardIssued
from shared.errors import Conflict, NotFound
from shared.pdf import unicode_font

CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O or 1/I to misread


class Certificates:
    def __init__(self, deps: Deps, font: str) -> None:
        self.deps = deps
        self.font = font

    async def issue_certificates(self, edition_id: str, correlation_id: str) -> dict[str, int]:
        edition = await self.deps.edition(edition_id)
        if edition["status"] != "published":
            raise Conflict(MESSAGES("contests.publish.not_yet"))
        timeline.require_open(edition["timeline"], self.deps.now(), "decision", "ceremony")
        issued = already = 0
        async for entry in self.deps.entries.stream(edition_id, ["awarded", "forwarded"], {"_outbox": 0}):
            if entry.get("certificate_code"):
                already += 1
                continue
            issued += await self._certify(edition, entry, correlation_id)
        return {"issued": issued, "already_issued": already}

    async def verify(self, code: str) -> dict[str, Any]:
        entry, edition = await self._certified(code)
        return {
            "valid": True,
            "code": code,
            "edition": edition["name"],
            "entry_code": entry["code"],
            "title": entry["title"],
            "authors": [a["full_name"] for a in entry["entrant"]["authors"] if not a.get("erased")],
            "tier": entry["result"]["tier"],
            "tier_label": label("tier", entry["result"]["tier"]),
            "issued_at": entry.get("certificate_issued_at"),
        }

    async def certificate(self, code: str, lang: str) -> bytes:
        entry, edition = await self._certified(code)
        font = unicode_font(self.font, "CONTESTS_FONT")
        url = self.deps.links.verify(code)
        return await asyncio.to_thread(papers.certificate_pdf, edition, entry, font=font, verify_url=url, lang=lang)

    # --- steps ----------------------------------------------------------------------------

    async def _certify(self, edition: EditionDoc, entry: EntryDoc, correlation_id: str) -> int:
        for _ in range(5):
            code = f"{edition['code']}-" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
            tier = label("tier", entry["result"]["tier"])
            event = announcing.about_entry(
                AwardIssued,
                edition,
                entry,
                correlation_id,
                certificate_code=code,
                tier=entry["result"]["tier"],
                tier_vi=tier["vi"],
                tier_en=tier["en"],
                verify_url=self.deps.links.verify(code),
                pdf_url=self.deps.links.certificate_pdf(code),
            )
            try:
                updated = await self.deps.entries.update(
                    entry["_id"],
                    {"certificate_code": code, "certificate_issued_at": self.deps.now()},
                    expect={"certificate_code": {"$exists": False}},
                    events=[event],
                )
            except DuplicateKeyError:
                continue  # that code was taken: draw another
            return 1 if updated is not None else 0
        return 0

    async def _certified(self, code: str) -> tuple[EntryDoc, EditionDoc]:
        entry = await self.deps.entries.by_certificate(code.strip().upper()) if len(code) <= 40 else None
        if entry is None or not entry.get("result"):
            raise NotFound(MESSAGES("contests.no_certificate"))
        return entry, await self.deps.edition(entry["edition_id"])
