"""Reading an uploaded spreadsheet (the raw body, or a multipart form's `file` field)
into a temporary file a chunk at a time, refusing what is not a spreadsheet, empty, or
larger than allowed. Part of the HTTP layer: the use cases get a path."""

from __future__ import annotations

import os
import tempfile
from typing import Any

from aiohttp import BodyPartReader, web

from services.membership.catalogue import MESSAGES
from shared.errors import FieldError, Invalid, TooLarge, UnsupportedMedia

# What browsers and Excel call a spreadsheet upload (the content decides CSV or XLSX).
UPLOAD_TYPES = frozenset(
    {
        "text/csv",
        "text/plain",
        "application/csv",
        "application/vnd.ms-excel",
        "application/octet-stream",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
)


def _field_problem(message: str, code: str) -> Invalid:
    return Invalid(FieldError("file", MESSAGES(message), code))


async def _source(request: web.Request) -> tuple[Any, str | None]:
    """Where the file's bytes come from, and its name when a form gave one."""
    if not request.content_type.startswith("multipart/"):
        if request.content_type not in UPLOAD_TYPES:
            types = ", ".join(sorted(UPLOAD_TYPES))
            raise UnsupportedMedia(MESSAGES("membership.media_types", types=types))
        return request.content, None
    try:
        reader = await request.multipart()
        part = await reader.next()
        while part is not None and getattr(part, "name", None) != "file":
            part = await reader.next()
    except (ValueError, AssertionError, RuntimeError):
        raise _field_problem("membership.file_field", "missing") from None
    if not isinstance(part, BodyPartReader):
        raise _field_problem("membership.file_field", "missing")
    return part, part.filename


async def spool(request: web.Request, limit: int) -> tuple[str, int, str | None]:
    """(path, size, file name) of the uploaded file; the caller removes the file."""
    source, filename = await _source(request)
    fd, path = tempfile.mkstemp(prefix="lienhiep-import-")
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            read = source.read_chunk if isinstance(source, BodyPartReader) else source.read
            while chunk := await read(65536):
                size += len(chunk)
                if size > limit:
                    raise TooLarge(MESSAGES("membership.file_limit", limit=limit), max_bytes=limit)
                out.write(chunk)
        if size == 0:
            raise _field_problem("membership.file_empty", "empty")
    except BaseException:
        os.unlink(path)
        raise
    return path, size, filename
