"""Who is calling: a partner key or a staff token turned into the identity the gateway
signs for the services, on every request.

What the store says about a key, a login and a staff account is kept in memory, so
an authenticated request costs no store round trip. Every gateway replica forgets
an entry the moment it hears `credential.revoked` or `staff_account.changed` on the
bus (handlers.py), so a revoked key, an ended login, a disabled or demoted account
stop working everywhere within a second. An entry is also re-read after
`CACHE_SECONDS` in case an event was missed, and after one second while the bus is
disconnected (events may be passing by unheard).

A staff token is checked against the stored account on every use: its role and
organisation must be the account's, the account enabled, and its login begun in
the account's current generation (bumped to end every login at once). So a token
re-signed with a higher role, or a stale one, is refused.
"""

from __future__ import annotations

import asyncio
import hmac
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from services.gateway import credentials
from services.gateway.catalogue import MESSAGES
from services.gateway.store import ApiKeyDoc, GatewayStore, SessionDoc, StaffDoc
from shared.clock import now_utc
from shared.errors import Unauthenticated
from shared.identity import Identity
from shared.logging import get_logger
from shared.settings import Settings

log = get_logger(__name__)

ANONYMOUS = Identity(sub="anonymous")
CACHE_SECONDS = 30.0
UNHEARD_SECONDS = 1.0  # how long an entry is trusted while the bus is disconnected
TOUCH_EVERY_SECONDS = 60.0
T = TypeVar("T")


def unauthenticated(key: str) -> Unauthenticated:
    return Unauthenticated(MESSAGES(key))


@dataclass
class _Entry(Generic[T]):
    value: T | None
    read_at: float


class Memory(Generic[T]):
    """Store lookups kept until forgotten (an event) or stale (a missed event)."""

    def __init__(self, fresh_for: Callable[[], float]) -> None:
        self._entries: dict[str, _Entry[T]] = {}
        self._fresh_for = fresh_for

    async def get(self, key: str, load: Callable[[str], Awaitable[T | None]]) -> T | None:
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry is None or now - entry.read_at > self._fresh_for():
            if len(self._entries) > 50_000:
                self._entries.clear()
            entry = _Entry(await load(key), now)
            self._entries[key] = entry
        return entry.value

    def forget(self, key: str) -> None:
        self._entries.pop(key, None)

    def forget_all(self) -> None:
        self._entries.clear()


class Callers:
    def __init__(self, store: GatewayStore, settings: Settings, bus_connected: Callable[[], bool]) -> None:
        self.store = store
        self.pepper = settings.derived_secret("gateway-api-key")
        self.signer = settings.signer(credentials.STAFF_TOKEN_PURPOSE)
        self._bus_connected = bus_connected
        self.keys: Memory[ApiKeyDoc] = Memory(self._fresh_for)
        self.sessions: Memory[SessionDoc] = Memory(self._fresh_for)
        self.accounts: Memory[StaffDoc] = Memory(self._fresh_for)
        self._verified: dict[str, str] = {}  # prefix → the key already checked against its hash
        self._identities: dict[str, Identity] = {}
        self._touched: dict[str, float] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def _fresh_for(self) -> float:
        return CACHE_SECONDS if self._bus_connected() else UNHEARD_SECONDS

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
            raise unauthenticated("gateway.not_a_credential")
        return await self._partner(prefix, credential)

    async def _partner(self, prefix: str, key: str) -> tuple[Identity, str]:
        doc = await self.keys.get(prefix, self.store.key)
        if doc is None:
            raise unauthenticated("gateway.unknown_key")
        known = self._verified.get(prefix)
        if known is None or not hmac.compare_digest(known, key):
            if not credentials.key_matches(key, doc["hash"], self.pepper):
                raise unauthenticated("gateway.unknown_key")
            self._verified[prefix] = key  # already checked: the next requests compare, not hash
        if doc.get("revoked_at"):
            raise unauthenticated("gateway.key_revoked")
        self._touch(prefix)
        scopes = tuple(doc.get("scopes", ()))
        who = self._identities.get(prefix)
        if who is None or who.scopes != scopes:
            who = Identity(sub=f"key:{prefix}", scopes=scopes, organization_id=doc.get("organization_id"))
            self._identities[prefix] = who
        return who, f"key:{prefix}"

    async def _staff(self, token: str) -> tuple[Identity, str]:
        claims = self.claims(token)
        session = await self.sessions.get(claims.sid, self.store.session)
        account = await self.accounts.get(claims.username, self.store.staff_member)
        if not login_lasts(claims, session, account, time.time()):
            raise unauthenticated("gateway.login_ended")
        who = Identity(sub=f"staff:{claims.username}", roles=(claims.role,), organization_id=claims.organization_id)
        return who, f"staff:{claims.username}"

    def claims(self, token: str) -> credentials.StaffClaims:
        try:
            return credentials.verify_staff_token(token, self.signer, time.time())
        except credentials.BadToken as exc:
            log.info("gateway.token_refused", reason=str(exc))
            raise unauthenticated("gateway.token_refused") from None

    def _touch(self, prefix: str) -> None:
        wall = time.time()
        if wall - self._touched.get(prefix, 0.0) >= TOUCH_EVERY_SECONDS:
            self._touched[prefix] = wall
            self._background(self.store.touch_key(prefix, now_utc()))

    # --- what the bus says ------------------------------------------------------------

    def forget_key(self, prefix: str) -> None:
        self.keys.forget(prefix)
        self._verified.pop(prefix, None)
        self._identities.pop(prefix, None)

    def forget_session(self, sid: str) -> None:
        self.sessions.forget(sid)

    def forget_account(self, username: str) -> None:
        self.accounts.forget(username)

    def forget_everything(self) -> None:
        """After a reconnect: events may have passed unheard."""
        self.keys.forget_all()
        self.sessions.forget_all()
        self.accounts.forget_all()
        self._verified.clear()
        self._identities.clear()

    # --- background writes ---------------------------------------------------------------

    def _background(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("gateway.key_touch_failed", error=type(task.exception()).__name__)

    async def close(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


def login_lasts(
    claims: credentials.StaffClaims, session: SessionDoc | None, account: StaffDoc | None, now: float
) -> bool:
    """Is this staff token's login still good: its session live (a refreshed one until its
    short grace ends), its account enabled, of the same generation, role and organisation
    as the token says?"""
    if session is None or account is None:
        return False
    revoked = float(session.get("revoked_at") or 0)
    if revoked and revoked <= now:
        return False
    if session.get("username") != claims.username or account.get("disabled_at"):
        return False
    if int(session.get("generation") or 0) != int(account.get("logins_generation") or 0):
        return False
    return account.get("role") == claims.role and account.get("organization_id") == claims.organization_id
