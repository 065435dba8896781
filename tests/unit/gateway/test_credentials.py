"""Partner keys and staff tokens: shapes, hashing, signatures, expiry."""

from __future__ import annotations

import pytest

from services.gateway import credentials as c
from shared.tokens import Signer

KEY = Signer("k", c.STAFF_TOKEN_PURPOSE)
OTHER = Signer("other", c.STAFF_TOKEN_PURPOSE)


def test_a_new_key_carries_its_visible_prefix_and_only_its_hash_is_kept():
    key, prefix = c.new_api_key()
    assert key.startswith(f"lh_{prefix}_") and c.key_prefix(key) == prefix
    stored = c.hash_key(key, b"pepper")
    assert key not in stored and c.key_matches(key, stored, b"pepper")
    assert not c.key_matches(key + "x", stored, b"pepper")
    assert not c.key_matches(key, stored, b"other pepper")


@pytest.mark.parametrize(
    "text",
    ["", "lh_", "lh_XYZ12345_" + "a" * 40, "lh_1234567_" + "a" * 40, "lh_12345678_short", "sk_12345678_" + "a" * 40],
)
def test_malformed_keys_have_no_prefix(text):
    assert c.key_prefix(text) is None


def test_a_staff_token_round_trips_and_refuses_tampering_and_expiry():
    claims = c.StaffClaims("lan", "manager", "org-1", "sid-1", exp=2000.0)
    token = c.sign_staff_token(claims, KEY)
    assert c.verify_staff_token(token, KEY, now=1999.0) == claims
    with pytest.raises(c.BadToken, match="expired"):
        c.verify_staff_token(token, KEY, now=2000.0)
    with pytest.raises(c.BadToken, match="signature"):
        c.verify_staff_token(token, OTHER, now=1.0)
    _body, mac = token[len(c.TOKEN_PREFIX) :].split(".")
    forged = c.sign_staff_token(c.StaffClaims("lan", "admin", None, "sid-1", 2000.0), KEY).split(".")[1]
    with pytest.raises(c.BadToken):
        c.verify_staff_token(f"{c.TOKEN_PREFIX}{forged}.{mac}", KEY, now=1.0)
    for bad in ("lhs.", "lhs.abc", "lhs.a.b", "nope"):
        with pytest.raises(c.BadToken):
            c.verify_staff_token(bad, KEY, now=1.0)


@pytest.mark.parametrize(
    "authorization, api_key, expected",
    [
        (None, None, None),
        ("Bearer abc", None, "abc"),
        ("bearer  abc ", None, "abc"),
        ("Basic dXNlcjpwYXNz", None, ""),
        ("Bearer ", None, ""),
        (None, "lh_x", "lh_x"),
        ("Bearer abc", "lh_x", "lh_x"),
    ],
)
def test_the_credential_is_read_from_either_header(authorization, api_key, expected):
    assert c.bearer(authorization, api_key) == expected
