"""Conflicts of interest and the assignment of entries to judges: pure rules.

A judge never scores an entry
- from their own member association (the organisation just below the federation in
  the tree, so an association's branches count as the association; a judge from
  the federation's own office has no such conflict),
- from an organisation they declared a conflict with,
- by a co-author or a relative they declared (matched by member id, or by the name
  folded without diacritics),
- that they declared a conflict with directly (they recused themselves).

Assignment gives each entry judges of its field's panel until it has the number
the edition asks for: the least loaded judge first (ties by username), never one
with a conflict, never one who already had the entry (a recusal is not undone).
Entries that cannot get enough judges are reported, not half-served silently.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from shared.access import ParentMap


@dataclass(frozen=True)
class Panelist:
    username: str
    organization_id: str | None
    fields: frozenset[str]
    conflicts: tuple[Mapping[str, object], ...] = ()


@dataclass(frozen=True)
class Contender:
    entry_id: str
    code: str
    field: str
    organization_ids: tuple[str, ...] = ()
    member_ids: tuple[str, ...] = ()
    author_keys: tuple[str, ...] = ()  # folded author names


@dataclass
class Plan:
    pairs: list[tuple[str, str]] = field(default_factory=list)  # (entry id, username)
    shortfalls: list[tuple[str, int, int]] = field(default_factory=list)  # (entry id, wanted, has)


def association_of(organization_id: str | None, parent_of: ParentMap) -> str | None:
    """The organisation just below the top of the tree that `organization_id` belongs to
    (None for the top itself, or an organisation not in the tree)."""
    chain: list[str] = []
    current = organization_id
    while current is not None and current in parent_of and current not in chain:
        chain.append(current)
        current = parent_of[current]
    return chain[-2] if len(chain) >= 2 else None


def conflict(judge: Panelist, entry: Contender, parent_of: ParentMap) -> str | None:
    """Why `judge` may not score `entry` (the conflict's kind), or None."""
    entry_associations = {association_of(o, parent_of) for o in entry.organization_ids} - {None}
    declared_orgs = [c.get("organization_id") for c in judge.conflicts if c.get("kind") == "organization"]
    for organization_id in (judge.organization_id, *declared_orgs):
        if not isinstance(organization_id, str):
            continue
        if (
            organization_id in entry.organization_ids
            or association_of(organization_id, parent_of) in entry_associations
        ):
            return "organization"
    for declared in judge.conflicts:
        kind = str(declared.get("kind"))
        if kind == "entry" and declared.get("entry_id") == entry.entry_id:
            return "entry"
        if kind in ("coauthor", "relative"):
            member_id, person_key = declared.get("member_id"), declared.get("person_key")
            if (member_id and member_id in entry.member_ids) or (person_key and person_key in entry.author_keys):
                return kind
    return None


def assign(
    entries: Iterable[Contender],
    judges: Iterable[Panelist],
    *,
    had: Mapping[str, set[str]],
    active: Mapping[str, int],
    per_entry: int,
    parent_of: ParentMap,
) -> Plan:
    """New (entry, judge) pairs so each entry reaches `per_entry` active judges.

    `had`: the judges each entry ever had (assigned, submitted, withdrawn); `active`:
    how many of them still count, per entry. Deterministic for the same inputs."""
    panel = sorted(judges, key=lambda j: j.username)
    load: Counter[str] = Counter()
    for usernames in had.values():
        load.update(usernames)
    plan = Plan()
    for entry in sorted(entries, key=lambda e: e.code):
        wanted = per_entry - active.get(entry.entry_id, 0)
        if wanted <= 0:
            continue
        seen = had.get(entry.entry_id, set())
        candidates = [
            j
            for j in panel
            if entry.field in j.fields and j.username not in seen and conflict(j, entry, parent_of) is None
        ]
        chosen = sorted(candidates, key=lambda j: (load[j.username], j.username))[:wanted]
        for judge in chosen:
            plan.pairs.append((entry.entry_id, judge.username))
            load[judge.username] += 1
        if len(chosen) < wanted:
            plan.shortfalls.append((entry.entry_id, per_entry, active.get(entry.entry_id, 0) + len(chosen)))
    return plan
