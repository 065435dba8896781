import time

import pytest

from shared.identity import Identity, InvalidIdentity, sign, verify


def test_a_signed_identity_verifies():
    who = Identity(sub="staff:lan", roles=("manager",), scopes=("members:read",), organization_id="o1")
    back = verify(sign(who, "s3cret"), "s3cret")
    assert back.sub == "staff:lan" and back.organization_id == "o1" and back.has_scope("members:read")
    assert not back.has_scope("members:write")


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t.replace(t[5], "A" if t[5] != "A" else "B", 1),
        lambda t: t + "x",
        lambda t: "garbage",
        lambda t: "a.b",
    ],
)
def test_tampered_identities_are_refused(tamper):
    token = sign(Identity(sub="staff:lan"), "s3cret")
    with pytest.raises(InvalidIdentity):
        verify(tamper(token), "s3cret")


def test_another_secret_or_an_expired_identity_is_refused(monkeypatch):
    token = sign(Identity(sub="staff:lan"), "s3cret", ttl=1)
    with pytest.raises(InvalidIdentity):
        verify(token, "other")
    later = time.time() + 5
    monkeypatch.setattr(time, "time", lambda: later)
    with pytest.raises(InvalidIdentity, match="expired"):
        verify(token, "s3cret")
