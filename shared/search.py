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

Terms are derived data, written beside the owner: a term's `_id` is a digest of its key
and of what it is filtered on (the owner's folded text, its scope), so when an owner
changes, its terms to write and to drop are the ones whose ids differ. Writers add the
new terms *before* the owner's write and drop the old ones after it succeeds (a crash in
between leaves extra terms, which the exact filter discards, never an owner missing
from search); an owner's erasure forgets all its terms.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pymongo.asynchronous.collection import AsyncCollection

from shared.batching import GroupWrite
from shared.mongo import IndexSpec, insert_unless_taken
from shared.text import fold, query_words, word_prefixes

LONGEST = 12  # letters of a word kept as a prefix (longer query words are cut, then checked exactly)
FIRST_BATCH_MIN, BATCH_MAX, BATCH_GROWTH = 20, 1000, 4
COUNTED = 3  # query words counted at most, to choose the one that drives a search
T = TypeVar("T")
Term = dict[str, Any]


def term_indexes(collection: str) -> list[IndexSpec]:
    """The indexes of a term collection: the walk's key, and the owner (erasure)."""
    return [IndexSpec(collection, [("key", 1)]), IndexSpec(collection, [("owner", 1)])]


def search_words(query: str) -> list[str]:
    """The distinct folded words of a query, in order, each cut to what terms store."""
    return list(dict.fromkeys(query_words(query, LONGEST)))


def terms(owner: str, text: str, order: str, scope: Iterable[str] = ()) -> list[Term]:
    """The term documents of an owner: `order` places it in lists (unique: end it with the
    owner's id), `scope` the ids a caller's reach is matched against."""
    words = word_prefixes(text, LONGEST)
    folded = fold(text)
    reach = sorted(set(scope))
    digest = hashlib.blake2b("\x1f".join([folded, *reach]).encode(), digest_size=6).hexdigest()
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


def changed(before: Sequence[Term], after: Sequence[Term]) -> tuple[list[Term], list[str]]:
    """(terms to add, ids of terms to drop) to go from `before` to `after`."""
    old = {t["_id"] for t in before}
    new = {t["_id"] for t in after}
    return [t for t in after if t["_id"] not in old], sorted(old - new)


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

    async def _insert(self, batches: list[Sequence[Term]]) -> list[None]:
        await insert_unless_taken(self.collection, [t for batch in batches for t in batch])  # taken: same content
        return [None] * len(batches)

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
