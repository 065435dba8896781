"""What the gateway accepts as input, as pure functions raising shared errors (so
every answer is problem+json in the reader's language, with its field errors capped).

- query keys shaped like operators (`$`, `[`, `]`, `{`, `}`, `.`) are refused, and
  so is any query on an endpoint that declares none;
- a JSON body must be valid JSON (400, however it is broken: bad bytes, numbers of
  thousands of digits, nesting too deep for the parser), at most `MAX_DEPTH` levels
  deep (400), without operator keys anywhere (422), and match the declared model (422).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from services.gateway.catalogue import MESSAGES
from shared.errors import MAX_FIELD_ERRORS, DomainError, FieldError, Invalid, Problem, validation_error
from shared.errors import MESSAGES as SHARED

MAX_DEPTH = 64
OPERATOR_CHARACTERS = "$[]{}."
M = TypeVar("M", bound=BaseModel)


def malformed_json() -> DomainError:
    return Problem(400, "malformed-json", SHARED("problem.malformed_json"), SHARED("problem.malformed_json.detail"))


def check_query(keys: Iterable[str], declared: bool) -> None:
    """Refuse operator-shaped keys, and any key when the endpoint takes no query."""
    names = list(dict.fromkeys(keys))
    bad = [k for k in names if any(c in k for c in OPERATOR_CHARACTERS)]
    if bad:
        raise Invalid(*(FieldError(k, SHARED("field.unknown_parameter"), "operator_refused", "query") for k in bad))
    if names and not declared:
        raise Invalid(*(FieldError(k, SHARED("field.extra_forbidden"), "extra_forbidden", "query") for k in names))


def parse_body(raw: bytes, model: type[M]) -> M:
    """`raw` as a valid instance of `model`, or the problem that says why not."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):  # JSONDecodeError, bad UTF-8, digit limits are ValueErrors
        raise malformed_json() from None
    operators = check_shape(data)
    if operators:
        raise Invalid(*(FieldError(f, SHARED("field.operator"), "operator_refused") for f in operators))
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc) from None
    except RecursionError:
        raise malformed_json() from None


def check_shape(data: Any) -> list[str]:
    """Walk the document once, without recursion: refuse it when it is nested more than
    `MAX_DEPTH` levels deep; return the paths of its operator keys (the first few)."""
    operators: list[str] = []
    stack: list[tuple[Any, str, int]] = [(data, "", 1)]
    while stack:
        value, at, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise Problem(
                400,
                "malformed-json",
                SHARED("problem.malformed_json"),
                MESSAGES("gateway.json_too_deep", depth=MAX_DEPTH),
            )
        if isinstance(value, dict):
            for key, inner in value.items():
                here = (f"{at}.{key}" if at else str(key))[:300]  # answers echo at most this much
                if str(key).startswith("$") and len(operators) <= MAX_FIELD_ERRORS:
                    operators.append(here)
                stack.append((inner, here, depth + 1))
        elif isinstance(value, list):
            stack.extend((inner, f"{at}.{i}" if at else str(i), depth + 1) for i, inner in enumerate(value))
    return sorted(operators)
