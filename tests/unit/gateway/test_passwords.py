"""Which passwords staff may choose: length, not the username, not a common one."""

from __future__ import annotations

import pytest

from services.gateway import passwords
from shared.errors import Invalid


@pytest.mark.parametrize(
    "password, username, codes",
    [
        ("ngắn", "lan", ["password_too_short"]),
        ("lan.nguyen12", "lan.nguyen12", ["password_is_username"]),
        ("LAN.NGUYEN2024!", "lan.nguyen", ["password_is_username"]),
        ("password1234", "lan", ["password_too_common"]),
        ("Pássword!!1234", "lan", ["password_too_common"]),
        ("passwordpassword", "lan", ["password_too_common"]),
        ("111111111111", "lan", ["password_too_common"]),
        ("matkhau123456", "lan", ["password_too_common"]),  # Vietnamese favourites are on the list too
        ("mật-khẩu-đủ-dài", "lan", []),
        ("tuan-password-1", "tuan", []),
        ("một câu đủ dài để nhớ", "lan", []),
    ],
)
def test_the_rules(password, username, codes):
    assert [code for code, _ in passwords.problems(password, username)] == codes


def test_the_shipped_list_holds_ten_thousand_common_passwords():
    common = passwords.common_passwords()
    assert len(common) >= 10_000 and {"123456", "password", "iloveyou", "anhyeuem"} <= common
    assert all(p == p.lower() for p in common)


def test_a_refusal_names_the_field_in_either_language():
    with pytest.raises(Invalid) as caught:
        passwords.check("qwerty123456", "lan", field="new_password")
    vi, en = caught.value.public("vi"), caught.value.public("en")
    assert vi["errors"][0]["field"] == "new_password" and vi["errors"][0]["code"] == "password_too_common"
    assert vi["errors"][0]["message"].startswith("Mật khẩu này quá phổ biến")
    assert en["errors"][0]["message"].startswith("This password is too common")
