"""Standard Webhooks signatures, checked against the specification's published test vector."""

import base64

from services.webhooks import signing

# From the Standard Webhooks reference libraries' tests
# (standard-webhooks/standard-webhooks, libraries/python/tests/test_webhooks.py: test_sign_function).
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TIMESTAMP = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_our_signature_is_the_specification_test_vector():
    assert signing.sign(VECTOR_SECRET, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY) == VECTOR_SIGNATURE
    # the prefix is optional, as in the reference libraries
    assert (
        signing.sign(VECTOR_SECRET.removeprefix("whsec_"), VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY) == VECTOR_SIGNATURE
    )


def test_during_a_rotation_both_secrets_sign_and_either_verifies():
    new = signing.derive_secret(b"k" * 32, "ep-1", "salt-2")
    headers = signing.headers([new, VECTOR_SECRET], VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY)
    assert headers["webhook-id"] == VECTOR_ID and headers["webhook-timestamp"] == "1614265330"
    first, second = headers["webhook-signature"].split(" ")
    assert second == VECTOR_SIGNATURE and first.startswith("v1,")
    for secret in (new, VECTOR_SECRET):
        assert signing.verify(secret, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY, headers["webhook-signature"])
    assert not signing.verify(new, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY + b" ", headers["webhook-signature"])


def test_secrets_are_derived_per_endpoint_and_salt_in_the_whsec_form():
    key = b"\x01" * 32
    secret = signing.derive_secret(key, "ep-1", "a")
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 32
    assert secret == signing.derive_secret(key, "ep-1", "a")  # nothing stored: derived again when signing
    assert len({secret, signing.derive_secret(key, "ep-1", "b"), signing.derive_secret(key, "ep-2", "a")}) == 3


def test_message_ids_never_contain_a_full_stop():
    assert signing.message_id("4f6c.9a2b-11ee:x") == "msg_4f6c9a2b-11eex"
