"""Word-prefix search (folded, diacritics ignored: "ng van a") through an index that both
real MongoDB and the embedded store serve: one small *term* document per (folded word
prefix, owner), in a collection of its own.

Why this shape — measured on nx-27017 (neosqlite turns a query into SQL over a JSON
column; an index is an SQLite expression index on one field; bench/member_search.py):
- served from an index: equality, and `$gt`/`$gte`/`$lt` ranges, on a scalar field
  that has an index of its own, with `sort` on that same field (no sorting step, so
  `limit` stops the walk early); `_id: {$in: …}`; `count` commands on such a range;
- not served: `$in`/`$all` on any field (`json_each` on each row: fine as a filter
  beside an indexed range, a scan alone), a field that is only the first key of a
  compound index (equality becomes an array-aware `OR`), a top-level `$and`, or a `$or`
  beside other conditions (the whole collection is read and filtered in Python),
  `count_documents` (an aggregation: every document read), and `$regex` (a Python call
  per row, ~9 µs).

So a term's `key` is "<prefix> <order>" (the owner's sort key after the prefix): one
range on `key` yields the owners having a word that begins with the prefix, already in
list order, a page at a time. The walk is driven by the query word with the fewest
terms (counted from the index alone) and filtered on the term itself by the other
words (`words`: every prefix of the owner's text, `$all`) and by the caller's reach
(`scope`, `$in`); if the caller asks, the terms returned are checked in Python against
a regular expression on the folded text they carry (`text`: word order, say). The
caller then reads the owners found by id with its exact filters (so a stale term can
only cost time, never show a wrong result) and asks for more while the walk has more
and the page is not full.

Terms are derived data, written beside the owner. A term's `_id` is a digest of its key,
of what it is filtered on (the owner's folded text, its scope) and of a *stamp*: a random
token each write that changes an owner's terms draws and stores on the owner with that
write (`rewrite`), so no two writes ever share a term. A writer adds its new terms *before*
the owner's write, then (`Rewrite.leftover`):
- the write is made: it drops the terms of the owner as it read it. No later state of the
  owner has them: a later write that changes its terms stamps its own, one that does not
  keeps the stamp this write stored. (Ids from content alone let a late drop remove terms a
  later write relied on: renames X→Y then Y→X, the first dropping X's terms last.)
- the write is refused (changed meanwhile, a unique key taken): it drops its own terms,
  nobody else's. (Ids from content alone let the loser of a double-submitted rename drop
  the winner's identical terms.)
- the outcome is unknown (a crash, a cancel): nothing is dropped. An extra term only costs
  time, the owner's exact filter discards it; an owner is never missing from search.
An update that changes no term field draws no stamp and writes no term. Terms written
before stamps (the owner's marker is `UNSTAMPED`; the start-up backfills still write them
so) have ids from content alone: they keep serving searches and go, by those ids, at the
owner's next change. An owner's erasure forgets all its terms, however written.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pymongo.asynchronous.collection import AsyncCollection

from shared.batching import GroupWrite
from shared.mongo import IndexSpec, insert_groups_unless_taken
from shared.text import fold, query_words, word_prefixes

LONGEST = 12  # letters of a word kept as a prefix (longer query words are cut, then checked exactly)
FIRST_BATCH_MIN, BATCH_MAX, BATCH_GROWTH = 20, 1000, 4
COUNTED = 3  # query words counted at most, to choose the one that drives a search
T = TypeVar("T")
Term = dict[str, Any]
UNSTAMPED = 1  # an owner's marker once terms with ids from content alone are written for it


def term_indexes(collection: str) -> list[IndexSpec]:
    """The indexes of a term collection: the walk's key, and the owner (erasure)."""
    return [IndexSpec(collection, [("key", 1)]), IndexSpec(collection, [("owner", 1)])]


def search_words(query: str) -> list[str]:
    """The distinct folded words of a query, in order, each cut to what terms store."""
    return list(dict.fromkeys(query_words(query, LONGEST)))


def terms(owner: str, text: str, order: str, scope: Iterable[str] = (), stamp: str | None = None) -> list[Term]:
    """The term documents of an owner: `order` places it in lists (unique: end it with the
    owner's id), `scope` the ids a caller's reach is matched against, `stamp` the one its
    terms were written with (None: ids from content alone)."""
    words = word_prefixes(text, LONGEST)
    folded = fold(text)
    reach = sorted(set(scope))
    content = "\x1f".join([folded, *reach]) + (f"\x1e{stamp}" if stamp else "")
    digest = hashlib.blake2b(content.encode(), digest_size=6).hexdigest()
    return [
        {
            "_id": _short_id(f"{w} {order} {digest}"),
            "owner": owner,
            "key": f"{w} {order}",
            "words": words,
            "scope": reach,
            "text": folded,
        }
        for w in words
    ]


def _short_id(text: str) -> str:
    """A term's id: short, since the embedded store parses every term it walks past whole."""
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def stamp_of(marker: Any) -> str | None:
    """The stamp an owner's marker holds (None: its terms have ids from content alone)."""
    return marker if isinstance(marker, str) else None


@dataclass(frozen=True)
class Rewrite:
    """What one write of an owner does to its terms: `added` go in before the write, `stamp`
    (None: the write changes no term) is stored on the owner with it."""

    added: list[Term]
    replaced: list[str]  # ids of the terms of the owner as the writer read it
    stamp: str | None

    def leftover(self, written: bool) -> list[str]:
        """Ids to drop once the owner's write is known made (the replaced terms) or refused
        (this write's own): never terms another write may need (the module's docstring)."""
        return self.replaced if written else [t["_id"] for t in self.added]

    def stamped(self, update: dict[str, Any], field: str) -> dict[str, Any]:
        """`update` also storing the stamp in the owner's `field`, if the terms change."""
        if self.stamp is None:
            return update
        return {**update, "$set": {**(update.get("$set") or {}), field: self.stamp}}


def rewrite(
    derive: Callable[[Mapping[str, Any]], list[Term]],
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any],
    field: str,
) -> Rewrite:
    """How an owner's terms follow a write taking it from `before` (None: a new owner) to
    `after`; `derive` gives an owner's terms with the stamp its `field` holds."""
    old = derive(before) if before is not None else []
    if before is not None and _ids(derive({**after, field: before.get(field)})) == _ids(old):
        return Rewrite([], [], None)  # no term field changes: no stamp, no term written
    stamp = secrets.token_hex(6)
    return Rewrite(derive({**after, field: stamp}), [t["_id"] for t in old], stamp)


def rewrite_update(
    derive: Callable[[Mapping[str, Any]], list[Term]],
    before: Mapping[str, Any],
    update: Mapping[str, Any],
    fields: Sequence[str],
    field: str,
) -> Rewrite:
    """`rewrite` for an update of the owner as read: the term `fields` its `$set` gives,
    the others as they were."""
    set_ = update.get("$set") or {}
    return rewrite(derive, before, {**before, **{k: set_[k] for k in fields if k in set_}}, field)


def _ids(found: Sequence[Term]) -> set[str]:
    return {t["_id"] for t in found}


def worth_counting(words: Sequence[str], most: int = COUNTED) -> list[str]:
    """The words that may drive a search (each is counted: a command): not one letter beside a
    longer word (a letter begins too many words to be the rarest), and of a long query only
    the `most` longest words (the longer a prefix, the fewer words it begins), in query order."""
    candidates = [w for w in words if len(w) > 1] or list(words)
    longest = set(sorted(candidates, key=len, reverse=True)[:most])
    return [w for w in candidates if w in longest][:most]


def driving_word(words: Sequence[str], counts: Mapping[str, int]) -> str:
    """The word whose terms are fewest (ties: the longer, then the later word)."""
    ranked = sorted(enumerate(words), key=lambda iw: (counts.get(iw[1], 0), -len(iw[1]), -iw[0]))
    return ranked[0][1]


def key_range(word: str, after: str | None = None) -> dict[str, str]:
    """The `key` range of a word's terms (after the order key `after`, if given)."""
    if after:
        return {"$gt": f"{word} {after}", "$lt": f"{word}!"}
    return {"$gte": f"{word} ", "$lt": f"{word}!"}


def walk_filter(word: str, others: Sequence[str], after: str | None, scope: Sequence[str] | None) -> dict[str, Any]:
    """The store filter of one walk: `word`'s terms after `after`, having every other word,
    within `scope` (None: everything). Top-level fields only (a top-level `$and` is a scan)."""
    query: dict[str, Any] = {"key": key_range(word, after)}
    if others:
        query["words"] = {"$all": list(others)}
    if scope is not None:
        query["scope"] = {"$in": list(scope)}
    return query


@dataclass(frozen=True)
class Hit:
    owner: str
    order: str
    text: str


class TermIndex:
    """One term collection: writing an owner's terms, and walking them for a search."""

    def __init__(self, collection: AsyncCollection) -> None:
        self.collection = collection
        # The terms of owners written in the same loop turn (requests in flight) go as one insert.
        self._adds: GroupWrite[Sequence[Term], None] = GroupWrite(self._insert)

    async def add(self, new: Sequence[Term]) -> None:
        """Insert terms; ones already there (same id, so same content) are fine."""
        if new:
            await self._adds.submit(new)

    async def _insert(self, batches: list[Sequence[Term]]) -> list[Exception | None]:
        outcomes = await insert_groups_unless_taken(self.collection, batches)  # taken: same content
        return [outcome if isinstance(outcome, Exception) else None for outcome in outcomes]

    async def drop(self, ids: Sequence[str]) -> None:
        if ids:
            await self.collection.delete_many({"_id": {"$in": list(ids)}})

    async def forget(self, owner: str) -> None:
        """Every term of an owner, however written (erasure)."""
        await self.collection.delete_many({"owner": owner})

    async def counts(self, words: Sequence[str]) -> dict[str, int]:
        """Terms per word (from the `key` index alone), one `count` command per word, concurrently
        (not count_documents: its aggregation reads every document on the embedded store)."""
        db, name = self.collection.database, self.collection.name
        found = await asyncio.gather(*(db.command({"count": name, "query": {"key": key_range(w)}}) for w in words))
        return {w: int(f["n"]) for w, f in zip(words, found, strict=True)}

    async def walk(
        self, word: str, others: Sequence[str], *, after: str | None, scope: Sequence[str] | None, limit: int
    ) -> list[Hit]:
        query = walk_filter(word, others, after, scope)
        cursor = self.collection.find(query, {"owner": 1, "key": 1, "text": 1}).sort("key", 1).limit(limit)
        return [Hit(t["owner"], t["key"][len(word) + 1 :], t.get("text", "")) async for t in cursor]

    async def search(
        self,
        query: str,
        fetch: Callable[[list[str]], Awaitable[list[T]]],
        *,
        limit: int,
        after: str | None = None,
        scope: Iterable[str] | None = None,
        pattern: str | None = None,
    ) -> list[T]:
        """Up to `limit` owners whose words begin with the query's words, in list order after
        the order key `after`. `fetch(ids)` reads those owners (ids in list order) with the
        caller's exact filters and returns the ones that pass, in the order of `ids` (no sort
        in the store: a sort on two keys costs the embedded store more than the read).
        `pattern`: a regular expression the owner's folded text must match (word order, say),
        checked on the terms found before any owner is read."""
        words = search_words(query)
        reach = sorted(set(scope)) if scope is not None else None
        if not words or limit <= 0 or reach == []:
            return []
        candidates = worth_counting(words)
        word = candidates[0] if len(candidates) == 1 else driving_word(candidates, await self.counts(candidates))
        others = [w for w in words if w != word]
        check = re.compile(pattern).search if pattern else None
        found: list[T] = []
        seen: set[str] = set()  # an owner's stale terms may place it twice
        batch = max(limit, FIRST_BATCH_MIN)
        while True:
            hits = await self.walk(word, others, after=after, scope=reach, limit=batch)
            passed = [h.owner for h in hits if check is None or check(h.text)]
            owners = [o for o in dict.fromkeys(passed) if o not in seen]
            seen.update(owners)
            if owners:
                found += await fetch(owners)
            if len(found) >= limit or len(hits) < batch:
                return found[:limit]
            after = hits[-1].order
            # Nothing yet: what the words find, the rest of the query refuses; read on in big steps.
            batch = BATCH_MAX if not found else min(batch * BATCH_GROWTH, BATCH_MAX)
