import pytest

from services.notifications.links import InvalidToken, Links, redact
from shared.settings import Settings

SETTINGS = Settings(public_base_url="https://lienhiep.vn/")


def _token(url: str) -> str:
    from urllib.parse import parse_qs, urlsplit

    return parse_qs(urlsplit(url).query)["token"][0]


def test_an_unsubscribe_link_round_trips_and_any_change_breaks_it():
    links = Links(SETTINGS)
    token = _token(links.unsubscribe_url("m-1", "email"))
    assert links.read_unsubscribe(token) == ("m-1", "email")
    _body, mac = token.split(".")
    forged = _token(links.unsubscribe_url("m-2", "email")).split(".")[0] + "." + mac
    for bad in (forged, token[:-2], "nonsense", token + "x", "e30.AAAA", "abcdefghij.é", "é" * 20):
        with pytest.raises(InvalidToken):
            links.read_unsubscribe(bad)
    with pytest.raises(InvalidToken):  # made for another purpose
        links.check_receipt(token, "http")


def test_raising_the_links_version_revokes_every_link_handed_out_before():
    old = _token(Links(SETTINGS).unsubscribe_url("m-1", "email"))
    newer = Links(SETTINGS.model_copy(update={"notify_links_version": 1}))
    with pytest.raises(InvalidToken):
        newer.read_unsubscribe(old)
    assert newer.read_unsubscribe(_token(newer.unsubscribe_url("m-1", "email"))) == ("m-1", "email")
    receipt = Links(SETTINGS).receipt_token("esms")
    Links(SETTINGS).check_receipt(receipt, "esms")
    with pytest.raises(InvalidToken):
        newer.check_receipt(receipt, "esms")


def test_the_unsubscribe_url_points_at_the_public_endpoint():
    url = Links(SETTINGS).unsubscribe_url("m-1", "email")
    assert url.startswith("https://lienhiep.vn/api/v1/notifications/unsubscribe?token=")


def test_answers_from_servers_lose_the_addresses_they_echo():
    assert redact("550 5.1.1 <gone@example.vn>: No such user") == "550 5.1.1 <<redacted>>: No such user"
    assert redact("invalid number +84912345678 (0912 345 678)") == "invalid number <redacted> (<redacted>)"
    assert redact("451 4.3.0 Try again later") == "451 4.3.0 Try again later"
