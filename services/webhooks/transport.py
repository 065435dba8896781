"""The HTTP client that delivers webhooks, safe against server-side request forgery.

- Every try resolves the host again and checks every address it resolves to
  (addresses.py); the connection goes to an address that was checked (the check runs
  inside the client's resolver, so nothing resolves the name a second time), with
  the URL's host kept for the `Host` header and TLS SNI and certificate check.
- An address literal in the URL is checked before anything is sent.
- No connection is reused (each delivery checks afresh), no redirect is followed,
  no proxy from the environment is used, no cookie is kept.
- At most the first KiB of an answer is read; the try is bounded by a timeout.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from services.webhooks.addresses import AddressPolicy, AddressRefused
from services.webhooks.schedule import outcome_of, retry_after_seconds

EXCERPT_BYTES = 1024
USER_AGENT = "LienHiep-Webhooks/1.0"


@dataclass(frozen=True)
class Answer:
    """How one try went."""

    outcome: str  # delivered | gone | failed | refused | timeout | unreachable
    status_code: int | None = None
    latency_ms: float | None = None
    excerpt: str | None = None
    error: str | None = None
    retry_after: float | None = None


class _Refused(OSError):
    """Raised in the resolver; the client library reports it as a DNS failure."""

    def __init__(self, refused: AddressRefused) -> None:
        super().__init__(str(refused))
        self.refused = refused


class CheckedResolver(AbstractResolver):
    """Resolves like the default resolver, then refuses unless every address may be reached."""

    def __init__(self, policy: AddressPolicy) -> None:
        self.policy = policy
        self._inner = DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        try:
            for entry in found:
                self.policy.check_address(host, entry["host"])
        except AddressRefused as exc:
            raise _Refused(exc) from None
        return found

    async def close(self) -> None:
        await self._inner.close()


class Transport:
    """One client for every delivery of this process."""

    def __init__(self, policy: AddressPolicy, timeout_seconds: float, connections: int) -> None:
        self.policy = policy
        self.timeout = aiohttp.ClientTimeout(total=timeout_seconds, connect=min(timeout_seconds, 10.0))
        self.connections = connections
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Transport:
        connector = aiohttp.TCPConnector(
            resolver=CheckedResolver(self.policy), use_dns_cache=False, force_close=True, limit=self.connections
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=self.timeout,
            cookie_jar=aiohttp.DummyCookieJar(),
            trust_env=False,
            auto_decompress=False,
            skip_auto_headers=("Accept-Encoding",),
        )
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        if self._session is not None:
            await self._session.close()

    async def post(self, url: str, headers: dict[str, str], body: bytes) -> Answer:
        assert self._session is not None, "use the transport inside `async with`"
        started = time.perf_counter()
        try:
            self.policy.check_url(url)
            async with self._session.post(
                url,
                data=body,
                headers={**headers, "Content-Type": "application/json", "User-Agent": USER_AGENT},
                allow_redirects=False,
            ) as resp:
                excerpt = await _first_bytes(resp)
                return Answer(
                    outcome_of(resp.status),
                    resp.status,
                    _ms(started),
                    excerpt.decode("utf-8", errors="replace"),
                    retry_after=retry_after_seconds(resp.status, resp.headers.get("Retry-After")),
                )
        except AddressRefused as exc:
            return Answer("refused", latency_ms=_ms(started), error=f"address refused ({exc.reason})")
        except aiohttp.ClientConnectorDNSError as exc:
            cause = exc.__cause__
            if isinstance(cause, _Refused):
                return Answer("refused", latency_ms=_ms(started), error=f"address refused ({cause.refused.reason})")
            return Answer("unreachable", latency_ms=_ms(started), error="host name not resolved")
        except TimeoutError:
            return Answer("timeout", latency_ms=_ms(started), error="no answer within the timeout")
        except aiohttp.InvalidURL:
            return Answer("refused", latency_ms=_ms(started), error="address refused (malformed)")
        except aiohttp.ClientConnectorError:
            return Answer("unreachable", latency_ms=_ms(started), error="connection failed")
        except (aiohttp.ClientError, OSError) as exc:
            return Answer("unreachable", latency_ms=_ms(started), error=f"connection broken ({type(exc).__name__})")


async def _first_bytes(resp: aiohttp.ClientResponse) -> bytes:
    """At most the first KiB of the answer (the rest is never read: the connection closes)."""
    taken = b""
    while len(taken) < EXCERPT_BYTES:
        chunk = await resp.content.read(EXCERPT_BYTES - len(taken))
        if not chunk:
            break
        taken += chunk
    return taken


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
