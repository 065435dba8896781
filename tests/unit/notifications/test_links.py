import pytest

from services.notifications.links import BadToken, redact, sign, unsubscribe_url, verify

KEY = b"k" * 32


def test_a_signed_token_round_trips_and_any_change_breaks_it():
    token = sign({"r": "m-1", "c": "email"}, KEY)
    assert verify(token, KEY) == {"r": "m-1", "c": "email"}
    _body, mac = token.split(".")
    forged = sign({"r": "m-2", "c": "email"}, KEY).split(".")[0] + "." + mac
    for bad in (forged, token[:-2], "nonsense", token + "x", "e30.AAAA"):
        with pytest.raises(BadToken):
            verify(bad, KEY)
    with pytest.raises(BadToken):
        verify(token, b"another key")


def test_the_unsubscribe_url_points_at_the_public_endpoint():
    url = unsubscribe_url("https://lienhiep.vn/", "m-1", "email", KEY)
    assert url.startswith("https://lienhiep.vn/api/v1/notifications/unsubscribe?token=")


def test_answers_from_servers_lose_the_addresses_they_echo():
    assert redact("550 5.1.1 <gone@example.vn>: No such user") == "550 5.1.1 <<redacted>>: No such user"
    assert redact("invalid number +84912345678 (0912 345 678)") == "invalid number <redacted> (<redacted>)"
    assert redact("451 4.3.0 Try again later") == "451 4.3.0 Try again later"
