"""SMS text: which alphabet a text needs and how many segments it costs.

GSM-7 carries 160 characters in one segment and 153 in each part of a longer
message (the rest is the concatenation header); characters of the extension table
(`{ } [ ] ~ \\ | ^ €`) take two. Anything outside GSM-7 (Vietnamese diacritics)
forces UCS-2: 70 characters in one segment, 67 per part, characters outside the
Basic Multilingual Plane taking two. By default we send Vietnamese without
diacritics, which is how most Vietnamese SMS are written and costs a third.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Literal

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")
Encoding = Literal["gsm7", "ucs2"]

# NFD splits most Vietnamese letters into a base letter and marks; đ/Đ are letters
# of their own and must be mapped explicitly.
_EXPLICIT = str.maketrans(
    {
        "đ": "d",
        "Đ": "D",
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2026": "...",
        "\u00a0": " ",
    }
)


@dataclass(frozen=True)
class SmsSize:
    encoding: Encoding
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int


def strip_diacritics(text: str) -> str:
    """Vietnamese text without tone and vowel marks: "Đỗ Quang Huy" → "Do Quang Huy"."""
    decomposed = unicodedata.normalize("NFD", text.translate(_EXPLICIT))
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


def is_gsm7(text: str) -> bool:
    return all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text)


def measure(text: str) -> SmsSize:
    """Encoding, length in encoding units, and number of segments of `text`."""
    if is_gsm7(text):
        units = sum(2 if c in GSM7_EXTENSION else 1 for c in text)
        single, part = 160, 153
        encoding: Encoding = "gsm7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, part = 70, 67
        encoding = "ucs2"
    if units <= single:
        return SmsSize(encoding, units, 1 if units else 0)
    return SmsSize(encoding, units, -(-units // part))


def prepare(text: str, *, unicode: bool) -> str:
    """The text as it will be sent: whitespace tidied, diacritics removed unless `unicode`."""
    tidy = " ".join(text.split())
    return tidy if unicode else strip_diacritics(tidy)
