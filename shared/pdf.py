"""Printing Vietnamese into PDFs: one way to find a Unicode TrueType font.

fpdf2's built-in fonts are Latin-1 only, so every PDF with Vietnamese (certificates,
award decisions) embeds a real Unicode font. Debian's `fonts-dejavu-core` is what CI
and the image install; other distributions keep DejaVu elsewhere. Without any such
font the PDF cannot be printed: that is a 503 naming the setting, not a 500.
"""

from __future__ import annotations

import os

from shared.errors import Unavailable
from shared.i18n import Catalogue

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",  # Debian/Ubuntu fonts-dejavu-core
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",  # Fedora, Alpine
    "/usr/share/fonts/TTF/DejaVuSans.ttf",  # Arch
    "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
)
MESSAGES = Catalogue(
    {
        "pdf.font_missing.title": {
            "vi": "Máy chủ chưa in được tài liệu PDF",
            "en": "PDF documents cannot be printed on this server",
        },
        "pdf.font_missing": {
            "vi": "Chưa cài phông chữ Unicode; đặt {setting} hoặc cài gói fonts-dejavu-core",
            "en": "No Unicode TrueType font is installed; set {setting} or install fonts-dejavu-core",
        },
    }
)


class FontMissing(Unavailable):
    code, title = "pdf-font-missing", MESSAGES("pdf.font_missing.title")


def unicode_font(preferred: str | None, setting: str) -> str:
    """The configured font if it exists, else a known Unicode font; FontMissing (503)
    naming `setting` when there is none."""
    for path in (preferred, *FONT_CANDIDATES):
        if path and os.path.isfile(path):
            return path
    raise FontMissing(MESSAGES("pdf.font_missing", setting=setting), setting=setting)


def bold_variant(regular: str) -> str | None:
    """The bold face next to a regular font file (DejaVuSans-Bold.ttf), if installed."""
    root, ext = os.path.splitext(regular)
    for candidate in (f"{root}-Bold{ext}", root.replace("-Regular", "-Bold") + ext):
        if candidate != regular and os.path.isfile(candidate):
            return candidate
    return None
