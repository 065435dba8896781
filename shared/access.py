"""Who may see what: one rule, written once — an identity's *reach*.

Scopes say what *kind* of thing a caller may touch (checked per endpoint in
shared/api.py); reach says *which ones*:

- an admin reaches every organisation;
- a manager, and a partner key bound to an organisation, reach that organisation
  and everything below it (its subtree);
- a partner key bound to no organisation reaches everything its scopes allow;
- a judge reaches no organisation (the contests service gives judges the entries
  assigned to them); anonymous callers reach nothing.

Every service asks `reach_of` and filters every read, write, listing, export and
error message with the answer. An object outside the caller's reach is *not
found* (404), never forbidden (403): existence must not leak.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass

from shared.identity import Identity

ParentMap = Mapping[str, str | None]


@dataclass(frozen=True)
class Reach:
    """The organisations an identity may act on (`everything` for all of them)."""

    everything: bool
    organizations: frozenset[str] = frozenset()

    @classmethod
    def all(cls) -> Reach:
        return cls(True)

    @classmethod
    def none(cls) -> Reach:
        return cls(False)

    @property
    def nothing(self) -> bool:
        return not self.everything and not self.organizations

    def covers(self, organization_id: str | None) -> bool:
        """May the caller act on this organisation (or on what it owns)?"""
        return self.everything or (organization_id is not None and organization_id in self.organizations)

    def covers_any(self, organization_ids: Iterable[str | None]) -> bool:
        """May the caller act on something that belongs to any of these organisations
        (a member of several associations is reachable through any of them)?"""
        return self.everything or any(o in self.organizations for o in organization_ids if o is not None)

    def covers_all(self, organization_ids: Iterable[str | None]) -> bool:
        return self.everything or all(o in self.organizations for o in organization_ids if o is not None)

    def within(self, wanted: Iterable[str] | None) -> frozenset[str] | None:
        """A caller's filter narrowed to their reach: None means "no limit"."""
        if wanted is None:
            return None if self.everything else self.organizations
        wanted = frozenset(wanted)
        return wanted if self.everything else wanted & self.organizations

    def as_list(self) -> list[str] | None:
        """The organisations for a store query (`$in`), sorted; None when unlimited."""
        return None if self.everything else sorted(self.organizations)


def subtree_ids(root_id: str, parent_of: ParentMap) -> set[str]:
    """`root_id` and every organisation below it."""
    children: dict[str | None, list[str]] = {}
    for node, parent in parent_of.items():
        children.setdefault(parent, []).append(node)
    out: set[str] = set()
    stack = [root_id]
    while stack:
        node = stack.pop()
        if node in out:
            continue
        out.add(node)
        stack.extend(children.get(node, ()))
    return out


def ancestor_ids(node_id: str, parent_of: ParentMap) -> list[str]:
    """`node_id` and the organisations above it, nearest first."""
    chain: list[str] = []
    current: str | None = node_id
    while current is not None and current not in chain and current in parent_of:
        chain.append(current)
        current = parent_of.get(current)
    return chain


def reach_from(who: Identity, parent_of: ParentMap) -> Reach:
    """The rule itself, on a snapshot of the organisation tree (child → parent)."""
    if who.is_admin:
        return Reach.all()
    if who.is_judge or who.is_anonymous:
        return Reach.none()
    if who.organization_id:
        if who.organization_id not in parent_of:
            return Reach.none()  # an unknown (or dissolved) organisation reaches nothing
        return Reach(False, frozenset(subtree_ids(who.organization_id, parent_of)))
    if who.is_manager:
        return Reach.none()  # a manager of no organisation manages nothing
    return Reach.all() if who.is_partner else Reach.none()


class OrganizationTree:
    """A service's view of the organisation tree for reach checks: the child → parent
    map, read from the service's store (its own organisations, or its projection of
    membership's) and kept for `ttl_seconds` so a request costs no store round trip.
    Writes in this process call `invalidate()`; other replicas see a change within
    the ttl."""

    def __init__(self, load: Callable[[], Awaitable[ParentMap]], ttl_seconds: float = 1.0) -> None:
        self._load = load
        self.ttl_seconds = ttl_seconds
        self._snapshot: ParentMap | None = None
        self._read_at = 0.0
        self._reading: asyncio.Future[ParentMap] | None = None

    async def parents(self) -> ParentMap:
        """The tree, read again once the snapshot is older than the ttl: one read however
        many requests ask at once."""
        now = time.monotonic()
        if self._snapshot is None or now - self._read_at > self.ttl_seconds:
            if self._reading is None or self._reading.done():
                self._reading = asyncio.ensure_future(self._read())
            return await asyncio.shield(self._reading)
        return self._snapshot

    async def _read(self) -> ParentMap:
        snapshot = dict(await self._load())
        self._snapshot, self._read_at = snapshot, time.monotonic()
        return snapshot

    def invalidate(self) -> None:
        self._snapshot = None

    async def reach(self, who: Identity) -> Reach:
        if not who.organization_id:  # the tree decides nothing for them (admin, unbound key, judge…)
            return reach_from(who, {})
        return reach_from(who, await self.parents())

    async def subtree(self, root_id: str) -> set[str]:
        parents = await self.parents()
        return subtree_ids(root_id, parents) if root_id in parents else set()

    async def ancestors(self, node_id: str) -> list[str]:
        return ancestor_ids(node_id, await self.parents())

    async def exists(self, organization_id: str) -> bool:
        return organization_id in await self.parents()
