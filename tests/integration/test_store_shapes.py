"""Every query shape the services rely on, run against the store in use.

The embedded store (nx-27017) is not MongoDB: these tests pin down the shapes we
use, so a quirk shows up here and not in production. Known quirks, which the code
works around: a sub-document pushed into an array comes back as a JSON string and
a conditional `$pull` removes too much (so the outbox uses a map, not an array);
an `_id` inside a compound index is refused; in a write (update_one,
find_one_and_update) a top-level `$or` beside other conditions makes it ignore those
conditions, `_id` included, so such filters put the `$or` inside `$and`; `$set` on a
path into a list (`authors.0.name`) is ignored and a query on a field inside a list
of sub-documents finds nothing (lift what is searched into a top-level list of
strings; write lists whole); a datetime written by `$set` comes
back as text (restored by `shared.mongo.from_store`), compares to the second only
and not at all in count_documents (so leases and due times are epoch numbers,
`shared.clock.epoch`); a bool written by `$set` comes back as 1/0;
`replace_one(..., upsert=True)` ignores the filter's `_id` and stores the document
under a new ObjectId (use `update_one` with `$set`); with an index on an array field,
an equality match finds nothing while `$in` works. GridFS (`AsyncGridFSBucket`)
works through the bucket's own calls (nx-27017 maps a bucket to tables of its
own), but `count_documents` on `<bucket>.files`/`.chunks` fails and a GridFS
upload stream cannot be aborted (its `abort` deletes a files document that is not
there yet and errors): check a file before writing it, and keep counts elsewhere.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from gridfs import AsyncGridFSBucket
from gridfs.errors import NoFile
from pymongo import ReturnDocument, UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError

from shared.clock import epoch
from shared.mongo import IndexSpec, duplicate_key, ensure_indexes, from_store
from shared.search import TermIndex, term_indexes, terms, walk_filter

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


async def test_every_write_waits_for_a_majority_and_reads_see_it_at_once(db):
    """The services' client writes with w: majority and reads with read concern majority
    (on a replica set a failover never takes back an acknowledged write); every write
    shape we use is accepted so, and a read right after it sees it."""
    assert db.client.write_concern.document == {"w": "majority"}
    assert db.client.read_concern.document == {"level": "majority"}
    await db.shapes.insert_one({"_id": "a", "n": 1})
    await db.shapes.update_one({"_id": "a"}, {"$inc": {"n": 1}})
    await db.shapes.find_one_and_update({"_id": "a"}, {"$inc": {"n": 1}})
    await db.shapes.bulk_write([UpdateOne({"_id": "b"}, {"$set": {"n": 1}}, upsert=True)])
    assert [d["n"] async for d in db.shapes.find({}).sort("_id", 1)] == [3, 1]


async def test_unique_sparse_indexes_refuse_duplicates_but_allow_missing_values(db):
    await ensure_indexes(db, [IndexSpec("people", [("email", 1)], unique=True, sparse=True)])
    await db.people.insert_one({"_id": "a", "email": "a@x.vn"})
    await db.people.insert_one({"_id": "b"})
    await db.people.insert_one({"_id": "c"})
    with pytest.raises(DuplicateKeyError) as err:
        await db.people.insert_one({"_id": "d", "email": "a@x.vn"})
    assert duplicate_key(err.value) == "email"
    with pytest.raises(DuplicateKeyError) as err:
        await db.people.insert_one({"_id": "a"})
    assert duplicate_key(err.value) == "_id"


async def test_an_atomic_lease_is_taken_by_exactly_one_claimant(db):
    await db.jobs.insert_one({"_id": "j", "lease_until": epoch(NOW, plus_seconds=-1)})
    claims = []
    for worker in ("w1", "w2"):
        claims.append(
            await db.jobs.find_one_and_update(
                {"_id": "j", "lease_until": {"$lt": epoch(NOW)}},
                {"$set": {"lease_until": epoch(NOW, plus_seconds=60), "owner": worker}},
                return_document=ReturnDocument.AFTER,
            )
        )
    assert claims[0]["owner"] == "w1" and claims[1] is None


async def test_conditional_upsert_keeps_the_newest_copy(db):
    await db.contacts.insert_one({"_id": "other", "name": "someone else", "as_of": NOW - timedelta(days=1)})

    async def apply(version_time, name):
        try:
            await db.contacts.update_one(
                {"$and": [{"_id": "m"}, {"$or": [{"as_of": {"$lte": version_time}}, {"as_of": {"$exists": False}}]}]},
                {"$set": {"name": name, "as_of": version_time}},
                upsert=True,
            )
        except DuplicateKeyError:
            pass  # a stale copy: the stored one is newer

    await apply(NOW, "new")
    await apply(NOW - timedelta(minutes=5), "old")  # arrives late
    assert (await db.contacts.find_one({"_id": "m"}))["name"] == "new"
    await apply(NOW + timedelta(minutes=5), "newer")
    assert (await db.contacts.find_one({"_id": "m"}))["name"] == "newer"
    assert (await db.contacts.find_one({"_id": "other"}))["name"] == "someone else"


async def test_an_or_beside_other_conditions_of_a_write_goes_inside_and(db):
    """nx-27017 quirk: in update_one/find_one_and_update, a top-level `$or` beside other
    conditions makes the store ignore those conditions (the `_id` included) and write
    to whichever document matches the `$or`. Wrapped in `$and`, it is right on both."""
    await db.leases.insert_many([{"_id": "a", "owner": "x", "until": 5}, {"_id": "b", "owner": "y", "until": 1}])
    cond = {"$or": [{"owner": "z"}, {"until": {"$lt": 3}}]}
    assert await db.leases.find_one_and_update({"$and": [{"_id": "a"}, cond]}, {"$set": {"owner": "z"}}) is None
    result = await db.leases.update_one({"$and": [{"_id": "a"}, cond]}, {"$set": {"owner": "z"}})
    assert result.matched_count == 0
    assert [d["owner"] async for d in db.leases.find({}).sort("_id", 1)] == ["x", "y"]
    # Reads are not affected, but keep to one form.
    assert await db.leases.find_one({"$and": [{"_id": "a"}, cond]}) is None


async def test_map_keys_are_set_and_unset_one_by_one(db):
    await db.docs.insert_one({"_id": 1, "m": {"a": "1"}, "flag": True, "at": NOW})
    await db.docs.update_one({"_id": 1}, {"$set": {"m.b": "2", "m.c": "3", "flag": True}, "$inc": {"rev": 1}})
    await db.docs.update_one({"_id": 1}, {"$unset": {"m.a": "", "m.c": ""}})
    doc = await db.docs.find_one({"_id": 1})
    assert doc["m"] == {"b": "2"} and doc["rev"] == 1
    assert [d["_id"] async for d in db.docs.find({"flag": True, "at": {"$lte": NOW}})] == [1]
    await db.docs.update_one({"_id": 1}, {"$set": {"flag": False}})
    assert await db.docs.count_documents({"flag": True}) == 0


async def test_timestamps_written_by_updates_read_back_as_datetimes(db):
    await db.docs.insert_one({"_id": 2})
    await db.docs.update_one({"_id": 2}, {"$set": {"sent_at": NOW}})
    doc = from_store(await db.docs.find_one({"_id": 2}))
    assert doc["sent_at"] == NOW


async def test_epoch_numbers_compare_exactly_after_updates(db):
    await db.leases.insert_one({"_id": "l"})
    await db.leases.update_one({"_id": "l"}, {"$set": {"until": epoch(NOW, plus_seconds=0.25)}})
    assert await db.leases.count_documents({"until": {"$lt": epoch(NOW, plus_seconds=0.5)}}) == 1
    assert await db.leases.count_documents({"until": {"$lt": epoch(NOW, plus_seconds=0.1)}}) == 0


async def test_sorted_paging_filters_and_arrays_of_strings(db):
    await db.items.insert_many([{"_id": f"i{i}", "n": i % 3, "tags": ["x", f"t{i}"]} for i in range(10)])
    page = [d["_id"] async for d in db.items.find({"_id": {"$gt": "i3"}}).sort("_id", 1).limit(3)]
    assert page == ["i4", "i5", "i6"]
    assert [d["_id"] async for d in db.items.find({"tags": "t7"})] == ["i7"]
    assert await db.items.count_documents({"n": {"$in": [0, 2]}}) == 7
    grouped = [d async for d in await db.items.aggregate([{"$group": {"_id": "$n", "count": {"$sum": 1}}}])]
    assert sorted((g["_id"], g["count"]) for g in grouped) == [(0, 4), (1, 3), (2, 3)]


async def test_a_versioned_compare_and_set_succeeds_once_per_version(db):
    # The gateway's shared rate-limit buckets: each lease is a compare-and-set on `v`.
    await db.buckets.insert_one({"_id": "caller", "tokens": 10.0, "at": 1000.5, "v": 1})
    first = await db.buckets.update_one(
        {"_id": "caller", "v": 1}, {"$set": {"tokens": 7.25, "at": 1001.5}, "$inc": {"v": 1}}
    )
    late = await db.buckets.update_one({"_id": "caller", "v": 1}, {"$set": {"tokens": 0.0, "at": 1002.0}})
    assert first.modified_count == 1 and late.modified_count == 0
    doc = await db.buckets.find_one({"_id": "caller"})
    assert doc["tokens"] == 7.25 and doc["at"] == 1001.5 and doc["v"] == 2
    await db.buckets.delete_many({"at": {"$lt": 1002.0}})
    assert await db.buckets.count_documents({}) == 0


async def test_an_upserted_counter_returns_its_count(db):
    # The gateway's login guards: failed logins in a row, for usernames known or not.
    counts = [
        (
            await db.guards.find_one_and_update(
                {"_id": "h"}, {"$inc": {"failed": 1}}, upsert=True, return_document=ReturnDocument.AFTER
            )
        )["failed"]
        for _ in range(3)
    ]
    assert counts == [1, 2, 3]
    await db.guards.update_one({"_id": "h"}, {"$set": {"locked_until": 1000.0, "failed": 0}})
    assert await db.guards.count_documents({"locked_until": {"$lt": 2000.0}}) == 1


async def test_a_set_an_inc_and_a_projection_in_one_find_and_modify(db):
    # A staff account ending every login: the change, the generation and the event in one write.
    await db.staff.insert_one({"_id": "lan", "role": "admin", "password_hash": "x", "disabled_at": None})
    doc = await db.staff.find_one_and_update(
        {"_id": "lan"},
        {"$set": {"disabled_at": NOW, "_outbox.e1": "{}", "_outbox_pending": True}, "$inc": {"logins_generation": 1}},
        projection={"password_hash": 0},
        return_document=ReturnDocument.AFTER,
    )
    assert doc["logins_generation"] == 1 and "password_hash" not in doc
    assert from_store(doc)["disabled_at"] == NOW
    assert [d["_id"] async for d in db.staff.find({"role": "admin"}, {"password_hash": 0})] == ["lan"]


# --- shapes the contests service relies on ----------------------------------------------


async def test_gridfs_keeps_files_under_our_ids_and_gives_them_back_in_chunks(db):
    bucket = AsyncGridFSBucket(db, bucket_name="documents")
    data = bytes(range(256)) * 2400  # 614,400 bytes: three chunks
    await bucket.upload_from_stream_with_id("doc-1", "ban-ve.pdf", data, metadata={"entry_id": "e1"})
    await bucket.upload_from_stream_with_id("doc-2", "anh.png", b"\x89PNG tiny", metadata={"entry_id": "e2"})
    stream = await bucket.open_download_stream("doc-1")
    assert stream.length == len(data) and stream.metadata == {"entry_id": "e1"} and stream.filename == "ban-ve.pdf"
    chunks = []
    while chunk := await stream.readchunk():
        chunks.append(chunk)
    assert b"".join(chunks) == data and len(chunks) == 3
    assert [f.filename async for f in bucket.find({"metadata.entry_id": "e2"})] == ["anh.png"]
    await bucket.delete("doc-1")
    with pytest.raises(NoFile):
        await bucket.open_download_stream("doc-1")
    assert await (await bucket.open_download_stream("doc-2")).read() == b"\x89PNG tiny"


async def test_a_nested_list_is_written_whole_and_searched_through_a_list_of_strings(db):
    await ensure_indexes(db, [IndexSpec("entries", [("member_ids", 1)])])
    authors = [{"full_name": "Nguyễn Văn Hùng", "member_id": "m1", "share": 6000}, {"full_name": "Trần Thị Mai"}]
    await db.entries.insert_one({"_id": "e1", "entrant": {"kind": "group", "authors": authors}, "member_ids": ["m1"]})
    assert [d["_id"] async for d in db.entries.find({"member_ids": {"$in": ["m1"]}})] == ["e1"]
    renamed = [{**authors[0], "full_name": "—", "erased": True}, authors[1]]
    await db.entries.update_one({"_id": "e1"}, {"$set": {"entrant.authors": renamed}})
    assert (await db.entries.find_one({"_id": "e1"}))["entrant"]["authors"] == renamed


async def test_conditional_counters_and_map_records_on_one_document(db):
    await db.entries.insert_one({"_id": "e", "status": "screened_in", "sheets_submitted": 0, "documents": {}})
    after = await db.entries.find_one_and_update(
        {"_id": "e", "status": {"$in": ["screened_in", "scored"]}},
        {"$inc": {"sheets_submitted": 1}, "$set": {"documents.d1": {"size": 10, "uploaded_at": NOW}}},
        return_document=ReturnDocument.AFTER,
    )
    assert after["sheets_submitted"] == 1 and from_store(after)["documents"]["d1"]["uploaded_at"] == NOW
    gone = await db.entries.find_one_and_update(
        {"_id": "e", "documents.d1": {"$exists": True}},
        {"$unset": {"documents.d1": ""}, "$inc": {"documents_bytes": -10}},
        return_document=ReturnDocument.AFTER,
    )
    assert gone["documents"] == {} and gone["documents_bytes"] == -10
    assert (
        await db.entries.find_one_and_update({"_id": "e", "documents.d1": {"$exists": True}}, {"$set": {"x": 1}})
        is None
    )
    assert await db.entries.find_one_and_update(
        {"_id": "e", "certificate_code": {"$exists": False}}, {"$set": {"certificate_code": "C"}}
    )


async def test_assignments_inserted_twice_are_kept_once_and_bulk_updates_count_matches(db):
    await db.sheets.insert_many([{"_id": "e1:an"}, {"_id": "e2:an"}])
    with pytest.raises(BulkWriteError) as err:
        await db.sheets.insert_many([{"_id": "e1:an"}, {"_id": "e3:an"}], ordered=False)
    assert [e["code"] for e in err.value.details["writeErrors"]] == [11000]
    assert sorted([d["_id"] async for d in db.sheets.find({})]) == ["e1:an", "e2:an", "e3:an"]
    result = await db.sheets.bulk_write(
        [UpdateOne({"_id": "e1:an"}, {"$set": {"v": 1}}), UpdateOne({"_id": "zz"}, {"$set": {"v": 1}})]
    )
    assert result.matched_count == 1


async def test_rejected_rows_are_found_by_a_nested_field_or_a_held_value_and_emptied_together(db):
    """Membership's erasure of import rows: by `params.member_id`, or by `search $in`
    (a list of strings, not indexed), then one update_many by `_id $in`."""
    await db.errs.insert_many(
        [
            {"_id": "j:2:0", "params": {"member_id": "m1", "member_name": "A"}, "search": ["x"], "cells": {"E": "a"}},
            {"_id": "j:3:1", "params": {}, "search": ["vuong thi xoa", "+84913555666"], "cells": {"N": "V"}},
            {"_id": "j:4:2", "params": {"member_id": "m2"}, "search": ["y"], "cells": {}},
        ]
    )
    by_member = [d["_id"] async for d in db.errs.find({"params.member_id": "m1"}, {"_id": 1})]
    by_value = [d["_id"] async for d in db.errs.find({"search": {"$in": ["+84913555666", "z"]}}, {"_id": 1})]
    assert (by_member, by_value) == (["j:2:0"], ["j:3:1"])
    result = await db.errs.update_many(
        {"_id": {"$in": ["j:2:0", "j:3:1"]}}, {"$set": {"params": {}, "cells": {}, "search": []}}
    )
    assert result.modified_count == 2
    assert await db.errs.find_one({"search": {"$in": ["+84913555666"]}}) is None
    assert (await db.errs.find_one({"_id": "j:4:2"}))["params"] == {"member_id": "m2"}


async def test_members_are_counted_per_organisation_through_an_indexed_array(db):
    await ensure_indexes(db, [IndexSpec("mem", [("organization_ids", 1)])])
    await db.mem.insert_many(
        [
            {"_id": "a", "organization_ids": ["o1", "o2"], "status": "active"},
            {"_id": "b", "organization_ids": ["o1"], "status": "erased"},
            {"_id": "c", "organization_ids": ["o3"], "status": "active"},
        ]
    )
    pipeline = [
        {"$match": {"organization_ids": {"$in": ["o1", "o2"]}, "status": {"$ne": "erased"}}},
        {"$project": {"organization_ids": 1}},
    ]
    docs = await (await db.mem.aggregate(pipeline)).to_list()
    assert [(d["_id"], list(d["organization_ids"])) for d in docs] == [("a", ["o1", "o2"])]


async def test_events_title_words_all_match_through_an_indexed_list(db):
    """Events' title search: every folded word prefix must be in the list (an `$and` of `$in`
    on an indexed array field, beside a status `$in`, an organiser `$in` and a time range)."""
    await ensure_indexes(db, [IndexSpec("evs", [("title_words", 1)])])
    await db.evs.insert_many(
        [
            {"_id": "a", "status": "published", "organizer_id": "o1", "first_start": 10.0, "title_words": ["c", "ch"]},
            {"_id": "b", "status": "published", "organizer_id": "o1", "first_start": 20.0, "title_words": ["c", "d"]},
            {"_id": "c", "status": "draft", "organizer_id": "o1", "first_start": 10.0, "title_words": ["c", "ch"]},
        ]
    )
    match = {
        "status": {"$in": ["published"]},
        "organizer_id": {"$in": ["o1"]},
        "first_start": {"$gte": 5.0, "$lt": 30.0},
        "$and": [{"title_words": {"$in": ["c"]}}, {"title_words": {"$in": ["ch"]}}],
    }
    assert [d["_id"] async for d in db.evs.find(match, {"_outbox": 0}).sort("first_start", 1)] == ["a"]
    del match["$and"]
    match["title_words"] = {"$all": ["c", "ch"]}  # the form the listing uses
    assert [d["_id"] async for d in db.evs.find(match, {"_outbox": 0}).sort("first_start", 1)] == ["a"]
    match["title_words"] = {"$all": ["ch", "d"]}
    assert [d["_id"] async for d in db.evs.find(match)] == []


async def test_word_prefix_terms_are_walked_by_one_key_range_in_list_order(db):
    """Name and title search (shared/search.py): one range on an indexed scalar `key`, sorted
    on it (the embedded store walks its index and stops at the limit), filtered on the term
    by `$all` on a list of strings and `$in` on another; a `count` command per word (not
    count_documents, an aggregation that reads everything there); the owners then read by
    `_id: {$in}` with their own filters; terms dropped by `_id: {$in}` and by owner."""
    await ensure_indexes(db, term_indexes("terms"))
    index = TermIndex(db.terms)
    people = {"m1": ("Nguyễn Văn An", "B m1", ["o1"]), "m2": ("Ngô Thị Ánh", "A m2", ["o2"])}
    people["m3"] = ("Nguyễn Thị Ba", "C m3", ["o1", "o2"])
    for owner, (name, order, scope) in people.items():
        await index.add(terms(owner, name, order, scope))
    await index.add(terms("m1", "Nguyễn Văn An", "B m1", ["o1"]))  # written twice: kept once
    assert await db.terms.count_documents({"owner": "m1"}) == 11

    walk = walk_filter("ng", ["a"], None, None)
    assert [t["owner"] async for t in db.terms.find(walk, {"owner": 1}).sort("key", 1).limit(5)] == ["m2", "m1"]
    walk = walk_filter("ng", [], "A m2", ["o1"])
    assert [t["owner"] async for t in db.terms.find(walk, {"owner": 1}).sort("key", 1).limit(5)] == ["m1", "m3"]
    assert await index.counts(["ng", "thi", "x"]) == {"ng": 3, "thi": 2, "x": 0}

    await db.people.insert_many([{"_id": o, "status": "active", "sort_key": people[o][1]} for o in people])

    async def fetch(ids):
        return await db.people.find({"_id": {"$in": ids}, "status": {"$ne": "erased"}}).sort("sort_key", 1).to_list()

    found = await index.search("ng a", fetch, limit=5)
    assert [d["_id"] for d in found] == ["m2", "m1"]
    found = await index.search("ng", fetch, limit=1, after="A m2", scope=["o2"])
    assert [d["_id"] for d in found] == ["m3"]
    found = await index.search("an ng", fetch, limit=5)  # words in any order (event titles)
    assert [d["_id"] for d in found] == ["m2", "m1"]
    assert await index.search("an ng", fetch, limit=5, pattern=r"(^| )an[^ ]*( [^ ]+)*? ng") == []  # in order
    found = await index.search("ng a", fetch, limit=5, pattern=r"(^| )ng[^ ]*( [^ ]+)*? a")
    assert [d["_id"] for d in found] == ["m2", "m1"]

    await index.drop([t["_id"] for t in terms("m2", "Ngô Thị Ánh", "A m2", ["o2"])])
    await index.forget("m3")
    assert sorted({t["owner"] async for t in db.terms.find({})}) == ["m1"]


async def test_a_lease_inside_a_map_entry_is_renewed_only_while_the_entry_exists(db):
    """Events' registration batches: `pending.<key>` holds a lease renewed in place; settling
    unsets the entry once, and a renewal after that changes nothing."""
    await db.evs.insert_one({"_id": "e", "pending": {"k1": {"at": 1.0, "lease": 2.0, "ids": ["r1"]}}})
    renewed = await db.evs.update_one(
        {"_id": "e", "pending.k1": {"$exists": True}}, {"$set": {"pending.k1.lease": 9.0}}
    )
    assert renewed.modified_count == 1
    assert (await db.evs.find_one({"_id": "e"}))["pending"]["k1"] == {"at": 1.0, "lease": 9.0, "ids": ["r1"]}
    settled = await db.evs.update_one({"_id": "e", "pending.k1": {"$exists": True}}, {"$unset": {"pending.k1": ""}})
    assert settled.modified_count == 1
    late = await db.evs.update_one({"_id": "e", "pending.k1": {"$exists": True}}, {"$set": {"pending.k1.lease": 10.0}})
    assert late.modified_count == 0 and (await db.evs.find_one({"_id": "e"}))["pending"] == {}
    # A ledger update records its own batch and forgets an earlier one in the same write.
    await db.evs.update_one({"_id": "e"}, {"$set": {"pending.k2.at": 1.0, "seats": 5}})
    after = await db.evs.find_one_and_update(
        {"_id": "e", "seats": {"$gte": 2}},
        {
            "$inc": {"seats": -2},
            "$set": {"pending.k3.at": 2.0, "pending.k3.ids": ["a", "b"]},
            "$unset": {"pending.k2": ""},
        },
        return_document=ReturnDocument.AFTER,
    )
    assert after["seats"] == 3 and after["pending"] == {"k3": {"at": 2.0, "ids": ["a", "b"]}}


async def test_the_healer_finds_what_to_heal_in_one_read(db):
    """Events' healer: active events with batch intents, or with seats free while people wait."""
    await db.evs.insert_many(
        [
            {"_id": "a", "status": "published", "pending": {}, "seats_free": 0, "waiting": 3},
            {"_id": "b", "status": "published", "seats_free": 2, "waiting": 1},
            {"_id": "c", "status": "published", "seats_free": 2, "waiting": 0},
            {"_id": "d", "status": "cancelled", "pending": {"k": {}}, "seats_free": 2, "waiting": 1},
        ]
    )
    wanted = {"$or": [{"pending": {"$exists": True}}, {"seats_free": {"$gt": 0}, "waiting": {"$gt": 0}}]}
    match = {"$and": [{"status": {"$in": ["published", "registration_closed"]}}, wanted]}
    found = sorted([d["_id"] async for d in db.evs.find(match, {"pending": 1, "seats_free": 1, "waiting": 1})])
    assert found == ["a", "b"]


async def test_erasure_reaches_every_copy_through_an_or_alone_in_update_many(db):
    """Events' erasure: a top-level `$or` with nothing beside it, unsetting nested fields."""
    await db.regs.insert_many(
        [
            {
                "_id": "1",
                "member_id": "m",
                "email": "x@v.vn",
                "holder_email": "e|x@v.vn",
                "first_answer": {"email": "x"},
            },
            {"_id": "2", "kind": "guest", "email": "x@v.vn", "phone": "+84912", "holder_phone": "e|+84912"},
            {"_id": "3", "kind": "guest", "email": "y@v.vn"},
        ]
    )
    done = await db.regs.update_many(
        {"$or": [{"member_id": "m"}, {"email": "x@v.vn"}, {"phone": "+84912"}]},
        {
            "$set": {"erased": 1},
            "$unset": {"email": "", "holder_email": "", "holder_phone": "", "first_answer.email": ""},
        },
    )
    assert done.modified_count == 2
    docs = {d["_id"]: d async for d in db.regs.find({})}
    assert "x@v.vn" not in str(docs["1"]) + str(docs["2"]) and docs["1"]["first_answer"] == {}
    assert docs["3"]["email"] == "y@v.vn" and "erased" not in docs["3"]


async def test_erasure_finds_addresses_and_deletes_the_records_keyed_by_them(db):
    """Notifications' erasure: the deliveries that still hold an address (`$exists`),
    then every quota record and suppression of those addresses (`delete_many` with `$in`);
    a fallback carried by a delivery is unset with the rest."""
    await db.deliveries.insert_many(
        [
            {"_id": "d1", "member_id": "m", "to": "+84912000777", "fallback": {"content": {"text": "x"}}},
            {"_id": "d2", "member_id": "m"},
            {"_id": "d3", "member_id": "other", "to": "+84900000000"},
        ]
    )
    found = [d["to"] async for d in db.deliveries.find({"member_id": "m", "to": {"$exists": True}}, {"to": 1})]
    assert found == ["+84912000777"]
    await db.sms_quota.insert_many(
        [{"_id": "+84912000777:k1", "phone": "+84912000777", "at": 1.0}, {"_id": "+849:k", "phone": "+849", "at": 1.0}]
    )
    await db.sms_quota.delete_many({"phone": {"$in": found}})
    assert [d["_id"] async for d in db.sms_quota.find({})] == ["+849:k"]
    await db.deliveries.update_many(
        {"member_id": "m"}, {"$unset": {"to": "", "fallback": ""}, "$set": {"erased": "yes"}}
    )
    assert {d["_id"]: sorted(d) async for d in db.deliveries.find({"member_id": "m"})} == {
        "d1": ["_id", "erased", "member_id"],
        "d2": ["_id", "erased", "member_id"],
    }


async def test_a_fallback_turns_one_claimed_document_into_another_channel_once(db):
    """Notifications' ZNS → SMS fallback: one conditional update on the claim replaces
    the channel and content and unsets the fallback; a second try matches nothing."""
    await db.deliveries.insert_one(
        {
            "_id": "k",
            "channel": "zns",
            "status": "sending",
            "claim": "c1",
            "content": {"template_id": "1"},
            "fallback": {"content": {"text": "sms"}, "segments": 1},
        }
    )
    update = {
        "$set": {"channel": "sms", "status": "queued", "content": {"text": "sms"}, "segments": 1, "attempts": 0},
        "$unset": {"claim": "", "fallback": ""},
    }
    assert (await db.deliveries.update_one({"_id": "k", "claim": "c1"}, update)).modified_count == 1
    assert (await db.deliveries.update_one({"_id": "k", "claim": "c1"}, update)).matched_count == 0
    doc = await db.deliveries.find_one({"_id": "k"})
    assert (doc["channel"], doc["content"], "fallback" in doc, "claim" in doc) == ("sms", {"text": "sms"}, False, False)


async def test_the_root_of_the_tree_is_found_by_a_null_parent(db):
    """Notifications and events find the federation's name: the organisation whose
    `parent_id` is null (stored as null by the projections) and whose kind is federation."""
    await db.orgs.insert_many(
        [
            {"_id": "root", "parent_id": None, "kind": "federation", "name": "Liên hiệp"},
            {"_id": "a", "parent_id": "root", "kind": "association", "name": "Hội A"},
            {"_id": "b", "parent_id": None, "kind": "association", "name": "Hội mồ côi"},
        ]
    )
    root = await db.orgs.find_one({"parent_id": None, "kind": "federation"}, {"name": 1})
    assert root == {"_id": "root", "name": "Liên hiệp"}
