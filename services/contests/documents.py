"""An entry's documents: PDFs, images and drawings, kept in GridFS.

A file is read into a temporary spool first, a chunk at a time: its type comes from
its first bytes (filetypes.py), and reading stops with 413 as soon as it passes its
kind's limit, so nothing refused ever reaches the store (the embedded store cannot
abort a half-written GridFS upload). Its record (name, type, size, SHA-256) is kept
on the entry; the bytes in GridFS under the same id.
"""

from __future__ import annotations

import hashlib
import tempfile
import uuid
from collections.abc import AsyncIterator
from typing import IO, Any

from gridfs.asynchronous.grid_file import AsyncGridOut
from gridfs.errors import NoFile

from services.contests import filetypes, lifecycle, timeline, views
from services.contests.catalogue import MESSAGES
from services.contests.reach import Deps, not_found_entry
from services.contests.records import DocumentDoc
from shared.errors import MESSAGES as FIELD_MESSAGES
from shared.errors import Conflict, NotFound, invalid_field
from shared.identity import Identity

SPOOL_IN_MEMORY = 1_048_576


class DocumentDesk:
    def __init__(self, deps: Deps, rules: filetypes.FileRules) -> None:
        self.deps = deps
        self.rules = rules

    async def attach(
        self, entry_id: str, who: Identity, chunks: AsyncIterator[bytes], name: str | None
    ) -> dict[str, Any]:
        entry, edition, audience = await self.deps.entry(entry_id, who)
        if audience == "judge":
            raise not_found_entry()
        timeline.require_open(edition["timeline"], self.deps.now(), "registration", "submission")
        self._require_editable(entry["status"])
        self.rules.check_count(len(entry["documents"]))
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:
            found, size, digest = await self._spool(chunks, spool)
            spool.seek(0)
            file_id = uuid.uuid4().hex
            shown = filetypes.safe_name(name, found)
            await self.deps.files.put(file_id, shown, spool, {"entry_id": entry_id, "media_type": found.media_type})
        now = self.deps.now()
        record: DocumentDoc = {
            "name": shown,
            "media_type": found.media_type,
            "kind": found.kind,
            "size": size,
            "sha256": digest,
            "uploaded_at": now,
            "uploaded_by": who.sub,
        }
        updated = await self.deps.entries.update(
            entry_id,
            {f"documents.{file_id}": record, "updated_at": now},
            inc={"documents_bytes": size},
            expect={"status": {"$in": list(lifecycle.EDITABLE)}},
        )
        if updated is None:  # screened meanwhile: the file is not kept
            await self.deps.files.delete(file_id)
            raise Conflict(MESSAGES("contests.entry.locked"))
        return views.entry(updated, edition, audience)

    async def open(self, entry_id: str, document_id: str, who: Identity) -> tuple[AsyncGridOut, DocumentDoc]:
        entry, _, _ = await self.deps.entry(entry_id, who)
        record = entry["documents"].get(document_id)
        if record is None:
            raise NotFound(MESSAGES("contests.no_document"))
        try:
            return await self.deps.files.open(document_id), record
        except NoFile:
            raise NotFound(MESSAGES("contests.no_document")) from None

    async def remove(self, entry_id: str, document_id: str, who: Identity) -> dict[str, Any]:
        entry, edition, audience = await self.deps.entry(entry_id, who)
        if audience == "judge":
            raise not_found_entry()
        record = entry["documents"].get(document_id)
        if record is None:
            raise NotFound(MESSAGES("contests.no_document"))
        timeline.require_open(edition["timeline"], self.deps.now(), "registration", "submission")
        self._require_editable(entry["status"])
        updated = await self.deps.entries.update(
            entry_id,
            {"updated_at": self.deps.now()},
            unset=[f"documents.{document_id}"],
            inc={"documents_bytes": -record["size"]},
            expect={"status": {"$in": list(lifecycle.EDITABLE)}, f"documents.{document_id}": {"$exists": True}},
        )
        if updated is None:
            raise Conflict(MESSAGES("contests.entry.locked"))
        await self.deps.files.delete(document_id)
        return views.entry(updated, edition, audience)

    async def _spool(self, chunks: AsyncIterator[bytes], spool: IO[bytes]) -> tuple[filetypes.FileType, int, str]:
        """Copy the upload into `spool`: its type from the first bytes, refused once past its limit."""
        head = b""
        found: filetypes.FileType | None = None
        size = 0
        digest = hashlib.sha256()
        async for chunk in chunks:
            if found is None:
                head += chunk
                if len(head) < filetypes.SNIFF_BYTES:
                    continue
                found, chunk = self.rules.check_type(head), head
            size += len(chunk)
            self.rules.check_size(found, size)
            digest.update(chunk)
            spool.write(chunk)
        if found is None:  # smaller than the sniffing window
            if not head:
                raise invalid_field("file", FIELD_MESSAGES("field.empty_file"), "empty")
            found = self.rules.check_type(head)
            size = len(head)
            self.rules.check_size(found, size)
            digest.update(head)
            spool.write(head)
        return found, size, digest.hexdigest()

    @staticmethod
    def _require_editable(status: str) -> None:
        if status not in lifecycle.EDITABLE:
            raise Conflict(MESSAGES("contests.entry.locked"), entry_status=status)
