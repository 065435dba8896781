"""Who is calling: partner keys and staff logins turned into the signed identity.

Lookups are cached for a few seconds so an authenticated request costs no store
round trip; a revocation made in this process takes effect at once, one made by
another replica within `CACHE_SECONDS`.
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
import time
import uuid
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from services.gateway import credentials
from services.gateway.store import DuplicateStaff, GatewayStore
from shared.http import ProblemError
from shared.identity import Identity
from shared.logging import get_logger
from shared.settings import Settings

log = get_logger(__name__)

ANONYMOUS = Identity(sub="anonymous")
CACHE_SECONDS = 5.0
TOUCH_EVERY_SECONDS = 60.0
ROLES = ("admin", "manager")


def unauthenticated(detail: str) -> ProblemError:
    return ProblemError(401, "unauthenticated", "Not authenticated", detail)


class LockedOut(ProblemError):
    def __init__(self, retry_after: float) -> None:
        super().__init__(
            423,
            "account-locked",
            "Account locked",
            "Too many failed logins; try again later or ask an administrator to unlock it",
            retry_after_seconds=int(retry_after) + 1,
        )


def _ended(session: dict[str, Any], now: float) -> bool:
    """A session ends when revoked; a refreshed one at the end of its short grace."""
    revoked = float(session.get("revoked_at") or 0)
    return revoked > 0 and revoked <= now


def _verify_password(hasher: PasswordHasher, stored: str, password: str) -> bool:
    try:
        return hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


class Authenticator:
    def __init__(self, store: GatewayStore, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.key_pepper = settings.derived_secret("gateway-api-key")
        self.token_key = settings.derived_secret("gateway-staff-token")
        self._keys: dict[str, tuple[dict[str, Any] | None, float]] = {}
        self._sessions: dict[str, tuple[bool, float]] = {}
        self._touched: dict[str, float] = {}
        self._identities: dict[str, Identity] = {}
        self._verified: dict[str, str] = {}
        self._tasks: set[asyncio.Task] = set()
        self.hasher = PasswordHasher(
            time_cost=settings.gateway_argon2_time_cost, memory_cost=settings.gateway_argon2_memory_kib
        )
        # Verified against when the username is unknown, so timing does not tell which usernames exist.
        self._dummy_hash = self.hasher.hash(secrets.token_urlsafe(16))

    # --- every request ------------------------------------------------------------

    async def identify(self, authorization: str | None, api_key: str | None) -> tuple[Identity, str | None]:
        """The caller's identity and credential label (for rate limits and traffic);
        anonymous without credentials; 401 for credentials that are not valid."""
        credential = credentials.bearer(authorization, api_key)
        if credential is None:
            return ANONYMOUS, None
        if credential.startswith(credentials.TOKEN_PREFIX):
            return await self._staff(credential)
        prefix = credentials.key_prefix(credential)
        if prefix is None:
            raise unauthenticated("The credential is neither an API key nor a staff token")
        return await self._partner(prefix, credential)

    async def _partner(self, prefix: str, key: str) -> tuple[Identity, str]:
        now = time.monotonic()
        cached = self._keys.get(prefix)
        if cached is None or now - cached[1] > CACHE_SECONDS:
            doc = await self.store.key(prefix)
            cached = (doc, now)
            self._keys[prefix] = cached
        doc = cached[0]
        if doc is None:
            raise unauthenticated("Unknown API key")
        known = self._verified.get(prefix)
        if known is None or not hmac.compare_digest(known, key):
            if not credentials.key_matches(key, doc["hash"], self.key_pepper):
                raise unauthenticated("Unknown API key")
            self._verified[prefix] = key  # already checked: the next requests compare, not hash
        if doc.get("revoked_at"):
            raise unauthenticated("This API key has been revoked")
        wall = time.time()
        if wall - self._touched.get(prefix, 0.0) >= TOUCH_EVERY_SECONDS:
            self._touched[prefix] = wall
            self._background(self.store.touch_key(prefix, wall))
        who = self._identities.get(prefix)
        if who is None or who.scopes != tuple(doc.get("scopes", ())):
            who = Identity(
                sub=f"key:{prefix}", scopes=tuple(doc.get("scopes", ())), organization_id=doc.get("organization_id")
            )
            self._identities[prefix] = who
        return who, f"key:{prefix}"

    async def _staff(self, token: str) -> tuple[Identity, str]:
        try:
            claims = credentials.verify_staff_token(token, self.token_key, time.time())
        except credentials.BadToken as exc:
            raise unauthenticated(f"Staff token refused: {exc}") from None
        now = time.monotonic()
        cached = self._sessions.get(claims.sid)
        if cached is None or now - cached[1] > CACHE_SECONDS:
            doc = await self.store.session(claims.sid)
            cached = (doc is not None and not _ended(doc, time.time()), now)
            self._sessions[claims.sid] = cached
        if not cached[0]:
            raise unauthenticated("This login has ended; log in again")
        who = Identity(sub=f"staff:{claims.username}", roles=(claims.role,), organization_id=claims.organization_id)
        return who, f"staff:{claims.username}"

    def _background(self, coro) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("gateway.key_touch_failed", error=type(task.exception()).__name__)

    async def close(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    # --- partner keys -------------------------------------------------------------

    async def create_key(self, name: str, scopes: list[str], organization_id: str | None, by: str) -> dict[str, Any]:
        key, prefix = credentials.new_api_key()
        doc = {
            "_id": prefix,
            "name": name,
            "scopes": sorted(set(scopes)),
            "organization_id": organization_id,
            "hash": credentials.hash_key(key, self.key_pepper),
            "created": time.time(),
            "created_by": by,
            "revoked_at": 0,
            "last_used_at": 0,
        }
        await self.store.add_key(doc)
        return {**doc, "key": key}

    async def revoke_key(self, prefix: str) -> dict[str, Any]:
        doc = await self.store.revoke_key(prefix, time.time())
        self._keys.pop(prefix, None)
        self._identities.pop(prefix, None)
        self._verified.pop(prefix, None)
        return doc

    # --- staff --------------------------------------------------------------------

    async def create_staff(
        self, username: str, password: str, role: str, organization_id: str | None, by: str
    ) -> dict[str, Any]:
        doc = {
            "_id": username,
            "role": role,
            "organization_id": organization_id,
            "password_hash": await asyncio.to_thread(self.hasher.hash, password),
            "created": time.time(),
            "created_by": by,
            "failed_logins": 0,
            "locked_until": 0,
            "disabled_at": 0,
            "last_login_at": 0,
        }
        await self.store.add_staff(doc)
        return {k: v for k, v in doc.items() if k != "password_hash"}

    async def login(self, username: str, password: str) -> dict[str, Any]:
        s = self.settings
        doc = await self.store.staff_member(username)
        wall = time.time()
        if doc is not None and float(doc.get("locked_until") or 0) > wall:
            raise LockedOut(float(doc["locked_until"]) - wall)
        ok = await asyncio.to_thread(
            _verify_password, self.hasher, doc["password_hash"] if doc else self._dummy_hash, password
        )
        if doc is None or not ok or doc.get("disabled_at"):
            if doc is not None and not doc.get("disabled_at"):
                await self.store.login_failed(username, s.gateway_lockout_attempts, s.gateway_lockout_seconds, wall)
            log.info("gateway.login_failed")
            raise unauthenticated("Wrong username or password")
        await self.store.login_succeeded(username, wall)
        return await self._open(doc, started=wall, now=wall)

    async def _open(self, doc: dict[str, Any], started: float, now: float) -> dict[str, Any]:
        """A new session and its token; it never outlives the login's absolute lifetime."""
        s = self.settings
        sid = uuid.uuid4().hex
        exp = min(now + s.gateway_token_ttl_seconds, started + s.gateway_session_max_seconds)
        username = doc["_id"]
        await self.store.open_session(sid, username, exp, started)
        claims = credentials.StaffClaims(username, doc["role"], doc.get("organization_id"), sid, exp)
        return {
            "access_token": credentials.sign_staff_token(claims, self.token_key),
            "token_type": "Bearer",
            "expires_in": max(0, round(exp - now)),
            "expires_at": exp,
            "user": {"username": username, "role": doc["role"], "organization_id": doc.get("organization_id")},
        }

    async def refresh(self, token: str) -> dict[str, Any]:
        """Rotate a live staff token: a new one (the account's current role), the old one ending after a short
        grace; refused once the login's absolute lifetime is reached or the account is disabled."""
        wall = time.time()
        try:
            claims = credentials.verify_staff_token(token, self.token_key, wall)
        except credentials.BadToken as exc:
            raise unauthenticated(f"Staff token refused: {exc}") from None
        session = await self.store.session(claims.sid)
        if session is None or _ended(session, wall):
            raise unauthenticated("This login has ended; log in again")
        started = float(session.get("started") or (claims.exp - self.settings.gateway_token_ttl_seconds))
        if wall >= started + self.settings.gateway_session_max_seconds - 1:
            raise unauthenticated("This login has reached its longest life; log in again")
        doc = await self.store.staff_member(claims.username)
        if doc is None or doc.get("disabled_at"):
            raise unauthenticated("This login has ended; log in again")
        grace = self.settings.gateway_refresh_grace_seconds
        if not await self.store.end_for_refresh(claims.sid, wall + grace):
            raise unauthenticated("This token was already refreshed; use the new one")
        self._sessions[claims.sid] = (grace > 0, time.monotonic())
        return await self._open(doc, started=started, now=wall)

    async def logout(self, token: str) -> None:
        claims = credentials.verify_staff_token(token, self.token_key, time.time())
        await self.store.revoke_session(claims.sid, time.time())
        self._sessions[claims.sid] = (False, time.monotonic())

    async def change_password(self, username: str, current: str, new: str) -> None:
        doc = await self.store.staff_member(username)
        if doc is None or not await asyncio.to_thread(_verify_password, self.hasher, doc["password_hash"], current):
            raise ProblemError(
                400, "wrong-password", "Wrong password", "The current password is not right", field="current_password"
            )
        await self.store.update_staff(username, {"password_hash": await asyncio.to_thread(self.hasher.hash, new)})
        for sid in await self.store.revoke_sessions_of(username, time.time()):
            self._sessions[sid] = (False, time.monotonic())

    async def disable_staff(self, username: str) -> dict[str, Any]:
        wall = time.time()
        doc = await self.store.update_staff(username, {"disabled_at": wall})
        for sid in await self.store.revoke_sessions_of(username, wall):
            self._sessions[sid] = (False, time.monotonic())
        return doc

    async def change_role(self, username: str, role: str, organization_id: str | None) -> dict[str, Any]:
        # Tokens carry the role: the account's logins end so the new role applies from the next one.
        return await self._change_and_end_logins(username, {"role": role, "organization_id": organization_id})

    async def reset_password(self, username: str, password: str) -> dict[str, Any]:
        hashed = await asyncio.to_thread(self.hasher.hash, password)
        return await self._change_and_end_logins(
            username, {"password_hash": hashed, "locked_until": 0, "failed_logins": 0}
        )

    async def enable_staff(self, username: str) -> dict[str, Any]:
        return await self.store.update_staff(username, {"disabled_at": 0, "locked_until": 0, "failed_logins": 0})

    async def _change_and_end_logins(self, username: str, changes: dict[str, Any]) -> dict[str, Any]:
        doc = await self.store.update_staff(username, changes)
        for sid in await self.store.revoke_sessions_of(username, time.time()):
            self._sessions[sid] = (False, time.monotonic())
        return doc

    async def unlock_staff(self, username: str) -> dict[str, Any]:
        return await self.store.update_staff(username, {"locked_until": 0, "failed_logins": 0})

    async def bootstrap(self) -> str | None:
        """Create the first admin when no staff account exists; the generated password
        (None when it came from the environment)."""
        if await self.store.staff_count() > 0:
            return None
        given = self.settings.lienhiep_bootstrap_admin_password
        password = given or secrets.token_urlsafe(12)
        try:
            await self.create_staff("admin", password, "admin", None, by="bootstrap")
        except DuplicateStaff:  # another replica created it first
            return None
        return None if given else password
