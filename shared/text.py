"""Vietnamese text as staff expect it, and the phone numbers people write.

Pure functions, no I/O:
- `fold`: lower-case without diacritics (đ → d), the key search compares, because
  the embedded store honours no collation; `word_prefixes` for indexed search;
- `name_sort_key`: the order of names in a Vietnamese list (given name first);
- `normalise_name`, `normalise_phone` (E.164, with the pre-2018 eleven-digit
  mobile numbers mapped to their successors), so a guest and a member with the
  same number written two ways are the same person everywhere.
"""

from __future__ import annotations

import re
import unicodedata

import phonenumbers

# The Vietnamese alphabet, with the letters foreign names bring (f j w z) where
# dictionaries put them. Digits sort before letters.
ALPHABET = "0123456789aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
# One printable ASCII character per letter, in order, so stored keys compare
# byte-wise on any store.
_CODES = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_RANK = {letter: _CODES[i] for i, letter in enumerate(ALPHABET)}
# Tones in dictionary order: level, grave (huyền), hook (hỏi), tilde (ngã), acute (sắc), dot (nặng).
_TONES = {"\u0300": "1", "\u0309": "2", "\u0303": "3", "\u0301": "4", "\u0323": "5"}
# Marks that make a different letter (ă â ê ô ơ ư), not a tone.
_LETTER_MARKS = {
    ("a", "\u0306"): "ă",
    ("a", "\u0302"): "â",
    ("e", "\u0302"): "ê",
    ("o", "\u0302"): "ô",
    ("o", "\u031b"): "ơ",
    ("u", "\u031b"): "ư",
}
_END, _GROUP, _WORD = " ", "!", "#"  # all below every letter code


def fold(text: str) -> str:
    """Lower-case, strip Vietnamese diacritics (đ → d), single spaces: the key search compares."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return " ".join("".join(c for c in decomposed if unicodedata.category(c) != "Mn").lower().split())


def search_pattern(query: str) -> str:
    """A regular expression over folded names: the query's words, in order, each
    word boundary respected at the start (`van a` finds `nguyen van an`)."""
    return r"(^| )" + re.escape(fold(query))


def _word_key(word: str) -> tuple[str, str]:
    """(letters, tone) of one word: letters in alphabet order, tone as a digit."""
    letters: list[str] = []
    tone = "0"
    for ch in unicodedata.normalize("NFD", word.lower()):
        if ch in _TONES:
            tone = _TONES[ch]
        elif unicodedata.category(ch) == "Mn":
            if letters:
                letters[-1] = _LETTER_MARKS.get((letters[-1], ch), letters[-1])
        else:
            letters.append(ch)
    return "".join(_RANK.get(c, "z") for c in letters if c.isalnum()), tone


def name_sort_key(full_name: str) -> str:
    """The key that orders names the Vietnamese way: by given name (the last word),
    then the middle names, then the surname (the first word); letters in the
    Vietnamese alphabet (a ă â b c d đ e ê …), then tones (level, huyền, hỏi,
    ngã, sắc, nặng) to break ties.

    >>> sorted(["Trần Văn Bình", "Nguyễn Thị An"], key=name_sort_key)
    ['Nguyễn Thị An', 'Trần Văn Bình']
    """
    words = unicodedata.normalize("NFC", full_name).split()
    if not words:
        return _END
    keys = [_word_key(w) for w in words]
    given, surname, middle = keys[-1], keys[0] if len(keys) > 1 else ("", "0"), keys[1:-1]
    ordered = [given, *middle, surname]
    letters = _GROUP.join([given[0], _WORD.join(k[0] for k in middle), surname[0]])
    tones = "".join(k[1] for k in ordered)
    return f"{letters}{_END}{tones}"


def normalise_name(raw: str) -> str:
    """Trim and collapse inner white space; keep diacritics in NFC form."""
    return " ".join(unicodedata.normalize("NFC", raw).split())


def word_prefixes(text: str, longest: int = 12) -> list[str]:
    """Every prefix (up to `longest` letters) of every folded word of `text`: stored
    beside a name so a search for word beginnings ("ng van a") uses an index."""
    out: set[str] = set()
    for word in fold(text).split():
        for end in range(1, min(len(word), longest) + 1):
            out.add(word[:end])
    return sorted(out)


def query_words(query: str, longest: int = 12) -> list[str]:
    """The folded words of a search, each cut to what `word_prefixes` stores."""
    return [w[:longest] for w in fold(query).split()]


# --- phone numbers ------------------------------------------------------------------

# Pre-2018 eleven-digit mobile prefixes and the ten-digit ones that replaced them
# (Ministry of Information and Communications, conversion of 2018).
LEGACY_MOBILE_PREFIXES = {
    "162": "32",
    "163": "33",
    "164": "34",
    "165": "35",
    "166": "36",
    "167": "37",
    "168": "38",
    "169": "39",
    "120": "70",
    "121": "79",
    "122": "77",
    "126": "76",
    "128": "78",
    "123": "83",
    "124": "84",
    "125": "85",
    "127": "81",
    "129": "82",
    "186": "56",
    "188": "58",
    "199": "59",
}


class InvalidPhone(ValueError):
    pass


def normalise_phone(raw: str, region: str = "VN") -> str:
    """A phone number in E.164 (+84…), from the ways people write it."""
    cleaned = re.sub(r"[\s.()/-]", "", raw)
    if cleaned.startswith("00"):
        cleaned = "+" + cleaned[2:]
    if cleaned.startswith("84") and len(cleaned) >= 11:
        cleaned = "+" + cleaned
    national = None
    if cleaned.startswith("+84"):
        national = cleaned[3:]
    elif cleaned.startswith("0"):
        national = cleaned[1:]
    if national is not None and len(national) == 10 and national[:3] in LEGACY_MOBILE_PREFIXES:
        cleaned = "+84" + LEGACY_MOBILE_PREFIXES[national[:3]] + national[3:]
    if len(cleaned) > 32 or any(ord(c) < 32 for c in cleaned):
        raise InvalidPhone("not a phone number")
    try:
        number = phonenumbers.parse(cleaned, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(f"not a phone number: {exc}") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone("not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def zalo_phone(e164: str) -> str:
    """The 84xxxxxxxxx form Zalo's notification service expects."""
    return e164.lstrip("+")
