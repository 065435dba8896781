"""A small typed client of LienHiep's public HTTP API (`/api/v1/...`), shared by the
staff console's server side and the `lienhiep` command.

It knows paths, parameters and answer shapes, nothing of the services' internals and
no business rule: whatever it can do, a partner system can do with the same calls.
Every refusal becomes an `ApiProblem` carrying the RFC 9457 problem (title, detail,
the fields at fault), in the language asked for with `Accept-Language`.
Answer models keep fields they do not name (`extra="allow"`), so a field the API adds
later reaches `--json` output and templates without a change here.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import IO, Any, Literal
from urllib.parse import quote

import aiohttp
from pydantic import BaseModel, ConfigDict

PREFIX = "/api/v1"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- problems -------------------------------------------------------------------------


@dataclass
class FieldError:
    field: str
    message: str
    code: str = ""


@dataclass
class ApiProblem(Exception):
    """A refused request: the problem the API answered (or one made up when it could not be reached)."""

    status: int
    title: str
    detail: str = ""
    type: str = ""
    errors: list[FieldError] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.title}: {self.detail}" if self.detail else self.title

    @property
    def code(self) -> str:
        """The last part of the problem type, e.g. `validation-error`."""
        return self.type.rsplit("/", 1)[-1]

    def by_field(self) -> dict[str, list[str]]:
        """Messages per field path (`sessions.0.starts_at`); a problem about one field (`field` in the body)
        counts too."""
        out: dict[str, list[str]] = {}
        for err in self.errors:
            out.setdefault(err.field, []).append(err.message)
        single = self.extra.get("field")
        if isinstance(single, str) and single not in out:
            out[single] = [self.detail or self.title]
        return out

    @classmethod
    def from_answer(cls, status: int, body: Any) -> ApiProblem:
        if not isinstance(body, dict):
            return cls(status, f"HTTP {status}", str(body)[:300] if body else "")
        errors = [
            FieldError(str(e.get("field", "")), str(e.get("message", "")), str(e.get("code", "")))
            for e in body.get("errors") or []
            if isinstance(e, dict)
        ]
        known = {"type", "title", "status", "detail", "errors"}
        return cls(
            status,
            str(body.get("title") or f"HTTP {status}"),
            str(body.get("detail") or ""),
            str(body.get("type") or ""),
            errors,
            {k: v for k, v in body.items() if k not in known},
        )


def unreachable(base_url: str, reason: str) -> ApiProblem:
    return ApiProblem(503, "API unreachable", f"{base_url}: {reason}", "unreachable")


# --- answers ----------------------------------------------------------------------------


class Answer(BaseModel):
    model_config = ConfigDict(extra="allow")


class StaffUser(Answer):
    username: str
    role: Literal["admin", "manager", "judge"]
    organization_id: str | None = None


class Login(Answer):
    access_token: str
    expires_in: int
    expires_at: datetime
    user: StaffUser


class Organization(Answer):
    id: str
    code: str
    name: str
    kind: str
    parent_id: str | None = None
    contact_email: str | None = None
    contact_phone: str | None = None
    address: str | None = None
    status: str = "active"
    depth: int = 0


class RowRejection(Answer):
    line: int
    column: str
    code: str
    reason: str


class OrganizationImport(Answer):
    created: int
    updated: int
    unchanged: int
    rejected: int
    errors: list[RowRejection]


class Term(Answer):
    start: date
    end: date


class Member(Answer):
    id: str
    full_name: str
    email: str | None = None
    phone: str | None = None
    date_of_birth: date | None = None
    gender: str | None = None
    titles: list[str] = []
    expertise: str | None = None
    language: str = "vi"
    organization_ids: list[str] = []
    status: str
    young_intellectual: bool = False
    term: Term | None = None
    dues_state: str | None = None
    created_at: datetime
    updated_at: datetime


class MemberPage(Answer):
    items: list[Member]
    next_after: str | None = None


class HistoryEntry(Answer):
    at: datetime
    by: str
    action: str
    changes: dict[str, Any] | None = None
    note: str | None = None


class ImportJob(Answer):
    id: str
    state: Literal["queued", "running", "done", "failed", "interrupted"]
    filename: str | None = None
    bytes: int = 0
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[RowRejection] = []
    errors_next_after_line: int | None = None
    error: dict[str, Any] | None = None
    created_by: str | None = None
    created_at: datetime
    finished_at: datetime | None = None

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed", "interrupted")


class SessionOut(Answer):
    id: str
    title: dict[str, Any] | None = None
    room: str | None = None
    starts_at: datetime
    ends_at: datetime


class OrgRef(Answer):
    id: str
    code: str | None = None
    name: str | None = None


class Event(Answer):
    id: str
    kind: str
    title: dict[str, Any]
    description: dict[str, Any] | None = None
    organizer: OrgRef
    venue: str | None = None
    online_url: str | None = None
    sessions: list[SessionOut]
    starts_at: datetime
    ends_at: datetime
    capacity: int
    confirmed: int
    waiting: int
    seats_free: int
    registration_opens_at: datetime | None = None
    registration_closes_at: datetime | None = None
    registration_open: bool = False
    audience: dict[str, Any] = {}
    training_hours: float | None = None
    status: str
    cancel_reason: str | None = None


class EventPage(Answer):
    items: list[Event]
    next_offset: int | None = None


class Registration(Answer):
    id: str
    event_id: str
    status: str
    kind: str | None = None
    member_id: str | None = None
    full_name: str | None = None
    email: str | None = None
    phone: str | None = None
    ticket_code: str | None = None
    position: int | None = None
    checkins: dict[str, str] = {}
    certificate_code: str | None = None


class RegistrationPage(Answer):
    items: list[Registration]
    next_offset: int | None = None


class CheckIn(Answer):
    registration: Registration
    session_id: str
    checked_in_at: datetime


class Attendance(Answer):
    event_id: str
    confirmed: int
    attended: int


class Delivery(Answer):
    key: str
    channel: str
    template: str
    status: str
    member_id: str | None = None
    recipient_id: str | None = None
    campaign_id: str | None = None
    source_event_type: str = ""
    reason: str | None = None
    held: str | None = None
    attempts: int = 0
    last_error: str | None = None
    content: dict[str, Any] | None = None
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None = None


class ParkedMessage(Answer):
    handler: str
    message_id: str | None = None
    type: str | None = None
    attempts: int = 0
    last_error: str | None = None


class DeadLetters(Answer):
    deliveries: list[Delivery]
    events: list[ParkedMessage]


class ConsumerParking(Answer):
    consumer: str
    parked: int = 0
    messages: list[ParkedMessage] = []


class UnpublishedEvent(Answer):
    event_id: str
    type: str
    error: str | None = None
    tries: int | None = None
    set_aside_at: datetime | None = None


class ParkedReport(Answer):
    """One service's parked messages: per consumer, and the events its outbox set aside."""

    service: str
    consumers: list[ConsumerParking] = []
    unpublished: list[UnpublishedEvent] = []

    @property
    def total(self) -> int:
        return sum(c.parked for c in self.consumers) + len(self.unpublished)


class TemplateSummary(Answer):
    notification: str
    channel: str
    language: str
    version: int
    edited: bool


class Template(Answer):
    notification: str
    channel: str
    language: str
    version: int
    parts: dict[str, str | None]
    updated_at: datetime | None = None
    updated_by: str | None = None


class Preview(Answer):
    subject: str | None = None
    text: str
    html: str | None = None
    segments: int | None = None
    encoding: str | None = None


class Suppression(Answer):
    address: str
    channel: str
    reason: str
    at: datetime


class Campaign(Answer):
    id: str
    name: str
    segment: dict[str, Any]
    channels: list[str]
    language: str
    status: str
    planning_done: bool
    progress: dict[str, int]
    created_by: str | None = None
    created_at: datetime

    @property
    def handled(self) -> int:
        """Messages that reached an end (sent, skipped, failed…), for a progress bar."""
        return sum(n for state, n in self.progress.items() if state not in ("planned", "queued", "sending", "paused"))

    @property
    def planned(self) -> int:
        return int(self.progress.get("planned", 0))


class Staff(Answer):
    username: str
    role: str
    organization_id: str | None = None
    created_at: datetime
    locked: bool
    disabled: bool
    last_login_at: datetime | None = None


class ApiKey(Answer):
    id: str
    name: str
    scopes: list[str]
    organization_id: str | None = None
    created_at: datetime
    created_by: str
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None


class ApiKeyCreated(ApiKey):
    key: str


class Traffic(Answer):
    online_now: int
    today: int
    this_week: int
    this_month: int
    this_year: int
    total: int


class ContestEdition(Answer):
    id: str
    code: str
    kind: str
    kind_label: dict[str, str]
    name: dict[str, Any]
    status: str
    timeline: dict[str, Any]
    fields: list[dict[str, Any]]
    criteria: list[dict[str, Any]]
    tiers: list[dict[str, Any]]
    entries: int = 0


class ContestEntry(Answer):
    id: str
    code: str
    edition_id: str
    title: str
    field: str
    field_label: dict[str, Any]
    summary: str
    entrant: dict[str, Any]
    status: str
    status_label: dict[str, str]
    status_history: list[dict[str, Any]] = []
    documents: list[dict[str, Any]] = []
    warnings: list[dict[str, Any]] | None = None
    result: dict[str, Any] | None = None


class ContestEntryPage(Answer):
    items: list[ContestEntry]
    next_after: str | None = None


class AssignedEntry(Answer):
    entry_id: str
    code: str
    edition_id: str
    title: str
    field: str
    sheet_status: str
    total: float | None = None


class JudgingSheet(Answer):
    entry: ContestEntry
    criteria: list[dict[str, Any]]
    sheet: dict[str, Any]
    others_hidden: bool
    others: list[dict[str, Any]]


class ContestRanking(Answer):
    edition_id: str
    published: bool
    items: list[dict[str, Any]]
    tiers: list[dict[str, Any]]


@dataclass
class Download:
    """A file the API streams (an export): its type, suggested name and chunks."""

    content_type: str
    filename: str
    response: aiohttp.ClientResponse

    async def chunks(self) -> AsyncIterator[bytes]:
        async for chunk in self.response.content.iter_chunked(64 * 1024):
            yield chunk


Upload = tuple[str, IO[bytes] | bytes, str]  # (file name, content, media type)


# --- the client -------------------------------------------------------------------------


def _clean(params: Mapping[str, Any]) -> dict[str, str]:
    """Query parameters as the API reads them: no None, booleans as true/false."""
    out: dict[str, str] = {}
    for key, value in params.items():
        if value is None or value == "":
            continue
        out[key] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return out


def _filename(disposition: str, fallback: str) -> str:
    for part in disposition.split(";"):
        name, _, value = part.strip().partition("=")
        if name.lower() == "filename" and value:
            return value.strip('"')
    return fallback


class ApiClient:
    """One caller of the API: a base URL, an optional token or key, a language.

    Use as `async with ApiClient(url, token=...) as api:`; or give it a shared
    `aiohttp.ClientSession` (the console keeps one for every signed-in person).
    """

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        language: str = "vi",
        session: aiohttp.ClientSession | None = None,
        request_id: str | None = None,
        forwarded_for: str | None = None,
        timeout: float = 30.0,
        upload_timeout: float = 300.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.language = language
        self.request_id = request_id
        self.forwarded_for = forwarded_for
        self._session = session
        self._own_session = session is None
        self._timeout = aiohttp.ClientTimeout(total=timeout, connect=5)
        self._upload_timeout = aiohttp.ClientTimeout(total=upload_timeout, connect=5)

    async def __aenter__(self) -> ApiClient:
        if self._session is None:
            self._session = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    def _headers(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        headers = {"Accept-Language": self.language, "Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.request_id:
            headers["X-Request-ID"] = self.request_id
        if self.forwarded_for:
            headers["X-Forwarded-For"] = self.forwarded_for
        headers.update(extra or {})
        return headers

    async def call(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: Mapping[str, Any] | None = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        slow: bool = False,
    ) -> Any:
        """The JSON answer of one request (None for 204); ApiProblem for any refusal."""
        if self._session is None:
            raise RuntimeError("use ApiClient in `async with`")
        url = f"{self.base_url}{PREFIX}{path}"
        try:
            async with self._session.request(
                method,
                url,
                params=_clean(params or {}),
                json=json_body,
                data=data,
                headers=self._headers(headers),
                timeout=self._upload_timeout if slow else self._timeout,
            ) as resp:
                raw = await resp.read()
                body: Any = None
                if raw:
                    try:
                        body = json.loads(raw)
                    except (json.JSONDecodeError, UnicodeDecodeError):
                        body = raw.decode("utf-8", "replace")
                if resp.status >= 400:
                    raise ApiProblem.from_answer(resp.status, body)
                return body
        except aiohttp.ClientError as exc:
            raise unreachable(self.base_url, type(exc).__name__) from None
        except TimeoutError:
            raise unreachable(self.base_url, "timed out") from None

    @asynccontextmanager
    async def download(
        self, path: str, params: Mapping[str, Any] | None = None, fallback_name: str = "export"
    ) -> AsyncIterator[Download]:
        """Stream a file the API answers (exports); ApiProblem before the first byte if refused."""
        if self._session is None:
            raise RuntimeError("use ApiClient in `async with`")
        url = f"{self.base_url}{PREFIX}{path}"
        headers = self._headers({"Accept": "*/*"})
        try:
            async with self._session.get(
                url, params=_clean(params or {}), headers=headers, timeout=self._upload_timeout
            ) as resp:
                if resp.status >= 400:
                    raw = await resp.read()
                    try:
                        body: Any = json.loads(raw)
                    except (json.JSONDecodeError, UnicodeDecodeError):
                        body = None
                    raise ApiProblem.from_answer(resp.status, body)
                yield Download(
                    resp.headers.get("Content-Type", "application/octet-stream"),
                    _filename(resp.headers.get("Content-Disposition", ""), fallback_name),
                    resp,
                )
        except aiohttp.ClientError as exc:
            raise unreachable(self.base_url, type(exc).__name__) from None

    async def _upload(self, path: str, upload: Upload, params: Mapping[str, Any]) -> Any:
        name, content, media = upload
        form = aiohttp.FormData()
        form.add_field("file", content, filename=name, content_type=media or "application/octet-stream")
        return await self.call("POST", path, params=params, data=form, slow=True)

    # --- staff login -------------------------------------------------------------------

    async def login(self, username: str, password: str) -> Login:
        return Login.model_validate(
            await self.call("POST", "/auth/login", json_body={"username": username, "password": password})
        )

    async def refresh(self) -> Login:
        return Login.model_validate(await self.call("POST", "/auth/refresh"))

    async def logout(self) -> None:
        await self.call("POST", "/auth/logout")

    async def me(self) -> StaffUser:
        return StaffUser.model_validate(await self.call("GET", "/auth/me"))

    async def change_password(self, current: str, new: str) -> None:
        await self.call("POST", "/auth/password", json_body={"current_password": current, "new_password": new})

    # --- organisations -----------------------------------------------------------------

    async def organizations(self, kind: str | None = None, status: str | None = None) -> list[Organization]:
        body = await self.call("GET", "/organizations", params={"kind": kind, "status": status})
        return [Organization.model_validate(o) for o in body["items"]]

    async def organization(self, organization_id: str) -> Organization:
        return Organization.model_validate(await self.call("GET", f"/organizations/{organization_id}"))

    async def subtree(self, organization_id: str) -> list[Organization]:
        body = await self.call("GET", f"/organizations/{organization_id}/subtree")
        return [Organization.model_validate(o) for o in body["items"]]

    async def create_organization(self, fields: Mapping[str, Any]) -> Organization:
        return Organization.model_validate(await self.call("POST", "/organizations", json_body=dict(fields)))

    async def update_organization(self, organization_id: str, changes: Mapping[str, Any]) -> Organization:
        return Organization.model_validate(
            await self.call("PATCH", f"/organizations/{organization_id}", json_body=dict(changes))
        )

    async def import_organizations(self, upload: Upload) -> OrganizationImport:
        return OrganizationImport.model_validate(
            await self._upload("/organizations/imports", upload, {"lang": self.language})
        )

    # --- members -----------------------------------------------------------------------

    async def members(
        self,
        *,
        q: str | None = None,
        organization_id: str | None = None,
        status: str | None = None,
        young_intellectual: bool | None = None,
        expertise: str | None = None,
        title: str | None = None,
        limit: int = 50,
        after: str | None = None,
    ) -> MemberPage:
        return MemberPage.model_validate(
            await self.call(
                "GET",
                "/members",
                params={
                    "q": q,
                    "organization_id": organization_id,
                    "status": status,
                    "young_intellectual": young_intellectual,
                    "expertise": expertise,
                    "title": title,
                    "limit": limit,
                    "after": after,
                },
            )
        )

    async def unpaid_dues(self, organization_id: str, limit: int = 50, after: str | None = None) -> MemberPage:
        return MemberPage.model_validate(
            await self.call(
                "GET", f"/organizations/{organization_id}/unpaid-dues", params={"limit": limit, "after": after}
            )
        )

    async def member_counts(self) -> dict[str, int]:
        return dict((await self.call("GET", "/members/counts"))["counts"])

    async def member(self, member_id: str) -> Member:
        return Member.model_validate(await self.call("GET", f"/members/{member_id}"))

    async def member_history(self, member_id: str) -> list[HistoryEntry]:
        body = await self.call("GET", f"/members/{member_id}/history")
        return [HistoryEntry.model_validate(h) for h in body["items"]]

    async def create_member(self, fields: Mapping[str, Any], application: bool = False) -> Member:
        path = "/members/applications" if application else "/members"
        return Member.model_validate(await self.call("POST", path, json_body=dict(fields)))

    async def update_member(self, member_id: str, changes: Mapping[str, Any]) -> Member:
        return Member.model_validate(await self.call("PATCH", f"/members/{member_id}", json_body=dict(changes)))

    async def member_transition(
        self,
        member_id: str,
        action: Literal["approve", "reject", "suspend", "reinstate", "resign"],
        reason: str | None = None,
    ) -> Member:
        return Member.model_validate(
            await self.call("POST", f"/members/{member_id}/{action}", json_body={"reason": reason} if reason else {})
        )

    async def renew_member(self, member_id: str, years: int = 1, dues: Mapping[str, Any] | None = None) -> Member:
        body: dict[str, Any] = {"years": years}
        if dues:
            body["dues"] = dict(dues)
        return Member.model_validate(await self.call("POST", f"/members/{member_id}/renew", json_body=body))

    async def personal_data(self, member_id: str) -> dict[str, Any]:
        return dict(await self.call("GET", f"/members/{member_id}/personal-data"))

    async def erase_member(self, member_id: str) -> Member:
        return Member.model_validate(await self.call("DELETE", f"/members/{member_id}/personal-data"))

    def export_members(self, fmt: str, filters: Mapping[str, Any]):
        return self.download(
            "/members/export", {**filters, "format": fmt, "lang": self.language}, fallback_name=f"members.{fmt}"
        )

    async def import_members(self, upload: Upload, wait: bool = False) -> ImportJob:
        return ImportJob.model_validate(
            await self._upload("/members/imports", upload, {"wait": wait, "lang": self.language})
        )

    async def imports(self, limit: int = 20) -> list[ImportJob]:
        return [
            ImportJob.model_validate(j)
            for j in (await self.call("GET", "/members/imports", params={"limit": limit}))["items"]
        ]

    async def import_job(self, job_id: str, limit: int = 500, after_line: int | None = None) -> ImportJob:
        return ImportJob.model_validate(
            await self.call(
                "GET",
                f"/members/imports/{job_id}",
                params={"lang": self.language, "limit": limit, "after_line": after_line},
            )
        )

    # --- events and registrations ------------------------------------------------------

    async def events(
        self,
        *,
        status: str | None = None,
        kind: str | None = None,
        upcoming: bool = False,
        organizer: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> EventPage:
        return EventPage.model_validate(
            await self.call(
                "GET",
                "/events",
                params={
                    "status": status,
                    "kind": kind,
                    "upcoming": upcoming or None,
                    "organizer": organizer,
                    "limit": limit,
                    "offset": offset,
                },
            )
        )

    async def event(self, event_id: str) -> Event:
        return Event.model_validate(await self.call("GET", f"/events/{event_id}"))

    async def create_event(self, fields: Mapping[str, Any]) -> Event:
        return Event.model_validate(await self.call("POST", "/events", json_body=dict(fields)))

    async def update_event(self, event_id: str, changes: Mapping[str, Any]) -> Event:
        return Event.model_validate(await self.call("PATCH", f"/events/{event_id}", json_body=dict(changes)))

    async def event_transition(
        self, event_id: str, action: Literal["publish", "close-registration", "complete"]
    ) -> Event:
        return Event.model_validate(await self.call("POST", f"/events/{event_id}/{action}"))

    async def cancel_event(self, event_id: str, reason: str | None) -> Event:
        return Event.model_validate(
            await self.call("POST", f"/events/{event_id}/cancel", json_body={"reason": reason} if reason else {})
        )

    async def set_capacity(self, event_id: str, capacity: int) -> Event:
        return Event.model_validate(
            await self.call("PUT", f"/events/{event_id}/capacity", json_body={"capacity": capacity})
        )

    async def registrations(
        self, event_id: str, status: str | None = None, limit: int = 100, offset: int = 0
    ) -> RegistrationPage:
        return RegistrationPage.model_validate(
            await self.call(
                "GET", f"/events/{event_id}/registrations", params={"status": status, "limit": limit, "offset": offset}
            )
        )

    async def member_registrations(
        self, member_id: str, status: str | None = None, limit: int = 100, offset: int = 0
    ) -> RegistrationPage:
        """A member's registrations, newest first (events within the caller's reach)."""
        return RegistrationPage.model_validate(
            await self.call(
                "GET",
                f"/events/members/{member_id}/registrations",
                params={"status": status, "limit": limit, "offset": offset},
            )
        )

    async def register(
        self, event_id: str, fields: Mapping[str, Any], idempotency_key: str | None = None
    ) -> Registration:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return Registration.model_validate(
            await self.call("POST", f"/events/{event_id}/registrations", json_body=dict(fields), headers=headers)
        )

    async def cancel_registration(self, registration_id: str) -> Registration:
        return Registration.model_validate(await self.call("DELETE", f"/registrations/{registration_id}"))

    async def check_in(self, ticket_code: str, session_id: str | None = None) -> CheckIn:
        body: dict[str, Any] = {"ticket_code": ticket_code}
        if session_id:
            body["session_id"] = session_id
        return CheckIn.model_validate(await self.call("POST", "/checkins", json_body=body))

    async def attendance(self, event_id: str) -> Attendance:
        return Attendance.model_validate(await self.call("GET", f"/events/{event_id}/attendance"))

    def export_event(self, event_id: str, what: Literal["registrations", "attendance"], fmt: str):
        return self.download(f"/events/{event_id}/{what}/export", {"format": fmt}, fallback_name=f"{what}.{fmt}")

    async def issue_certificates(self, event_id: str) -> dict[str, int]:
        return dict(await self.call("POST", f"/events/{event_id}/certificates"))

    # --- contests -----------------------------------------------------------------------

    async def contest_editions(self) -> list[ContestEdition]:
        return [ContestEdition.model_validate(e) for e in (await self.call("GET", "/contests/editions"))["items"]]

    async def contest_edition(self, edition_id: str) -> ContestEdition:
        return ContestEdition.model_validate(await self.call("GET", f"/contests/editions/{quote(edition_id, safe='')}"))

    async def contest_entries(
        self, edition_id: str, *, status: str | None = None, after: str | None = None, limit: int = 100
    ) -> ContestEntryPage:
        return ContestEntryPage.model_validate(
            await self.call(
                "GET",
                f"/contests/editions/{quote(edition_id, safe='')}/entries",
                params={"status": status, "after": after, "limit": limit},
            )
        )

    async def contest_entry(self, entry_id: str) -> ContestEntry:
        return ContestEntry.model_validate(await self.call("GET", f"/contests/entries/{quote(entry_id, safe='')}"))

    async def screen_entry(self, entry_id: str, decision: str, reason: str | None) -> ContestEntry:
        body: dict[str, Any] = {"decision": decision, **({"reason": reason} if reason else {})}
        return ContestEntry.model_validate(
            await self.call("POST", f"/contests/entries/{quote(entry_id, safe='')}/screening", json_body=body)
        )

    async def judging_entries(self, edition_id: str | None = None) -> list[AssignedEntry]:
        body = await self.call("GET", "/contests/judging/entries", params={"edition_id": edition_id})
        return [AssignedEntry.model_validate(i) for i in body["items"]]

    async def judging_sheet(self, entry_id: str) -> JudgingSheet:
        return JudgingSheet.model_validate(
            await self.call("GET", f"/contests/judging/entries/{quote(entry_id, safe='')}")
        )

    async def score_entry(
        self, entry_id: str, scores: Mapping[str, Any], comment: str | None, submit: bool
    ) -> JudgingSheet:
        body = {"scores": dict(scores), "comment": comment or None, "submit": submit}
        return JudgingSheet.model_validate(
            await self.call("PUT", f"/contests/judging/entries/{quote(entry_id, safe='')}/sheet", json_body=body)
        )

    async def contest_ranking(self, edition_id: str, sort: str = "rank") -> ContestRanking:
        return ContestRanking.model_validate(
            await self.call("GET", f"/contests/editions/{quote(edition_id, safe='')}/ranking", params={"sort": sort})
        )

    async def set_override(self, entry_id: str, tier: str, reason: str) -> ContestEntry:
        return ContestEntry.model_validate(
            await self.call(
                "PUT",
                f"/contests/entries/{quote(entry_id, safe='')}/override",
                json_body={"tier": tier, "reason": reason},
            )
        )

    async def clear_override(self, entry_id: str) -> ContestEntry:
        return ContestEntry.model_validate(
            await self.call("DELETE", f"/contests/entries/{quote(entry_id, safe='')}/override")
        )

    async def publish_results(self, edition_id: str) -> dict[str, Any]:
        return dict(await self.call("POST", f"/contests/editions/{quote(edition_id, safe='')}/publish"))

    def export_contest(
        self, edition_id: str, what: Literal["score-sheets", "entry-scores", "ranking", "forwarded"], fmt: str
    ):
        return self.download(
            f"/contests/editions/{quote(edition_id, safe='')}/exports/{what}",
            {"format": fmt},
            fallback_name=f"{what}.{fmt}",
        )

    # --- notifications -----------------------------------------------------------------

    async def deliveries(
        self,
        *,
        status: str | None = None,
        member_id: str | None = None,
        recipient_id: str | None = None,
        event_id: str | None = None,
        campaign_id: str | None = None,
        limit: int = 50,
    ) -> list[Delivery]:
        body = await self.call(
            "GET",
            "/notifications/deliveries",
            params={
                "status": status,
                "member_id": member_id,
                "recipient_id": recipient_id,
                "event_id": event_id,
                "campaign_id": campaign_id,
                "limit": limit,
            },
        )
        return [Delivery.model_validate(d) for d in body["items"]]

    async def delivery(self, key: str) -> Delivery:
        return Delivery.model_validate(await self.call("GET", f"/notifications/deliveries/{key}"))

    async def replay_delivery(self, key: str) -> Delivery:
        return Delivery.model_validate(await self.call("POST", f"/notifications/deliveries/{key}/replay"))

    async def dead_letters(self) -> DeadLetters:
        return DeadLetters.model_validate(await self.call("GET", "/notifications/dead-letters"))

    async def replay_parked(self, handler: str) -> int:
        return int(
            (await self.call("POST", "/notifications/dead-letters/replay", json_body={"handler": handler}))["replayed"]
        )

    async def parked_services(self) -> list[str]:
        """The services whose parked messages the API lists (`GET /{service}/parked-messages`), read from its
        own document, so a service that gains the endpoint shows up without a change here."""
        doc = await self.call("GET", "/openapi.json")
        found = re.compile(rf"^{PREFIX}/([a-z-]+)/parked-messages$")
        return sorted(m.group(1) for path in doc.get("paths", {}) if (m := found.match(path)))

    async def parked(self, service: str, limit: int = 50) -> ParkedReport:
        return ParkedReport.model_validate(
            await self.call("GET", f"/{service}/parked-messages", params={"limit": limit})
        )

    async def replay_parked_messages(self, service: str, consumer: str) -> int:
        body = await self.call("POST", f"/{service}/parked-messages/{quote(consumer, safe='')}/replay")
        return int(body["replayed"])

    async def templates(self) -> list[TemplateSummary]:
        return [
            TemplateSummary.model_validate(t) for t in (await self.call("GET", "/notifications/templates"))["items"]
        ]

    async def template(self, notification: str, channel: str, language: str) -> Template:
        return Template.model_validate(
            await self.call("GET", f"/notifications/templates/{notification}/{channel}/{language}")
        )

    async def template_versions(self, notification: str, channel: str, language: str) -> list[Template]:
        body = await self.call("GET", f"/notifications/templates/{notification}/{channel}/{language}/versions")
        return [Template.model_validate(t) for t in body["items"]]

    async def save_template(
        self,
        notification: str,
        channel: str,
        language: str,
        parts: Mapping[str, str | None],
        expected_version: int | None,
    ) -> Template:
        return Template.model_validate(
            await self.call(
                "PUT",
                f"/notifications/templates/{notification}/{channel}/{language}",
                json_body={"parts": dict(parts), "expected_version": expected_version},
            )
        )

    async def preview_template(
        self, notification: str, channel: str, language: str, parts: Mapping[str, str | None] | None
    ) -> Preview:
        return Preview.model_validate(
            await self.call(
                "POST",
                f"/notifications/templates/{notification}/{channel}/{language}/preview",
                json_body={"parts": dict(parts)} if parts is not None else {},
            )
        )

    async def suppressions(self, limit: int = 200) -> list[Suppression]:
        body = await self.call("GET", "/notifications/suppressions", params={"limit": limit})
        return [Suppression.model_validate(s) for s in body["items"]]

    async def remove_suppression(self, address: str) -> None:
        await self.call("DELETE", f"/notifications/suppressions/{quote(address, safe='')}")

    async def campaigns(self, limit: int = 50) -> list[Campaign]:
        body = await self.call("GET", "/notifications/campaigns", params={"limit": limit})
        return [Campaign.model_validate(c) for c in body["items"]]

    async def campaign(self, campaign_id: str) -> Campaign:
        return Campaign.model_validate(await self.call("GET", f"/notifications/campaigns/{campaign_id}"))

    async def create_campaign(self, fields: Mapping[str, Any]) -> Campaign:
        return Campaign.model_validate(await self.call("POST", "/notifications/campaigns", json_body=dict(fields)))

    async def campaign_transition(self, campaign_id: str, action: Literal["pause", "resume", "cancel"]) -> Campaign:
        return Campaign.model_validate(await self.call("POST", f"/notifications/campaigns/{campaign_id}/{action}"))

    # --- administration ----------------------------------------------------------------

    async def staff(self) -> list[Staff]:
        return [Staff.model_validate(s) for s in (await self.call("GET", "/admin/staff"))["items"]]

    async def create_staff(self, fields: Mapping[str, Any]) -> Staff:
        return Staff.model_validate(await self.call("POST", "/admin/staff", json_body=dict(fields)))

    async def change_staff_role(self, username: str, role: str, organization_id: str | None) -> Staff:
        body: dict[str, Any] = {"role": role}
        if organization_id:
            body["organization_id"] = organization_id
        return Staff.model_validate(await self.call("PATCH", f"/admin/staff/{username}", json_body=body))

    async def reset_staff_password(self, username: str, new_password: str) -> Staff:
        return Staff.model_validate(
            await self.call("POST", f"/admin/staff/{username}/password", json_body={"new_password": new_password})
        )

    async def staff_action(self, username: str, action: Literal["unlock", "enable", "disable"]) -> Staff:
        if action == "disable":
            return Staff.model_validate(await self.call("DELETE", f"/admin/staff/{username}"))
        return Staff.model_validate(await self.call("POST", f"/admin/staff/{username}/{action}"))

    async def api_keys(self) -> list[ApiKey]:
        return [ApiKey.model_validate(k) for k in (await self.call("GET", "/admin/api-keys"))["items"]]

    async def create_api_key(self, name: str, scopes: list[str], organization_id: str | None = None) -> ApiKeyCreated:
        body: dict[str, Any] = {"name": name, "scopes": scopes}
        if organization_id:
            body["organization_id"] = organization_id
        return ApiKeyCreated.model_validate(await self.call("POST", "/admin/api-keys", json_body=body))

    async def revoke_api_key(self, key_id: str) -> ApiKey:
        return ApiKey.model_validate(await self.call("DELETE", f"/admin/api-keys/{key_id}"))

    async def traffic(self) -> Traffic:
        return Traffic.model_validate(await self.call("GET", "/stats/traffic"))

    async def scopes(self) -> list[str]:
        """Every scope a partner key may be given, read from the API's own document."""
        doc = await self.call("GET", "/openapi.json")
        found = {
            op.get("x-required-scope")
            for item in doc.get("paths", {}).values()
            for op in item.values()
            if isinstance(op, dict)
        }
        return sorted(s for s in found if s and s != "admin")
