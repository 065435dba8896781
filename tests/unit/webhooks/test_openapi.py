"""The webhooks partners may receive are described in the public OpenAPI document."""

from services.gateway.openapi import openapi_document
from services.webhooks.endpoints import OFFERED


def test_every_webhook_is_described_with_its_headers_and_payload():
    doc = openapi_document()
    hooks = doc["webhooks"]
    assert set(hooks) == {*OFFERED, "webhook.test"}
    for event_type, item in hooks.items():
        operation = item["post"]
        assert [p["name"] for p in operation["parameters"]] == ["webhook-id", "webhook-timestamp", "webhook-signature"]
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        assert schema["properties"]["type"] == {"const": event_type}
        data = schema["properties"]["data"]["$ref"].rsplit("/", 1)[-1]
        assert data in doc["components"]["schemas"], event_type
        assert set(operation["responses"]) == {"2XX", "410", "default"}
    described = hooks["registration.confirmed"]["post"]["description"]
    assert "registrations:write" in described and "not promised" in described
