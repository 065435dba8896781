"""The pure parts of word-prefix search (shared/search.py): which terms an owner has,
which terms change when it changes, which word drives a search, and the filters a
walk sends (only shapes the embedded store serves from an index)."""

from __future__ import annotations

from shared.search import changed, driving_word, key_range, search_words, terms, walk_filter, worth_counting


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


def test_only_the_terms_that_differ_are_written_or_dropped():
    before = terms("m1", "Lê Văn A", "K1 m1", ["o1"])
    same = terms("m1", "Lê Văn A", "K1 m1", ["o1"])
    assert changed(before, same) == ([], [])
    renamed = terms("m1", "Lê Văn B", "K2 m1", ["o1"])
    added, dropped = changed(before, renamed)
    assert added == renamed and dropped == sorted(t["_id"] for t in before)
    retitled = terms("m1", "Lê Văn Ba", "K1 m1", ["o1"])  # same order: the kept words' terms change too
    added, dropped = changed(before, retitled)
    assert added == retitled and dropped == sorted(t["_id"] for t in before)
    moved = terms("m1", "Lê Văn A", "K1 m1", ["o2"])  # same words, other reach: other ids
    added, dropped = changed(before, moved)
    assert len(added) == len(moved) and len(dropped) == len(before)
    assert changed(before, []) == ([], sorted(t["_id"] for t in before))


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
