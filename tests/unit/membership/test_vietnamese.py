import pytest

from shared.text import fold, name_sort_key, search_pattern


@pytest.mark.parametrize(
    "text, folded",
    [
        ("Nguyễn Văn A", "nguyen van a"),
        ("ĐẶNG", "dang"),
        ("  Trần   Thị\tBích ", "tran thi bich"),
        ("Hoàng Ưng Ơn", "hoang ung on"),
        ("Nguyê\u0303n", "nguyen"),  # decomposed input folds alike
    ],
)
def test_fold_ignores_case_spacing_and_every_vietnamese_mark(text, folded):
    assert fold(text) == folded


def test_names_sort_by_given_name_then_middle_then_surname():
    names = ["Trần Văn Bình", "Nguyễn Thị An", "Bùi Văn An", "Bùi An", "Lê Bình"]
    assert sorted(names, key=name_sort_key) == ["Bùi An", "Nguyễn Thị An", "Bùi Văn An", "Lê Bình", "Trần Văn Bình"]


def test_letters_follow_the_vietnamese_alphabet():
    # a ă â … d đ … e ê … o ô ơ … u ư
    given = ["Ân", "Ăn", "An", "Đa", "Da", "Êm", "Em", "Ơn", "Ông", "Oanh", "Ưng", "Uyên", "Bảo"]
    ordered = sorted((f"Lê {g}" for g in given), key=name_sort_key)
    assert [n.split()[-1] for n in ordered] == [
        "An",
        "Ăn",
        "Ân",
        "Bảo",
        "Da",
        "Đa",
        "Em",
        "Êm",
        "Oanh",
        "Ông",
        "Ơn",
        "Uyên",
        "Ưng",
    ]


def test_tones_break_ties_in_dictionary_order():
    # level, huyền, hỏi, ngã, sắc, nặng
    given = ["Mạ", "Má", "Mã", "Mả", "Mà", "Ma"]
    assert [n.split()[-1] for n in sorted((f"Lê {g}" for g in given), key=name_sort_key)] == [
        "Ma",
        "Mà",
        "Mả",
        "Mã",
        "Má",
        "Mạ",
    ]


def test_case_and_spacing_do_not_change_the_order():
    assert name_sort_key("nguyễn  văn an") == name_sort_key("Nguyễn Văn An")


def test_search_pattern_matches_words_from_their_start():
    import re

    pattern = re.compile(search_pattern("Văn A"))
    assert pattern.search("nguyen van an") and pattern.search("van an")
    assert not pattern.search("nguyen avan a") and not re.search(search_pattern("an"), "tran thi lan")
