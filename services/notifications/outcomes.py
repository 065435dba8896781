"""What happened to a delivery, as the update that records it: the pure side of the
dispatcher (no I/O). Each function returns a MongoDB update for the claimed delivery.

- skipped: erased (no address or message any more) or suppressed;
- held: waits without being a failure (quiet hours, the daily allowance, no provider);
- retry_later: a transient failure, retried after a growing delay, then dead-lettered;
- unknown: handed over but the answer was lost (email after DATA), resent only after
  NOTIFY_UNKNOWN_OUTCOME_SECONDS, with the same Message-ID;
- fall_back_to_sms: Zalo refused a ZNS message; the delivery becomes its SMS.
"""

from __future__ import annotations

from typing import Any

from services.notifications.records import DeliveryDoc
from services.notifications.rules import retry_delay
from shared.clock import epoch
from shared.logging import get_logger
from shared.settings import Settings

log = get_logger(__name__)


def skip_reason(d: DeliveryDoc, suppressed: set[str]) -> str | None:
    if not d.get("to") or "content" not in d:
        return "erased"
    return "suppressed" if d["to"].lower() in suppressed else None


def held(done: dict[str, Any], why: str, error: str, due: float, *, count_attempt: bool) -> dict[str, Any]:
    update: dict[str, Any] = {
        "$set": {**done, "status": "queued", "held": why, "last_error": error, "due": due},
        "$unset": {"claim": ""},
    }
    if not count_attempt:
        update["$inc"] = {"attempts": -1}
    return update


def retry_later(
    d: DeliveryDoc, error: str, done: dict[str, Any], max_attempts: int, delays: list[float]
) -> dict[str, Any]:
    attempts = int(d.get("attempts") or 1)
    if attempts >= max_attempts:
        log.error("dispatch.dead_lettered", delivery_key=d["_id"], attempts=attempts, error=error)
        return {"$set": {**done, "status": "dead", "last_error": error}, "$unset": {"claim": ""}}
    delay = retry_delay(attempts, delays)
    log.warning("dispatch.deferred", delivery_key=d["_id"], attempts=attempts, retry_in=delay, error=error)
    return {
        "$set": {**done, "status": "queued", "last_error": error, "due": epoch(plus_seconds=delay)},
        "$unset": {"claim": ""},
    }


def unknown(
    d: DeliveryDoc, error: str, done: dict[str, Any], settings: Settings, delays: list[float]
) -> dict[str, Any]:
    """Handed over, answer lost: perhaps delivered. Sent again (same Message-ID) only
    after a long wait; dead-lettered after the attempts run out."""
    if int(d.get("attempts") or 1) >= settings.notify_max_attempts:
        return retry_later(d, error, done, settings.notify_max_attempts, delays)
    log.warning("dispatch.outcome_unknown", delivery_key=d["_id"], channel=d["channel"], error=error)
    due = epoch(plus_seconds=settings.notify_unknown_outcome_seconds)
    return held(done, "unknown-outcome", error, due, count_attempt=True)


def fall_back_to_sms(d: DeliveryDoc, reason: str, done: dict[str, Any]) -> dict[str, Any]:
    """Zalo refused (or kept failing): the same delivery becomes the SMS it carries,
    due now; ZNS is never tried again for it, so exactly one of the two is sent."""
    log.info("dispatch.zns_fallback", delivery_key=d["_id"], reason=reason)
    return {
        "$set": {
            **done,
            **(d.get("fallback") or {}),
            "channel": "sms",
            "status": "queued",
            "due": epoch(),
            "attempts": 0,
            "zns_refused": reason[:300],
        },
        "$unset": {"claim": "", "fallback": "", "lease_until": ""},
    }
