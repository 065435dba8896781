"""Staff logging in and out, and changing their own password.

Failed logins in a row lock the *username* for a while, whether an account has it
or not, so the answers to an unknown username and to a locked account are the same
(423 after the same number of tries) and tell nobody which accounts exist. The
guards are kept under a keyed hash of the username.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time
import uuid
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from services.gateway import credentials, passwords
from services.gateway.catalogue import MESSAGES
from services.gateway.endpoints import LoginOut, StaffUser
from services.gateway.identifying import Callers, login_lasts, unauthenticated
from services.gateway.store import GatewayStore, SessionDoc, StaffDoc
from shared.clock import now_utc
from shared.contracts import CredentialRevoked, StaffAccountChanged, new_event
from shared.errors import DomainError, Forbidden, Locked, Problem
from shared.identity import STAFF_PREFIX, Identity
from shared.logging import get_logger
from shared.settings import Settings

log = get_logger(__name__)
PRODUCER = "gateway"


class AccountLocked(Locked):
    code, title = "account-locked", MESSAGES("gateway.account_locked")

    def __init__(self, seconds_left: float) -> None:
        super().__init__(MESSAGES("gateway.account_locked.detail"), retry_after_seconds=int(seconds_left) + 1)


def not_a_login(detail_key: str) -> DomainError:
    return Problem(400, "not-a-login", MESSAGES("gateway.not_a_login"), MESSAGES(detail_key))


def password_hasher(settings: Settings) -> PasswordHasher:
    return PasswordHasher(time_cost=settings.gateway_argon2_time_cost, memory_cost=settings.gateway_argon2_memory_kib)


def verify_password(hasher: PasswordHasher, stored: str, password: str) -> bool:
    try:
        return hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


class Logins:
    def __init__(self, store: GatewayStore, settings: Settings, callers: Callers) -> None:
        self.store = store
        self.settings = settings
        self.callers = callers
        self.hasher = password_hasher(settings)
        self._guard_key = settings.derived_secret("gateway-traffic")
        # Verified against when the username is unknown, so timing does not tell which usernames exist.
        self._dummy_hash = self.hasher.hash(secrets.token_urlsafe(16))

    def guard_key(self, username: str) -> str:
        return hmac.new(self._guard_key, f"login|{username}".encode(), hashlib.sha256).hexdigest()[:32]

    async def login(self, username: str, password: str) -> LoginOut:
        key = self.guard_key(username)
        guard = await self.store.login_guard(key)
        wall = time.time()
        locked_until = float(guard.get("locked_until") or 0) if guard else 0.0
        if locked_until > wall:
            raise AccountLocked(locked_until - wall)
        account = await self.store.staff_member(username)
        stored = account["password_hash"] if account else self._dummy_hash
        ok = await asyncio.to_thread(verify_password, self.hasher, stored, password)
        if account is None or not ok or account.get("disabled_at"):
            await self._failed(key, wall)
            raise unauthenticated("gateway.wrong_login")
        if guard is not None:
            await self.store.clear_guard(key)
        await self.store.update_staff(username, {"last_login_at": now_utc()}, [])
        return await self.open(account, started=wall)

    async def _failed(self, key: str, wall: float) -> None:
        log.info("gateway.login_failed")
        if await self.store.count_failure(key, wall) >= self.settings.gateway_lockout_attempts:
            await self.store.lock(key, wall + self.settings.gateway_lockout_seconds)

    async def open(self, account: StaffDoc, started: float) -> LoginOut:
        """A new login of `account` and its token; it never outlives the login's absolute lifetime."""
        now = time.time()
        exp = min(now + self.settings.gateway_token_ttl_seconds, started + self.settings.gateway_session_max_seconds)
        session: SessionDoc = {
            "_id": uuid.uuid4().hex,
            "username": account["_id"],
            "exp": exp,
            "started": started,
            "generation": int(account.get("logins_generation") or 0),
            "revoked_at": 0.0,
        }
        await self.store.open_session(session)
        claims = credentials.StaffClaims(
            account["_id"], account["role"], account.get("organization_id"), session["_id"], session["exp"]
        )
        return LoginOut.model_validate(
            {
                "access_token": credentials.sign_staff_token(claims, self.callers.signer),
                "token_type": "Bearer",
                "expires_in": max(0, round(exp - now)),
                "expires_at": datetime.fromtimestamp(session["exp"], UTC),
                "user": {"username": claims.username, "role": claims.role, "organization_id": claims.organization_id},
            }
        )

    async def refresh(self, who: Identity, token: str) -> LoginOut:
        """Rotate a live staff token: a new one for the same login, the old one ending after a short grace
        (requests already sent with it finish); refused once the login reaches its absolute lifetime."""
        if not who.is_staff:
            raise not_a_login("gateway.only_staff_refresh")
        claims = self.callers.claims(token)
        wall = time.time()
        session = await self.store.session(claims.sid)
        account = await self.store.staff_member(claims.username)
        if session is None or account is None or not login_lasts(claims, session, account, wall):
            raise unauthenticated("gateway.login_ended")
        started = float(session.get("started") or wall)
        if wall >= started + self.settings.gateway_session_max_seconds - 1:
            raise unauthenticated("gateway.login_too_old")
        event = new_event(CredentialRevoked(kind="session", id=claims.sid), producer=PRODUCER)
        if not await self.store.end_for_refresh(
            claims.sid, wall + self.settings.gateway_refresh_grace_seconds, [event]
        ):
            raise unauthenticated("gateway.already_refreshed")
        self.callers.forget_session(claims.sid)
        return await self.open(account, started=started)

    def me(self, who: Identity) -> StaffUser:
        if not who.is_staff:
            raise Forbidden(MESSAGES("gateway.only_staff_have_accounts"))
        return StaffUser(username=_username(who), role=who.roles[0], organization_id=who.organization_id)

    async def logout(self, who: Identity, token: str) -> None:
        if not who.is_staff:
            raise not_a_login("gateway.only_staff_log_out")
        claims = self.callers.claims(token)
        event = new_event(CredentialRevoked(kind="session", id=claims.sid), producer=PRODUCER)
        await self.store.end_session(claims.sid, time.time(), [event])
        self.callers.forget_session(claims.sid)

    async def change_password(self, who: Identity, current: str, new: str) -> None:
        if not who.is_staff:
            raise not_a_login("gateway.only_staff_have_passwords")
        username = _username(who)
        account = await self.store.staff_member(username)
        if account is None or not await asyncio.to_thread(
            verify_password, self.hasher, account["password_hash"], current
        ):
            raise Problem(
                400,
                "wrong-password",
                MESSAGES("gateway.wrong_password"),
                MESSAGES("gateway.wrong_password.detail"),
                field="current_password",
            )
        passwords.check(new, username, field="new_password")
        hashed = await asyncio.to_thread(self.hasher.hash, new)
        event = new_event(
            StaffAccountChanged(username=username, change="password_changed", logins_ended=True), producer=PRODUCER
        )
        await self.store.update_staff(username, {"password_hash": hashed}, [event], end_logins=True)
        self.callers.forget_account(username)


def _username(who: Identity) -> str:
    return who.sub.removeprefix(STAFF_PREFIX)
