"""Administrators look after staff accounts: create them, change a role, set a
forgotten password, disable, enable and unlock them.

A change that must reach every gateway at once (a disabled or demoted account, a new
password) ends the account's logins in the same write and carries a
`staff_account.changed` event. The last active administrator can be neither disabled
nor demoted: checked before the change and again after it (two administrators
demoting each other at once are both undone rather than leave nobody in charge).
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Mapping
from typing import Any

from services.gateway import passwords
from services.gateway.catalogue import MESSAGES
from services.gateway.endpoints import Staff, StaffIn, StaffList
from services.gateway.identifying import Callers
from services.gateway.logging_in import PRODUCER, Logins
from services.gateway.store import DuplicateUsername, GatewayStore, LoginGuardDoc, StaffDoc, moment
from shared.clock import now_utc
from shared.contracts import StaffAccountChanged, new_event
from shared.errors import Conflict, NotFound

BOOTSTRAP_USERNAME = "admin"


class DuplicateStaff(Conflict):
    code, title = "duplicate-staff", MESSAGES("gateway.duplicate_staff")


class LastAdmin(Conflict):
    code, title = "last-admin", MESSAGES("gateway.last_admin")


# Roles whose account keeps an organisation: a manager's association, a contest judge's own.
BOUND_ROLES = ("manager", "judge")


class StaffAccounts:
    def __init__(self, store: GatewayStore, logins: Logins, callers: Callers) -> None:
        self.store = store
        self.logins = logins
        self.callers = callers

    async def create(self, body: StaffIn, by: str) -> Staff:
        passwords.check(body.password, body.username)
        doc: StaffDoc = {
            "_id": body.username,
            "role": body.role,
            "organization_id": body.organization_id if body.role in BOUND_ROLES else None,
            "password_hash": await asyncio.to_thread(self.logins.hasher.hash, body.password),
            "created": now_utc(),
            "created_by": by,
            "disabled_at": None,
            "last_login_at": None,
            "logins_generation": 0,
        }
        try:
            await self.store.add_staff(doc)
        except DuplicateUsername:
            raise DuplicateStaff(MESSAGES("gateway.duplicate_staff.detail"), field="username") from None
        return self._shown(doc, None)

    async def list(self) -> StaffList:
        accounts = await self.store.list_staff()
        guards = await self.store.login_guards([self.logins.guard_key(a["_id"]) for a in accounts])
        return StaffList(items=[self._shown(a, guards.get(self.logins.guard_key(a["_id"]))) for a in accounts])

    async def change_role(self, username: str, role: str, organization_id: str | None) -> Staff:
        changes = {"role": role, "organization_id": organization_id if role in BOUND_ROLES else None}
        return await self._change(username, changes, "role_changed", demotes=role != "admin")

    async def reset_password(self, username: str, new_password: str) -> Staff:
        passwords.check(new_password, username, field="new_password")
        hashed = await asyncio.to_thread(self.logins.hasher.hash, new_password)
        await self.store.clear_guard(self.logins.guard_key(username))
        return await self._change(username, {"password_hash": hashed}, "password_reset")

    async def disable(self, username: str) -> Staff:
        return await self._change(username, {"disabled_at": now_utc()}, "disabled", demotes=True)

    async def enable(self, username: str) -> Staff:
        await self.store.clear_guard(self.logins.guard_key(username))
        return await self._change(username, {"disabled_at": None}, "enabled", end_logins=False)

    async def unlock(self, username: str) -> Staff:
        await self.store.clear_guard(self.logins.guard_key(username))
        return await self._read(username)

    async def _read(self, username: str) -> Staff:
        doc = await self.store.staff_member(username)
        if doc is None:
            raise NotFound(MESSAGES("gateway.no_such_staff"))
        return self._shown(doc, await self.store.login_guard(self.logins.guard_key(username)))

    async def _change(
        self, username: str, changes: Mapping[str, Any], change: str, *, demotes: bool = False, end_logins: bool = True
    ) -> Staff:
        before = await self.store.staff_member(username)
        if before is None:
            raise NotFound(MESSAGES("gateway.no_such_staff"))
        if demotes and _active_admin(before) and not await self._another_active_admin(username):
            raise LastAdmin(MESSAGES("gateway.last_admin.detail"))
        event = new_event(
            StaffAccountChanged(username=username, change=change, logins_ended=end_logins),
            producer=PRODUCER,
        )
        after = await self.store.update_staff(username, changes, [event], end_logins=end_logins)
        if after is None:
            raise NotFound(MESSAGES("gateway.no_such_staff"))
        if demotes and _active_admin(before) and not await self._another_active_admin(username):
            # Someone demoted the other administrator meanwhile: put this one back.
            undo = {k: before.get(k) for k in changes}
            await self.store.update_staff(username, undo, [])
            raise LastAdmin(MESSAGES("gateway.last_admin.detail"))
        self.callers.forget_account(username)
        return self._shown(after, await self.store.login_guard(self.logins.guard_key(username)))

    async def _another_active_admin(self, username: str) -> bool:
        return any(_active_admin(a) and a["_id"] != username for a in await self.store.admins())

    async def bootstrap(self, given_password: str) -> str | None:
        """Create the first admin when no staff account exists; the generated password
        (None when it came from the environment, or another replica made the account)."""
        if await self.store.staff_count() > 0:
            return None
        password = given_password or secrets.token_urlsafe(12)
        passwords.check(password, BOOTSTRAP_USERNAME)
        body = StaffIn(username=BOOTSTRAP_USERNAME, password=password, role="admin")
        try:
            await self.create(body, by="bootstrap")
        except DuplicateStaff:  # another replica created it first
            return None
        return None if given_password else password

    def _shown(self, doc: StaffDoc, guard: LoginGuardDoc | None) -> Staff:
        return Staff.model_validate(
            {
                "username": doc["_id"],
                "role": doc["role"],
                "organization_id": doc.get("organization_id"),
                "created_at": moment(doc.get("created")),
                "locked": _locked(guard),
                "disabled": bool(doc.get("disabled_at")),
                "last_login_at": moment(doc.get("last_login_at")),
            }
        )


def _locked(guard: LoginGuardDoc | None) -> bool:
    return guard is not None and float(guard.get("locked_until") or 0) > time.time()


def _active_admin(doc: Mapping[str, Any]) -> bool:
    return doc.get("role") == "admin" and not doc.get("disabled_at")
