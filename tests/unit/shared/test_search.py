"""The pure parts of word-prefix search (shared/search.py): which terms an owner has,
which terms a write of it adds and drops (stamped, so no two writes share one), which word drives a search, and the filters a
walk sends (only shapes the embedded store serves from an index)."""

from __future__ import annotations

from shared.search import (
    UNSTAMPED,
    Rewrite,
    driving_word,
    key_range,
    rewrite,
    search_words,
    stamp_of,
    terms,
    walk_filter,
    worth_counting,
)


def test_an_owner_has_one_term_per_folded_word_prefix_keyed_in_list_order():
    found = terms("m1", "Nguyễn Văn Ân", "SORT m1", ["org-b", "org-a"])
    assert [t["key"] for t in found] == [f"{p} SORT m1" for p in ("a", "an", "n", "ng", "ngu", "nguy", "nguye")] + [
        "nguyen SORT m1",
        "v SORT m1",
        "va SORT m1",
        "van SORT m1",
    ]
    assert {t["owner"] for t in found} == {"m1"} and len({t["_id"] for t in found}) == len(found)
    assert all(t["scope"] == ["org-a", "org-b"] and "ng" in t["words"] and "guyen" not in t["words"] for t in found)
    assert {t["text"] for t in found} == {"nguyen van an"}


def test_a_search_keeps_distinct_folded_words_in_order():
    assert search_words("  NG văn  ng Đ ") == ["ng", "van", "d"]
    assert search_words("   ") == []


def owner_terms(doc):
    return terms(doc["_id"], doc["name"], f"{doc['name']} {doc['_id']}", doc.get("orgs", []), stamp_of(doc.get("at")))


def test_a_write_that_changes_no_term_field_writes_no_term():
    doc = {"_id": "m1", "name": "Lê Văn A", "orgs": ["o1"], "at": "s1"}
    change = rewrite(owner_terms, doc, {**doc, "phone": "0912"}, "at")
    assert change == Rewrite([], [], None)
    assert change.leftover(written=True) == change.leftover(written=False) == []
    assert change.stamped({"$set": {"phone": "0912"}}, "at") == {"$set": {"phone": "0912"}}


def test_a_write_that_changes_terms_stamps_its_own_so_no_two_writes_share_one():
    doc = {"_id": "m1", "name": "Lê Văn A", "orgs": ["o1"], "at": "s1"}
    first = rewrite(owner_terms, doc, {**doc, "name": "Lê Văn B"}, "at")
    second = rewrite(owner_terms, doc, {**doc, "name": "Lê Văn B"}, "at")  # the same write, submitted twice
    assert first.stamp and second.stamp and first.stamp != second.stamp
    assert [t["key"] for t in first.added] == [t["key"] for t in second.added]
    assert not {t["_id"] for t in first.added} & {t["_id"] for t in second.added}
    # Made: the terms of the owner as read go; refused: only its own.
    assert first.leftover(written=True) == [t["_id"] for t in owner_terms(doc)]
    assert second.leftover(written=False) == [t["_id"] for t in second.added]
    assert first.stamped({"$set": {"name": "Lê Văn B"}}, "at") == {"$set": {"name": "Lê Văn B", "at": first.stamp}}
    # Renamed back (read after the first): other ids than the terms the first write replaced.
    back = rewrite(owner_terms, {**doc, "name": "Lê Văn B", "at": first.stamp}, doc, "at")
    assert not {t["_id"] for t in back.added} & set(first.leftover(written=True))
    moved = rewrite(owner_terms, doc, {**doc, "orgs": ["o2"]}, "at")  # same words, other reach
    assert moved.stamp and len(moved.added) == len(moved.replaced) == len(owner_terms(doc))
    new = rewrite(owner_terms, None, {"_id": "m2", "name": "Lê Thị C"}, "at")
    assert (
        new.stamp
        and new.replaced == []
        and new.added == owner_terms({"_id": "m2", "name": "Lê Thị C", "at": new.stamp})
    )


def test_terms_written_before_stamps_keep_their_ids_and_go_at_the_next_change():
    legacy = {"_id": "m1", "name": "Lê Văn A", "at": UNSTAMPED}  # the ids stored terms have, pinned
    assert [t["_id"] for t in owner_terms(legacy)][:2] == ["fa9d486c33e3e7df8c84a43a", "e9993d721459cc17c2043376"]
    change = rewrite(owner_terms, legacy, {**legacy, "name": "Lê Văn B"}, "at")
    assert change.replaced == [t["_id"] for t in owner_terms(legacy)]


def test_the_rarest_word_drives_a_search_ties_to_the_longer_then_the_later():
    assert driving_word(["nguyen", "yen"], {"nguyen": 3500, "yen": 1800}) == "yen"
    assert driving_word(["ng", "van", "a"], {"ng": 900, "van": 900, "a": 5000}) == "van"
    assert driving_word(["le", "an"], {"le": 10, "an": 10}) == "an"
    assert driving_word(["zzz", "a"], {"a": 9}) == "zzz", "no terms at all: nothing to walk"
    assert worth_counting(["ng", "van", "a"]) == ["ng", "van"], "a letter begins too many words"
    assert worth_counting(["t", "a"]) == ["t", "a"]
    assert worth_counting(["hoi", "thao", "khoi", "nghiep", "loc", "ninh"]) == ["thao", "khoi", "nghiep"]


def test_a_walk_is_one_range_on_the_key_with_filters_on_the_term_itself():
    assert key_range("ng") == {"$gte": "ng ", "$lt": "ng!"}  # "ng " … but not "nga …"
    assert "nga X" > "ng!" > "ng X"
    assert key_range("ng", after="S1 m1") == {"$gt": "ng S1 m1", "$lt": "ng!"}
    assert walk_filter("van", [], None, None) == {"key": {"$gte": "van ", "$lt": "van!"}}
    assert walk_filter("van", ["ng", "a"], "S", ["o1"]) == {
        "key": {"$gt": "van S", "$lt": "van!"},
        "words": {"$all": ["ng", "a"]},
        "scope": {"$in": ["o1"]},
    }
