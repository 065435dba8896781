"""structlog JSON logging with service, request and correlation ids, and masking.

Personal data and secrets must never reach a log line. `mask_sensitive` runs last
before rendering and scrubs every value in the event, however deeply nested:
values under sensitive keys are replaced whole; email addresses and phone numbers
inside any string are replaced where they stand.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

import structlog

SENSITIVE_KEY = re.compile(r"pass(word)?|secret|token|api[_-]?key|authorization|cookie|credential|^key$|_key$", re.I)
EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")
# Vietnamese and international phone numbers in the ways people write them:
# +84 912 345 678, 0912.345.678, 84912345678. Dates and ids do not start this way.
PHONE = re.compile(r"(?<![\w+])(?:\+\d{1,3}|0|84)(?:[ .-]?\d){8,11}(?!\d)")
MASK = "***"


def _mask_value(value: Any, depth: int = 0) -> Any:
    if depth > 8:
        return MASK
    if isinstance(value, str):
        return PHONE.sub("<phone>", EMAIL.sub("<email>", value))
    if isinstance(value, dict):
        return {k: (MASK if SENSITIVE_KEY.search(str(k)) else _mask_value(v, depth + 1)) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_mask_value(v, depth + 1) for v in value]
    return value


def mask_sensitive(_logger: Any, _method: str, event_dict: dict) -> dict:
    """structlog processor: scrub secrets, email addresses and phone numbers."""
    return _mask_value(event_dict)


def configure_logging(service: str, level: str = "INFO") -> None:
    """Configure structlog (and stdlib logging) to print one JSON object per line."""
    level_no = logging.getLevelName(level.upper()) if isinstance(level, str) else level
    if not isinstance(level_no, int):
        level_no = logging.INFO
    shared_processors: list = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_service(service),
        structlog.processors.format_exc_info,
        mask_sensitive,
    ]
    structlog.configure(
        processors=[*shared_processors, structlog.processors.JSONRenderer(ensure_ascii=False)],
        wrapper_class=structlog.make_filtering_bound_logger(level_no),
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        cache_logger_on_first_use=True,
    )
    # Libraries (aiohttp, aio-pika, pymongo) log through stdlib: render them the same way.
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.JSONRenderer(ensure_ascii=False),
            ],
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared_processors],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(max(level_no, logging.INFO))
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)  # our middleware logs requests


def _add_service(service: str):
    def processor(_logger: Any, _method: str, event_dict: dict) -> dict:
        event_dict.setdefault("service", service)
        return event_dict

    return processor


def get_logger(name: str | None = None) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)


def bind_context(request_id: str | None = None, correlation_id: str | None = None) -> None:
    """Bind ids to every log line of the current task."""
    structlog.contextvars.bind_contextvars(
        **{k: v for k, v in {"request_id": request_id, "correlation_id": correlation_id}.items() if v}
    )


def clear_context() -> None:
    structlog.contextvars.clear_contextvars()
