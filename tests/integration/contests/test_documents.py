"""Documents in GridFS: what a file is comes from its content, each kind has its
limit, an entry has a most number of files, and only those who reach the entry
(or judge it) get the bytes back."""

from __future__ import annotations

import hashlib

import aiohttp
import pytest

from services.contests.app import create_app
from tests.integration.contests.conftest import Contests

pytestmark = pytest.mark.integration
PDF = b"%PDF-1.7\n" + b"1 0 obj << /Type /Catalog >> endobj\n" * 2000 + b"%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(300)
DXF = b"  0\nSECTION\n  2\nHEADER\n" + b"  0\nENDSEC\n" * 50


@pytest.fixture
async def small_limits(aiohttp_client, settings):
    limits = {
        "contests_pdf_max_bytes": 200_000,
        "contests_image_max_bytes": 2_000,
        "contests_drawing_max_bytes": 5_000,
        "contests_entry_max_documents": 3,
    }
    service = Contests(await aiohttp_client(create_app(settings.model_copy(update=limits))), settings)
    await service.organizations()
    return service


async def upload(contests, entry_id, content: bytes, headers=None, expect=201, name="tai-lieu.pdf", **kw):
    return await contests.call(
        "POST",
        f"/contests/entries/{entry_id}/documents?name={name}",
        headers or contests.website,
        expect,
        data=content,
        **kw,
    )


async def test_a_document_is_kept_in_gridfs_and_comes_back_byte_for_byte(small_limits):
    contests = small_limits
    edition = await contests.edition()
    entry = await contests.submit(edition["id"])
    saved = await upload(contests, entry["id"], PDF, headers={**contests.website, "Content-Type": "image/png"})
    [doc] = saved["documents"]
    assert (doc["media_type"], doc["kind"], doc["size"]) == ("application/pdf", "pdf", len(PDF))
    assert doc["sha256"] == hashlib.sha256(PDF).hexdigest() and doc["name"] == "tai-lieu.pdf"
    resp = await contests.client.get(doc["url"].removeprefix("/api/v1"), headers=contests.website)
    assert resp.status == 200 and resp.headers["Content-Type"] == "application/pdf"
    assert "attachment" in resp.headers["Content-Disposition"] and await resp.read() == PDF

    form = aiohttp.FormData()
    form.add_field("file", DXF, filename="ban-ve-lap-dat.dwg", content_type="application/octet-stream")
    saved = await contests.call("POST", f"/contests/entries/{entry['id']}/documents", contests.website, 201, data=form)
    drawing = next(d for d in saved["documents"] if d["kind"] == "drawing")
    assert drawing["name"] == "ban-ve-lap-dat.dxf" and drawing["media_type"] == "image/vnd.dxf"

    removed = await contests.call("DELETE", doc["url"].removeprefix("/api/v1"), contests.website)
    assert [d["kind"] for d in removed["documents"]] == ["drawing"]
    await contests.call("GET", doc["url"].removeprefix("/api/v1"), contests.website, 404)


async def test_types_and_limits_are_read_from_the_content_not_the_name(small_limits):
    contests = small_limits
    edition = await contests.edition()
    entry = await contests.submit(edition["id"])
    renamed = await upload(contests, entry["id"], b"MZ\x90\x00" + bytes(200), expect=415, name="giai-phap.pdf")
    assert renamed["field"] == "file" and "theo nội dung" in renamed["detail"]
    script = await upload(contests, entry["id"], b"<svg onload=alert(1)>" + bytes(100), expect=415, name="a.png")
    assert script["type"].endswith("/unsupported-media-type")
    big_image = await upload(contests, entry["id"], PNG + bytes(2_000), expect=413, name="anh.png")
    assert big_image["max_bytes"] == 2_000 and big_image["detail"] == "Tệp ảnh tối đa 2 KB"
    big_pdf_fine = await upload(contests, entry["id"], PDF)
    assert len(big_pdf_fine["documents"]) == 1  # a PDF of the same size as the refused image is within its own limit
    empty = await upload(contests, entry["id"], b"", expect=422)
    assert empty["errors"][0]["field"] == "file"
    await upload(contests, entry["id"], PNG)
    await upload(contests, entry["id"], DXF)
    too_many = await upload(contests, entry["id"], PNG, expect=409)
    assert too_many["detail"] == "Mỗi hồ sơ tối đa 3 tệp"


async def test_documents_follow_the_entry_s_reach_and_its_window(small_limits):
    contests = small_limits
    edition = await contests.edition()
    entry = await contests.submit(edition["id"], headers=contests.manager("org-tin-hoc"), field="it")
    url = (await upload(contests, entry["id"], PDF))["documents"][0]["url"].removeprefix("/api/v1")
    await contests.call("GET", url, contests.manager("org-chi-hoi"), 404)  # a branch does not reach its association
    await contests.call("GET", url, contests.manager("org-tin-hoc"))
    await contests.call("GET", url, contests.judge("an"), 404)  # not assigned to this judge
    await upload(contests, entry["id"], PDF, headers=contests.manager("org-co-khi"), expect=404)
    await contests.rounds(edition["id"], "screening")
    late = await upload(contests, entry["id"], PDF, expect=409)
    assert late["round"] == "registration" and "Nộp hồ sơ dự thi diễn ra từ" in late["detail"]
