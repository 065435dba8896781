"""Which passwords staff may choose (NIST SP 800-63B: length and a block list, no
composition rules), as pure functions raising `Invalid` on the field at fault.

A password is refused when it is shorter than 12 characters, when it is the username
(case, diacritics, and digits or symbols around it ignored), or when it is one of the
10,000 most common passwords (`data/common-passwords.txt`, shipped with the code),
compared folded: lower case, without diacritics, and also without the digits and
symbols people pad a common word with (`Password1234!` is `password`).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from services.gateway.catalogue import MESSAGES
from shared.errors import FieldError, Invalid
from shared.text import fold

MIN_LENGTH = 12
COMMON = Path(__file__).with_name("data") / "common-passwords.txt"
_PADDING = re.compile(r"^[\W\d_]+|[\W\d_]+$")


@cache
def common_passwords() -> frozenset[str]:
    """The shipped block list (read once; it is part of the code, not data that changes)."""
    lines = COMMON.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("# "))


def problems(password: str, username: str | None) -> list[tuple[str, dict[str, int]]]:
    """(code, parameters) of each rule `password` breaks; empty when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return [("password_too_short", {"min_length": MIN_LENGTH})]
    folded = fold(password).replace(" ", "")
    core = _PADDING.sub("", folded)
    found: list[tuple[str, dict[str, int]]] = []
    if username and _is_username(folded, core, fold(username).replace(" ", "")):
        found.append(("password_is_username", {}))
    common = common_passwords()
    if folded in common or (len(core) >= 4 and core in common) or _repeats_common(core or folded, common):
        found.append(("password_too_common", {}))
    return found


def check(password: str, username: str | None, field: str = "password") -> None:
    """Refuse (422 on `field`, in the reader's language) a password the rules do not allow."""
    found = problems(password, username)
    if found:
        raise Invalid(*(FieldError(field, MESSAGES(f"field.{code}", **params), code) for code, params in found))


def _is_username(folded: str, core: str, username: str) -> bool:
    bare = _PADDING.sub("", username)
    return folded == username or core == username or (bool(bare) and core == bare)


def _repeats_common(core: str, common: frozenset[str]) -> bool:
    """`passwordpassword`, `abcabcabcabc`: a short or common unit said again and again."""
    for size in range(1, len(core) // 2 + 1):
        if len(core) % size == 0 and core[:size] * (len(core) // size) == core:
            unit = core[:size]
            return len(unit) <= 4 or unit in common
    return False
