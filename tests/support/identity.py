"""Identities as the gateway signs them, for tests that call a service directly."""

from __future__ import annotations

from shared.identity import HEADER, Identity, sign
from shared.settings import Settings


def signed_headers(
    settings: Settings,
    sub: str = "staff:lan",
    roles: tuple[str, ...] = ("admin",),
    scopes: tuple[str, ...] = (),
    organization_id: str | None = None,
) -> dict[str, str]:
    """The header a service accepts for this identity."""
    who = Identity(sub=sub, roles=roles, scopes=scopes, organization_id=organization_id)
    return {HEADER: sign(who, settings.internal_identity_secret)}


def admin_headers(settings: Settings, username: str = "lan") -> dict[str, str]:
    return signed_headers(settings, f"staff:{username}", ("admin",))


def manager_headers(settings: Settings, organization_id: str, username: str = "hoa") -> dict[str, str]:
    return signed_headers(settings, f"staff:{username}", ("manager",), organization_id=organization_id)


def key_headers(
    settings: Settings, scopes: tuple[str, ...], organization_id: str | None = None, prefix: str = "a1b2c3d4"
) -> dict[str, str]:
    return signed_headers(settings, f"key:{prefix}", (), scopes, organization_id)


def anonymous_headers(settings: Settings) -> dict[str, str]:
    return signed_headers(settings, "anonymous", ())
