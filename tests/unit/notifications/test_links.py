import pytest

from services.notifications.links import BadToken, sign, unsubscribe_url, verify

KEY = b"k" * 32


def test_a_signed_token_round_trips_and_any_change_breaks_it():
    token = sign({"r": "m-1", "c": "email"}, KEY)
    assert verify(token, KEY) == {"r": "m-1", "c": "email"}
    body, mac = token.split(".")
    forged = sign({"r": "m-2", "c": "email"}, KEY).split(".")[0] + "." + mac
    for bad in (forged, token[:-2], "nonsense", token + "x", "e30.AAAA"):
        with pytest.raises(BadToken):
            verify(bad, KEY)
    with pytest.raises(BadToken):
        verify(token, b"another key")


def test_the_unsubscribe_url_points_at_the_public_endpoint():
    url = unsubscribe_url("https://lienhiep.vn/", "m-1", "email", KEY)
    assert url.startswith("https://lienhiep.vn/api/v1/notifications/unsubscribe?token=")
