import pytest
from pydantic import ValidationError

from services.membership.members import InvalidPhone, MemberIn, fold, normalise_name, normalise_phone


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
