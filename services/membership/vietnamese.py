"""Vietnamese text as staff expect it: search that ignores case and diacritics, and
the order of names in a Vietnamese list.

Pure functions, no I/O. The store keeps what they compute (folded keys, sort keys)
because the embedded store honours no collation.
"""

from __future__ import annotations

import re
import unicodedata

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
