"""Reading an uploaded spreadsheet (the raw body, or a multipart form's `file` field,
through shared.http.upload) into a temporary file a chunk at a time, refusing what is not a spreadsheet, empty, or
larger than allowed. Part of the HTTP layer: the use cases get a path."""

from __future__ import annotations

import os
import tempfile

from aiohttp import web

from services.membership.catalogue import MESSAGES
from shared.errors import FieldError, Invalid, TooLarge, UnsupportedMedia
from shared.http import upload

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


async def spool(request: web.Request, limit: int) -> tuple[str, int, str | None]:
    """(path, size, file name) of the uploaded file; the caller removes the file."""
    if not request.content_type.startswith("multipart/") and request.content_type not in UPLOAD_TYPES:
        raise UnsupportedMedia(MESSAGES("membership.media_types", types=", ".join(sorted(UPLOAD_TYPES))))
    chunks, filename = await upload(request)
    fd, path = tempfile.mkstemp(prefix="lienhiep-import-")
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            async for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise TooLarge(MESSAGES("membership.file_limit", limit=limit), max_bytes=limit)
                out.write(chunk)
        if size == 0:
            raise Invalid(FieldError("file", MESSAGES("membership.file_empty"), "empty"))
    except BaseException:
        os.unlink(path)
        raise
    return path, size, filename
