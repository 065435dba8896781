"""Finding members: search (name ignoring case and diacritics, email or phone) with
filters, in Vietnamese name order, a stable page at a time; likely duplicates; counts.
Every search is narrowed to the caller's reach first."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from services.membership import lifecycle
from services.membership.catalogue import MESSAGES
from services.membership.endpoints import STATUSES, MemberFilters, MemberQuery, UnpaidQuery
from services.membership.members import public_member, young_cutoff
from services.membership.organizations import NotYours
from services.membership.reach import Deps
from services.membership.store import MemberDoc
from shared.access import Reach
from shared.clock import now_utc
from shared.errors import invalid_field
from shared.identity import Identity
from shared.search import search_words
from shared.text import InvalidPhone, fold, normalise_phone


@dataclass(frozen=True)
class MemberFilter:
    q: str | None = None
    organization_ids: frozenset[str] | None = None  # any of these (subtree already expanded); None: all
    status: str | None = None
    expertise: str | None = None
    title: str | None = None
    young: bool | None = None
    dues_state: str | None = None


def _is_email(text: str) -> bool:
    return "@" in text


def _is_phone(text: str) -> bool:
    return sum(c.isdigit() for c in text) >= 6 and not any(c.isalpha() for c in text)


def is_name_search(text: str | None) -> bool:
    """A search by name (not email or phone) with at least one word: served by name terms."""
    if not text:
        return False
    text = text.strip()
    return not _is_email(text) and not _is_phone(text) and bool(search_words(text))


def _text_query(text: str) -> dict[str, Any]:
    text = text.strip()
    if _is_email(text):
        return {"email": text.lower()}
    if _is_phone(text):
        try:
            return {"phone": normalise_phone(text)}
        except InvalidPhone:
            return {"phone": text}
    return {"name_key": {"$regex": word_prefix_pattern(text)}}


def word_prefix_pattern(query: str) -> str:
    """A regular expression over folded names: each word of the query begins a word of
    the name, in the query's order, words between allowed ("ng van a" finds "nguyen van
    an"; diacritics and case ignored)."""
    words = [re.escape(w) for w in fold(query).split()]
    return r"(^| )" + r"[^ ]*( [^ ]+)*? ".join(words) if words else r"^"


def member_query(f: MemberFilter, today: date) -> dict[str, Any]:
    """The store query of a filter."""
    query: dict[str, Any] = _text_query(f.q) if f.q else {}
    if f.organization_ids is not None:
        query["organization_ids"] = {"$in": sorted(f.organization_ids)}
    query["status"] = f.status if f.status else {"$ne": "erased"}
    if f.expertise:
        query["expertise_key"] = fold(f.expertise)
    if f.title:
        query["titles"] = {"$in": [f.title]}  # arrays are matched with $in on the embedded store
    if f.young is not None:
        cutoff = young_cutoff(today).isoformat()
        query["date_of_birth"] = {"$gt": cutoff} if f.young else {"$lte": cutoff}
    if f.dues_state:
        query["dues_state"] = f.dues_state
    return query


def cursor(sort_key: str | None) -> str | None:
    return base64.urlsafe_b64encode(sort_key.encode()).decode().rstrip("=") if sort_key else None


def uncursor(after: str | None) -> str | None:
    if not after:
        return None
    try:
        return base64.urlsafe_b64decode(after + "=" * (-len(after) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise invalid_field("after", MESSAGES("membership.not_a_cursor"), "cursor", "query") from None


def _found(groups: list[list[str]], docs: dict[str, MemberDoc]) -> list[list[MemberDoc]]:
    """Each group's members still there, in name order; groups of one dropped."""
    found = [sorted((docs[i] for i in ids if i in docs), key=lambda d: d["sort_key"]) for ids in groups]
    return [group for group in found if len(group) > 1]


class Finding:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def filter(self, who: Identity, query: MemberFilters) -> MemberFilter:
        """The caller's filters, narrowed to their reach."""
        reach = await self.deps.reach(who)
        orgs = await self._organizations(query, reach)
        return MemberFilter(
            q=query.q,
            organization_ids=frozenset(orgs) if orgs is not None else None,
            status=query.status,
            expertise=query.expertise,
            title=query.title,
            young=query.young_intellectual,
            dues_state=query.dues_state,
        )

    async def _organizations(self, query: MemberFilters, reach: Reach) -> set[str] | frozenset[str] | None:
        if not query.organization_id:
            return reach.within(None)
        org = await self.deps.organization(None, query.organization_id)
        orgs = await self.deps.tree.subtree(org["_id"]) if query.include_subtree else {org["_id"]}
        if reach.covers_all(orgs):
            return orgs
        if not reach.covers(org["_id"]):
            raise NotYours(MESSAGES("membership.not_yours"))
        return reach.within(orgs)

    async def search(self, who: Identity, query: MemberQuery) -> dict[str, Any]:
        return await self._page(who, await self.filter(who, query), query.limit, query.after)

    async def unpaid(self, who: Identity, org_id: str, query: UnpaidQuery) -> dict[str, Any]:
        # Built, not validated: an id from the path of any length is simply not found.
        base = await self.filter(who, MemberFilters.model_construct(organization_id=org_id, status="active"))
        f = MemberFilter(organization_ids=base.organization_ids, status="active", dues_state="unpaid")
        return await self._page(who, f, query.limit, query.after)

    async def _page(self, who: Identity, f: MemberFilter, limit: int, after: str | None) -> dict[str, Any]:
        today = lifecycle.local_today(now_utc())
        query, start = member_query(f, today), uncursor(after)
        if f.q and is_name_search(f.q):  # through the name terms, then checked exactly (shared/search.py)
            docs = await self.deps.members.search(
                f.q, query, limit=limit + 1, after=start, scope=f.organization_ids, pattern=word_prefix_pattern(f.q)
            )
        else:
            docs = await self.deps.members.page(query, limit=limit + 1, after=start)
        more = len(docs) > limit
        docs = docs[:limit]
        next_key = docs[-1]["sort_key"] if more and docs else None
        return {"items": [public_member(d, who, today) for d in docs], "next_after": cursor(next_key)}

    async def index_names(self, batch: int = 1000) -> int:
        """Give members stored before name search its terms (at start); how many."""
        done = 0
        while docs := await self.deps.members.without_terms(batch):
            await self.deps.members.index_terms(docs)
            done += len(docs)
        return done

    async def every(self, f: MemberFilter) -> AsyncIterator[MemberDoc]:
        async for doc in self.deps.members.every(member_query(f, lifecycle.local_today(now_utc()))):
            yield doc

    async def duplicates(self, who: Identity, limit: int = 100) -> dict[str, Any]:
        """Groups of members with the same folded name and date of birth, within reach."""
        reach = await self.deps.reach(who)
        match: dict[str, Any] = {"status": {"$ne": "erased"}, "date_of_birth": {"$exists": True}}
        if not reach.everything:
            match["organization_ids"] = {"$in": reach.as_list()}
        groups = await self.deps.members.duplicate_groups(match, limit)
        docs = {d["_id"]: d for d in await self.deps.members.many([i for g in groups for i in g])}
        return {"groups": [{"members": [public_member(d, who) for d in group]} for group in _found(groups, docs)]}

    async def counts(self) -> dict[str, Any]:
        """Members per status (aggregate figures survive erasure)."""
        counts = await self.deps.members.status_counts()
        return {"counts": {s: counts.get(s, 0) for s in STATUSES}}
