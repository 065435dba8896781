"""What every contests use case works with, and who reaches which entry.

The reach rule is the platform's (shared/access.py): an admin reaches everything;
a manager, or a partner key bound to an organisation, reaches entries belonging to
that organisation's subtree (the entering organisation, or a member author's);
an unbound partner key reaches every entry; a judge reaches no organisation but
the entries assigned to them. Anything outside reach is not found (404).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from services.contests.announcing import Links
from services.contests.catalogue import MESSAGES
from services.contests.projections import Projections
from services.contests.records import EditionDoc, EntryDoc
from services.contests.store import Archive, Editions, Entries, Files, Judges, Sheets
from services.contests.views import Audience
from shared.access import OrganizationTree
from shared.errors import NotFound
from shared.identity import STAFF_PREFIX, Identity


@dataclass
class Deps:
    editions: Editions
    entries: Entries
    sheets: Sheets
    judges: Judges
    files: Files
    archive: Archive
    projections: Projections
    tree: OrganizationTree
    links: Links
    now: Callable[[], datetime]

    async def edition(self, edition_id: str) -> EditionDoc:
        found = await self.editions.get(edition_id)
        if found is None:
            raise NotFound(MESSAGES("contests.no_edition"))
        return found

    async def entry(self, entry_id: str, who: Identity) -> tuple[EntryDoc, EditionDoc, Audience]:
        """The entry if `who` reaches it, its edition, and how they see it; 404 otherwise."""
        found = await self.entries.get(entry_id)
        audience = await self.audience(who, found) if found is not None else None
        if found is None or audience is None:
            raise NotFound(MESSAGES("contests.no_entry"))
        return found, await self.edition(found["edition_id"]), audience

    async def audience(self, who: Identity, entry: EntryDoc) -> Audience | None:
        if who.is_admin:
            return "board"
        if who.is_judge:
            sheet = await self.sheets.get(entry["_id"], username(who))
            return "judge" if sheet is not None and sheet["status"] != "withdrawn" else None
        reach = await self.tree.reach(who)
        return "staff" if reach.covers_any(entry["organization_ids"]) else None

    async def organizations_of(self, who: Identity) -> list[str] | None:
        """The organisations whose entries `who` may list (None: all)."""
        return (await self.tree.reach(who)).as_list()


def username(who: Identity) -> str:
    """A staff account's user name (judges are staff accounts)."""
    return who.sub.removeprefix(STAFF_PREFIX)


def not_found_entry() -> NotFound:
    return NotFound(MESSAGES("contests.no_entry"))
