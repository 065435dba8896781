"""What a document is, read from its first bytes, never from its name or the
Content-Type the sender claimed; and how large each kind may be. Pure.

Accepted: PDF; images (PNG, JPEG, WebP, TIFF: photographs and scans); technical
drawings (AutoCAD DWG, DXF in text or binary form). Anything else — an executable
renamed `.pdf`, an HTML page, an SVG that could carry script — is refused (415).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from services.contests.catalogue import MESSAGES
from shared.errors import Conflict, TooLarge, UnsupportedMedia

Kind = Literal["pdf", "image", "drawing"]
SNIFF_BYTES = 64


@dataclass(frozen=True)
class FileType:
    kind: Kind
    media_type: str
    extension: str


PDF = FileType("pdf", "application/pdf", "pdf")
_DXF_TEXT = re.compile(rb"^\s*0\s*\r?\n\s*SECTION", re.ASCII)
_DWG = re.compile(rb"^AC10[0-3][0-9]")


def sniff(head: bytes) -> FileType | None:
    """The type of a file from its first bytes, or None if it is not one we accept."""
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return FileType("image", "image/png", "png")
    if head.startswith(b"\xff\xd8\xff"):
        return FileType("image", "image/jpeg", "jpg")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return FileType("image", "image/webp", "webp")
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return FileType("image", "image/tiff", "tif")
    if _DWG.match(head):
        return FileType("drawing", "image/vnd.dwg", "dwg")
    if head.startswith(b"AutoCAD Binary DXF\r\n\x1a\x00") or _DXF_TEXT.match(head.lstrip(b"\xef\xbb\xbf")):
        return FileType("drawing", "image/vnd.dxf", "dxf")
    return None


@dataclass(frozen=True)
class FileRules:
    max_bytes: dict[str, int]  # by kind
    max_files: int

    def check_type(self, head: bytes) -> FileType:
        found = sniff(head)
        if found is None:
            raise UnsupportedMedia(MESSAGES("contests.file.unsupported"), field="file")
        return found

    def check_size(self, found: FileType, size: int) -> None:
        limit = self.max_bytes[found.kind]
        if size > limit:
            raise TooLarge(
                MESSAGES(
                    "contests.file.too_large", kind=MESSAGES(f"contests.file.kind.{found.kind}"), limit=_mb(limit)
                ),
                field="file",
                max_bytes=limit,
            )

    def largest(self) -> int:
        return max(self.max_bytes.values())

    def check_count(self, existing: int) -> None:
        if existing >= self.max_files:
            raise Conflict(
                MESSAGES("contests.file.too_many", limit=self.max_files), field="file", max_files=self.max_files
            )


def _mb(limit: int) -> str:
    """A size as people read it: 20 MB, 1.5 MB, 2 KB."""
    unit, size = ("MB", limit / 1_048_576) if limit >= 1_048_576 else ("KB", limit / 1024)
    return f"{size:.1f}".rstrip("0").rstrip(".") + f" {unit}"


def safe_name(name: str | None, found: FileType) -> str:
    """A file name to show and offer on download: the sender's, cleaned, with the extension its content deserves."""
    base = re.sub(r"[\x00-\x1f\x7f/\\\"<>|:*?]+", "_", (name or "").strip())[:120].strip(" ._") or "tep"
    stem = base.rsplit(".", 1)[0] if "." in base else base
    return f"{stem}.{found.extension}"
