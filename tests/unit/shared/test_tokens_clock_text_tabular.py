"""Signed tokens, time, Vietnamese text and exports: one implementation each."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import openpyxl
import pytest

from shared.clock import as_utc, local_date_text, local_time_text, parse_moment
from shared.tabular import to_csv, to_xlsx
from shared.text import InvalidPhone, fold, normalise_phone, query_words, word_prefixes
from shared.tokens import InvalidToken, Signer, derive_key

SECRET = "a-test-secret-of-at-least-thirty-two-bytes"


def test_each_purpose_has_its_own_key_and_unknown_purposes_are_refused():
    assert derive_key(SECRET, "unsubscribe") != derive_key(SECRET, "gateway-staff-token")
    assert len(derive_key(SECRET, "unsubscribe")) == 32
    with pytest.raises(ValueError, match="unknown token purpose"):
        derive_key(SECRET, "anything")


def test_a_token_verifies_only_for_its_purpose_and_unaltered():
    links, logins = Signer(SECRET, "unsubscribe"), Signer(SECRET, "gateway-staff-token")
    token = links.sign({"r": "m-1", "c": "email"})
    assert links.verify(token) == {"r": "m-1", "c": "email"}
    with pytest.raises(InvalidToken):
        logins.verify(token)
    _body, mac = token.split(".")
    forged = links.sign({"r": "m-2", "c": "email"}).split(".")[0] + "." + mac
    for bad in (forged, token[:-2], "nonsense", token + "x", "e30.AAAA", "abcdefghij.é", "", ".", "é" * 50):
        with pytest.raises(InvalidToken):
            links.verify(bad)


def test_tokens_expire_and_can_be_revoked_by_version():
    signer = Signer(SECRET, "unsubscribe", mac_bytes=18)
    token = signer.sign({"r": "m-1"}, ttl_seconds=60, version=2)
    assert signer.verify(token)["r"] == "m-1"
    with pytest.raises(InvalidToken, match="expired"):
        signer.verify(token, now=datetime.now(UTC).timestamp() + 61)
    assert signer.verify_version(token, 2)["v"] == 2
    with pytest.raises(InvalidToken, match="revoked"):
        signer.verify_version(token, 3)


def test_times_are_stored_in_utc_and_shown_in_viet_nam():
    typed = datetime(2026, 12, 3, 14, 30)  # what staff type: local time
    assert as_utc(typed) == datetime(2026, 12, 3, 7, 30, tzinfo=UTC)
    assert parse_moment("2026-12-03T07:30:00Z") == parse_moment("2026-12-03 07:30:00") == as_utc(typed)
    assert local_time_text(as_utc(typed)) == "14:30 03/12/2026"
    assert local_date_text(date(2026, 1, 9)) == "09/01/2026"
    assert local_date_text(datetime(2026, 12, 31, 18, 0, tzinfo=UTC)) == "01/01/2027"  # already tomorrow in Hà Nội


@pytest.mark.parametrize(
    ("written", "e164"),
    [
        ("0912 345 678", "+84912345678"),
        ("+84 912.345.678", "+84912345678"),
        ("84912345678", "+84912345678"),
        ("0168 123 4567", "+84381234567"),
        ("+84 1681234567", "+84381234567"),
        ("(024) 3825 7000", "+842438257000"),
        ("0084912345678", "+84912345678"),
    ],
)
def test_phone_numbers_written_every_way_are_one_number(written, e164):
    assert normalise_phone(written) == e164


@pytest.mark.parametrize("bad", ["12345", "abc", "0912\x00345678", "0" * 40])
def test_not_a_phone_number(bad):
    with pytest.raises(InvalidPhone):
        normalise_phone(bad)


def test_search_keys_ignore_case_and_diacritics_and_match_word_beginnings():
    assert fold("  Nguyễn   ĐỨC Ánh ") == "nguyen duc anh"
    prefixes = set(word_prefixes("Nguyễn Văn Anh"))
    assert set(query_words("ng VĂN a")) <= prefixes and "guyen" not in prefixes


def test_exports_never_run_what_people_typed():
    rows = [['=HYPERLINK("http://x","bấm")', "+84912345678", "-1+1", "@SUM(A1)", "Nguyễn An", 3]]
    csv_text = to_csv(["a", "b", "c", "d", "e", "f"], rows).decode("utf-8")
    assert csv_text.startswith("\ufeff")
    assert "'=HYPERLINK" in csv_text and ",+84912345678," in csv_text and "'-1+1" in csv_text and "'@SUM" in csv_text
    sheet = openpyxl.load_workbook(io.BytesIO(to_xlsx("Hội viên", list("abcdef"), rows))).active
    cells = [(c.value, c.data_type) for c in sheet[2]]
    assert cells[0] == ('=HYPERLINK("http://x","bấm")', "s") and cells[3] == ("@SUM(A1)", "s")
    assert cells[5] == (3, "n") and sheet.title == "Hội viên"
