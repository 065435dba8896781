"""The console's sign-in, held in cookies the page's scripts cannot read.

- `lh_session`: the staff token the gateway issued, with its expiry and who it is
  (for menus only: the API decides what is allowed), signed so it is never
  half-edited; httpOnly, SameSite=Strict, Secure when the console is reached over TLS.
- `lh_csrf`: a random seed; every form carries HMAC(seed) and every POST is checked
  against it. Stateless, so any number of gateway replicas serve the same person.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import asdict, dataclass

from aiohttp import web

SESSION_COOKIE = "lh_session"
CSRF_COOKIE = "lh_csrf"
LANG_COOKIE = "lh_lang"
FLASH_COOKIE = "lh_flash"
PATH = "/console"
NEW_CSRF_SEED = web.RequestKey("console_new_csrf_seed", str)


@dataclass
class Session:
    token: str
    expires_at: float
    ttl: int
    username: str
    role: str
    organization_id: str | None = None

    @property
    def admin(self) -> bool:
        return self.role == "admin"

    def needs_refresh(self, now: float) -> bool:
        return now < self.expires_at and self.expires_at - now < self.ttl / 2


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Cookies:
    def __init__(self, key: bytes) -> None:
        self.key = key

    def _mac(self, data: bytes) -> str:
        return _b64(hmac.new(self.key, data, hashlib.sha256).digest())

    # --- the sign-in ------------------------------------------------------------------

    def read_session(self, request: web.Request) -> Session | None:
        raw = request.cookies.get(SESSION_COOKIE, "")
        payload, _, mac = raw.partition(".")
        try:
            data = _unb64(payload)
            if not mac or not hmac.compare_digest(self._mac(data), mac):
                return None
            return Session(**json.loads(data))
        except (ValueError, TypeError):
            return None

    def write_session(self, request: web.Request, response: web.StreamResponse, session: Session) -> None:
        data = json.dumps(asdict(session), separators=(",", ":")).encode()
        _set(request, response, SESSION_COOKIE, f"{_b64(data)}.{self._mac(data)}")

    def clear_session(self, response: web.StreamResponse) -> None:
        response.del_cookie(SESSION_COOKIE, path=PATH)

    # --- forms ---------------------------------------------------------------------------

    def csrf_seed(self, request: web.Request, response: web.StreamResponse | None = None) -> str:
        seed = request.cookies.get(CSRF_COOKIE, "")
        if len(seed) < 20:
            seed = request.get(NEW_CSRF_SEED) or secrets.token_urlsafe(24)
            request[NEW_CSRF_SEED] = seed
        return seed

    def csrf_token(self, seed: str) -> str:
        return self._mac(b"csrf:" + seed.encode())

    def csrf_ok(self, request: web.Request, sent: str) -> bool:
        seed = request.cookies.get(CSRF_COOKIE, "")
        return bool(seed) and bool(sent) and hmac.compare_digest(self.csrf_token(seed), sent)


def _set(request: web.Request, response: web.StreamResponse, name: str, value: str, max_age: int | None = None) -> None:
    response.set_cookie(
        name, value, path=PATH, httponly=True, samesite="Strict", secure=secure(request), max_age=max_age
    )


def set_plain(
    request: web.Request, response: web.StreamResponse, name: str, value: str, max_age: int | None = None
) -> None:
    _set(request, response, name, value, max_age)


def secure(request: web.Request) -> bool:
    """TLS between the browser and us, directly or at a proxy that says so."""
    return request.secure or request.headers.get("X-Forwarded-Proto", "").lower() == "https"
