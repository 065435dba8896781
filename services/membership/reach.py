"""What every membership use case works with, and who reaches which member.

The reach rule is the platform's (shared/access.py): an admin reaches everything; a
manager, or a partner key bound to an organisation, reaches that organisation's
subtree; an unbound partner key reaches everything its scopes allow. A member is
reachable through any of their organisations. Anything outside reach is not found
(404), never forbidden: existence must not leak — nor who holds an email or phone.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.membership.catalogue import MESSAGES
from services.membership.store import ImportJobDoc, ImportStore, MemberDoc, MemberStore, OrganizationStore, OrgDoc
from shared.access import OrganizationTree, Reach
from shared.errors import NotFound
from shared.identity import Identity


@dataclass
class Deps:
    orgs: OrganizationStore
    members: MemberStore
    imports: ImportStore
    tree: OrganizationTree
    term_years: int = 1

    async def reach(self, who: Identity) -> Reach:
        return await self.tree.reach(who)

    async def member(self, who: Identity, member_id: str) -> tuple[MemberDoc, Reach]:
        """The member if `who` reaches them (and the caller's reach); 404 otherwise."""
        reach = await self.reach(who)
        doc = await self.members.get(member_id)
        if doc is None or not reach.covers_any(doc.get("organization_ids") or []):
            raise NotFound(MESSAGES("membership.no_member", id=member_id))
        return doc, reach

    async def organization(self, who: Identity | None, org_id: str) -> OrgDoc:
        """The organisation if `who` reaches it (None: anyone may see it); 404 otherwise."""
        doc = await self.orgs.get(org_id)
        if doc is None or (who is not None and not (await self.reach(who)).covers(org_id)):
            raise NotFound(MESSAGES("membership.no_organization", id=org_id))
        return doc

    async def import_job(self, who: Identity, job_id: str) -> ImportJobDoc:
        """An import if `who` made it (an admin: any); 404 otherwise."""
        job = await self.imports.get(job_id)
        if job is None or not (who.is_admin or job["created_by"] == who.sub):
            raise NotFound(MESSAGES("membership.no_import", id=job_id))
        return job

    def changed(self) -> None:
        """The tree changed in this process: the next reach check reads it again."""
        self.tree.invalidate()
