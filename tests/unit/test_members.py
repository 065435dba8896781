from datetime import date

import pytest
from pydantic import ValidationError

from services.membership.members import (
    InvalidPhone,
    InvalidTitle,
    MemberIn,
    fold,
    is_young_intellectual,
    normalise_name,
    normalise_phone,
    parse_gender,
    parse_titles,
)


@pytest.mark.parametrize("raw", ["0912 345 678", "091.234.5678", "84912345678", "+84 912 345 678", "0912-345-678"])
def test_phone_numbers_become_e164(raw):
    assert normalise_phone(raw) == "+84912345678"


@pytest.mark.parametrize("raw", ["12", "0912", "abc", "+1 555"])
def test_impossible_phone_numbers_are_refused(raw):
    with pytest.raises(InvalidPhone):
        normalise_phone(raw)


def test_names_are_trimmed_to_single_spaces():
    assert normalise_name("  Nguyễn   Văn\tAn ") == "Nguyễn Văn An"


def test_fold_ignores_case_and_vietnamese_diacritics():
    assert fold("Nguyễn Văn A") == "nguyen van a"
    assert fold("Đặng") == fold("dang") == "dang"


def test_member_input_is_cleaned_and_strict():
    m = MemberIn.model_validate({"full_name": " Trần  Thị Bích ", "email": "Bich@Gmail.COM", "phone": "0912 345 678"})
    assert (m.full_name, m.email, m.phone) == ("Trần Thị Bích", "bich@gmail.com", "+84912345678")
    with pytest.raises(ValidationError) as err:
        MemberIn.model_validate({"full_name": "A", "email": {"$ne": None}, "role": "admin"})
    fields = {e["loc"][0] for e in err.value.errors()}
    assert fields == {"email", "role"}


@pytest.mark.parametrize(
    "old, new",
    [
        ("01623 456 789", "+84323456789"),
        ("841693456789", "+84393456789"),
        ("+84 120 345 6789", "+84703456789"),
        ("0123.456.7890", "+84834567890"),
        ("01863456789", "+84563456789"),
        ("01993456789", "+84593456789"),
    ],
)
def test_pre_2018_eleven_digit_mobiles_become_their_ten_digit_successors(old, new):
    assert normalise_phone(old) == new


def test_landlines_and_international_numbers_stay_as_they_are():
    assert normalise_phone("0274 3822 222") == "+842743822222"
    assert normalise_phone("+44 20 7946 0958") == "+442079460958"


@pytest.mark.parametrize(
    "raw, titles",
    [
        ("PGS.TS", ["PGS", "TS"]),
        ("pgs, ts", ["PGS", "TS"]),
        ("ThS.", ["ThS"]),
        ("GS.TSKH", ["GS", "TSKH"]),
        ("", []),
        ("KS KS", ["KS"]),
    ],
)
def test_titles_and_degrees_in_their_usual_abbreviations(raw, titles):
    assert parse_titles(raw) == titles


def test_an_unknown_title_is_refused():
    with pytest.raises(InvalidTitle):
        parse_titles("Dr.")


def test_young_intellectual_means_35_or_under_today():
    today = date(2026, 11, 27)
    assert is_young_intellectual(date(1990, 11, 28), today)  # 35, turns 36 tomorrow
    assert not is_young_intellectual(date(1990, 11, 27), today)  # 36 today
    assert not is_young_intellectual(None, today)
    assert is_young_intellectual(date(1991, 3, 1), date(2027, 2, 28))


def test_gender_words():
    assert (parse_gender("Nữ"), parse_gender("nam"), parse_gender("Khác"), parse_gender("x")) == (
        "female",
        "male",
        "other",
        None,
    )
