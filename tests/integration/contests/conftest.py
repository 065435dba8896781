"""The contests service in process, on the real broker and the embedded store, with
ways to act as each kind of caller and to set an edition's rounds open or shut."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.contests.app import DEPS, create_app
from services.contests.timeline import ROUNDS
from shared.contracts import MemberUpdated, OrganizationCreated
from tests.integration.notifications.conftest import sms, smtp  # noqa: F401  (the notifications service's providers)
from tests.support.bus import EventRecorder
from tests.support.identity import anonymous_headers, manager_headers, signed_headers

ENTRY_EVENTS = [
    "entry.submitted",
    "entry.screened",
    "entry.scored",
    "entry.awarded",
    "entry.not_awarded",
    "entry.forwarded",
    "award.issued",
    "contest.results_published",
]
TREE = [
    ("org-lhh", "LHH", None, "Liên hiệp các Hội Khoa học và Kỹ thuật tỉnh"),
    ("org-tin-hoc", "HTH", "org-lhh", "Hội Tin học tỉnh"),
    ("org-chi-hoi", "HTH-CH1", "org-tin-hoc", "Chi hội Tin học Thủ Dầu Một"),
    ("org-co-khi", "HCK", "org-lhh", "Hội Cơ khí tỉnh"),
    ("org-nong-nghiep", "HNN", "org-lhh", "Hội Nông nghiệp tỉnh"),
]


def rounds(first: str, last: str | None = None, now: datetime | None = None) -> dict[str, Any]:
    """A timeline whose rounds from `first` to `last` are open now; earlier ones are over, later ones to come."""
    now = now or datetime.now(UTC)
    last = last or first
    start, end = ROUNDS.index(first), ROUNDS.index(last)
    out = {}
    for i, name in enumerate(ROUNDS):
        if i < start:
            window = (now - timedelta(days=20) + timedelta(hours=i), now - timedelta(days=10))
        elif i <= end:
            window = (now - timedelta(hours=1), now + timedelta(days=30))
        else:
            window = (now + timedelta(days=40 + i), now + timedelta(days=60))
        out[name] = {"opens_at": window[0].isoformat(), "closes_at": window[1].isoformat()}
    return out


def technical_entry(**changes: Any) -> dict[str, Any]:
    body = {
        "title": "Máy sấy lúa dùng năng lượng mặt trời kết hợp sinh khối",
        "field": "agriculture",
        "summary": "Sấy 2 tấn lúa mỗi mẻ, giảm 40% chi phí chất đốt so với lò sấy than.",
        "applied_since": "2023-03-01",
        "application_place": "HTX Nông nghiệp Phú An",
        "entrant": {
            "kind": "group",
            "authors": [
                {"full_name": "Nguyễn Văn Hùng", "email": "hung@example.vn", "share": 60},
                {"full_name": "Trần Thị Mai", "email": "mai@example.vn", "language": "en", "share": 40},
            ],
        },
    }
    body.update(changes)
    return body


class Contests:
    """The running service and ways to call it as different people."""

    def __init__(self, client: Any, settings: Any) -> None:
        self.client = client
        self.settings = settings

    @property
    def deps(self) -> Any:
        return self.client.server.app[DEPS]

    # --- callers --------------------------------------------------------------------------

    @property
    def admin(self) -> dict[str, str]:
        return signed_headers(self.settings, "staff:lan", ("admin",))

    @property
    def website(self) -> dict[str, str]:
        """The contest's public website: a partner key bound to no organisation."""
        return signed_headers(self.settings, "key:website", (), ("contests:read", "contests:write"))

    @property
    def anonymous(self) -> dict[str, str]:
        return anonymous_headers(self.settings)

    def manager(self, organization_id: str) -> dict[str, str]:
        return manager_headers(self.settings, organization_id)

    def judge(self, username: str, organization_id: str | None = None) -> dict[str, str]:
        return signed_headers(self.settings, f"staff:{username}", ("judge",), organization_id=organization_id)

    # --- calls ------------------------------------------------------------------------------

    async def call(self, method: str, path: str, headers: dict[str, str], expect: int = 200, **kw: Any) -> Any:
        resp = await self.client.request(method, path, headers=headers, **kw)
        body = await resp.json() if resp.content_type.endswith("json") else await resp.read()
        assert resp.status == expect, (resp.status, body)
        return body

    async def edition(self, *, first: str = "registration", last: str = "forwarding", **changes: Any) -> dict[str, Any]:
        body = {
            "code": changes.pop("code", "STKT10"),
            "kind": "technical",
            "number": 10,
            "name": {
                "vi": "Hội thi Sáng tạo kỹ thuật lần thứ X (2021–2023)",
                "en": "10th Technical Creativity Contest",
            },
            "timeline": rounds(first, last),
            "eligibility": {"applied_since": "2021-01-01"},
            **changes,
        }
        return await self.call("POST", "/contests/editions", self.admin, 201, json=body)

    async def rounds(self, edition_id: str, first: str, last: str | None = None) -> dict[str, Any]:
        return await self.call(
            "PATCH", f"/contests/editions/{edition_id}", self.admin, json={"timeline": rounds(first, last)}
        )

    async def submit(self, edition_id: str, headers: dict[str, str] | None = None, **changes: Any) -> dict[str, Any]:
        return await self.call(
            "POST",
            f"/contests/editions/{edition_id}/entries",
            headers or self.website,
            201,
            json=technical_entry(**changes),
        )

    async def screen_in(self, *entry_ids: str) -> None:
        for entry_id in entry_ids:
            await self.call("POST", f"/contests/entries/{entry_id}/screening", self.admin, json={"decision": "in"})

    async def seat(self, edition_id: str, username: str, organization_id: str | None = None, fields=("agriculture",)):
        body = {"full_name": f"TS. {username.title()}", "fields": list(fields)}
        if organization_id:
            body["organization_id"] = organization_id
        return await self.call("PUT", f"/contests/editions/{edition_id}/judges/{username}", self.admin, json=body)

    async def score(self, entry_id: str, username: str, novelty, applicability, effectiveness, submit=True, expect=200):
        body = {
            "scores": {"novelty": novelty, "applicability": applicability, "effectiveness": effectiveness},
            "submit": submit,
        }
        return await self.call(
            "PUT", f"/contests/judging/entries/{entry_id}/sheet", self.judge(username), expect, json=body
        )

    # --- projections, as membership's events would leave them ------------------------------------

    async def organizations(self) -> None:
        for org_id, code, parent, name in TREE:
            data = OrganizationCreated(
                organization_id=org_id, code=code, name=name, kind="association", parent_id=parent
            )
            await self.deps.projections.apply_organization(data, datetime.now(UTC))
        self.deps.tree.invalidate()

    async def member(self, member_id: str, name: str, orgs=(), email: str | None = None, language: str = "vi") -> None:
        data = MemberUpdated(
            member_id=member_id,
            full_name=name,
            email=email,
            status="active",
            organization_ids=list(orgs),
            language=language,
        )
        await self.deps.projections.apply_member(data, datetime.now(UTC))


@pytest.fixture
async def contests(aiohttp_client, settings):
    client = await aiohttp_client(
        create_app(settings.model_copy(update={"public_base_url": "https://lienhiep.example.vn"}))
    )
    service = Contests(client, settings)
    await service.organizations()
    return service


@pytest.fixture
async def heard(settings):
    """A consumer standing in for notifications: every contest event the service announced."""
    async with EventRecorder(settings, ENTRY_EVENTS, "contest-listener") as recorder:
        yield recorder
