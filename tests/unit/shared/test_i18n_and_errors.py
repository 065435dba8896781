"""Problems speak the reader's language and stay small, whatever went wrong."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationError, field_validator

from shared.errors import MAX_FIELD_ERRORS, Conflict, FieldError, Invalid, NotFound, validation_error
from shared.i18n import Catalogue, Message, negotiate
from shared.text import normalise_phone

WORDS = Catalogue(
    {
        "test.member_taken": {"vi": "Email đã thuộc về {name}", "en": "The email belongs to {name}"},
        "test.conflict_title": {"vi": "Trùng hội viên", "en": "Duplicate member"},
    }
)


class DuplicateMember(Conflict):
    code, title = "duplicate-member", WORDS("test.conflict_title")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "vi"),
        ("", "vi"),
        ("en", "en"),
        ("en-GB,en;q=0.9", "en"),
        ("fr, en;q=0.5", "en"),
        ("vi;q=0.4, en;q=0.8", "en"),
        ("en;q=0, vi", "vi"),
        ("de, fr", "vi"),
        ("vi-VN", "vi"),
        ("EN", "en"),
    ],
)
def test_the_language_follows_accept_language_and_defaults_to_vietnamese(header, expected):
    assert negotiate(header) == expected


def test_a_domain_error_renders_in_either_language_with_the_field_at_fault():
    error = DuplicateMember(WORDS("test.member_taken", name="Nguyễn Văn An"), field="email")
    vi, en = error.public("vi"), error.public("en")
    assert (vi["title"], vi["detail"], vi["field"]) == ("Trùng hội viên", "Email đã thuộc về Nguyễn Văn An", "email")
    assert (en["title"], en["detail"]) == ("Duplicate member", "The email belongs to Nguyễn Văn An")
    assert vi["errors"] == [
        {"field": "email", "in": "body", "message": "Email đã thuộc về Nguyễn Văn An", "code": "duplicate-member"}
    ]
    assert error.status == 409 and str(error) == "The email belongs to Nguyễn Văn An"


def test_generic_errors_have_translated_titles_and_plain_text_passes_through():
    assert NotFound("No member m-1").public("vi") == {
        "title": "Không tìm thấy",
        "status": 404,
        "detail": "No member m-1",
    }
    assert NotFound().public("en")["title"] == "Not found"


def test_a_catalogue_needs_both_languages_and_refuses_unknown_keys():
    with pytest.raises(ValueError, match="en"):
        Catalogue({"test.half": {"vi": "Chỉ tiếng Việt"}})
    with pytest.raises(KeyError):
        WORDS("test.nothing")
    assert Message("test.unknown.key").render("vi") == "test.unknown.key"


class Person(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=5)
    age: int = Field(ge=0)


def test_validation_errors_name_each_field_in_the_readers_language():
    with pytest.raises(ValidationError) as caught:
        Person.model_validate({"name": "Nguyễn Văn An", "age": -1, "x": 1})
    problem = validation_error(caught.value).public("vi")
    assert problem["title"] == "Dữ liệu không hợp lệ" and problem["detail"] == "3 trường không hợp lệ"
    by_field = {e["field"]: e["message"] for e in problem["errors"]}
    assert by_field == {
        "name": "Tối đa 5 ký tự",
        "age": "Phải lớn hơn hoặc bằng 0",
        "x": "Trường này không được chấp nhận",
    }
    english = {e["field"]: e["message"] for e in validation_error(caught.value).public("en")["errors"]}
    assert english["name"] == "Should have at most 5 characters"


class Contact(BaseModel):
    email: EmailStr | None = None
    phone: str | None = None
    _phone = field_validator("phone")(classmethod(lambda cls, v: normalise_phone(v)))


@pytest.mark.parametrize("phone", ["12345", "abc", "0912 345 67"])
def test_a_bad_phone_or_email_is_told_in_the_readers_language_not_the_librarys_english(phone):
    with pytest.raises(ValidationError) as caught:
        Contact.model_validate({"email": "an.example.com", "phone": phone})
    vi = {e["field"]: (e["code"], e["message"]) for e in validation_error(caught.value).public("vi")["errors"]}
    assert vi == {
        "email": ("email", "Địa chỉ email không hợp lệ"),
        "phone": ("phone", "Số điện thoại không hợp lệ"),
    }
    en = {e["field"]: e["message"] for e in validation_error(caught.value).public("en")["errors"]}
    assert en == {"email": "Not a valid email address", "phone": "Not a valid phone number"}


def test_a_huge_invalid_request_gets_a_bounded_answer():
    errors = [FieldError(f"items.{i}", "x" * 10_000, "bad") for i in range(5_000)]
    body = Invalid(*errors).public("en")
    assert len(body["errors"]) == MAX_FIELD_ERRORS and body["errors_omitted"] == 5_000 - MAX_FIELD_ERRORS
    assert all(len(e["message"]) <= 300 for e in body["errors"])


def test_extra_details_never_overwrite_what_the_error_decides():
    body = NotFound("No entry e-1", status="screened_out", title="x", entry_id="e-1").public("en")
    assert body["status"] == 404 and body["title"] == "Not found" and body["entry_id"] == "e-1"
