"""Uploads (an import file, a contest document): a broken multipart form is the caller's
mistake, answered 422 on the file field in the caller's language — never a 500."""

from __future__ import annotations

from aiohttp import FormData, web

from shared.http import json_response, make_app, upload


async def _client(aiohttp_client):
    app = make_app(max_body_bytes=1_000_000, identity_secret=None, metrics=False)

    async def receive(request: web.Request) -> web.Response:
        chunks, name = await upload(request)
        size = sum([len(chunk) async for chunk in chunks])
        return json_response({"name": name, "size": size})

    app.router.add_post("/upload", receive)
    return await aiohttp_client(app)


async def test_a_file_arrives_raw_or_in_a_form(aiohttp_client):
    client = await _client(aiohttp_client)
    raw = await client.post("/upload", data=b"x" * 70_000, headers={"Content-Type": "text/csv"})
    assert await raw.json() == {"name": None, "size": 70_000}
    form = FormData()
    form.add_field("file", b"ho_ten\n", filename="hoi-vien.csv", content_type="text/csv")
    sent = await client.post("/upload", data=form)
    assert await sent.json() == {"name": "hoi-vien.csv", "size": 7}


async def test_a_broken_form_is_refused_on_the_file_field(aiohttp_client):
    client = await _client(aiohttp_client)
    boundary = "0d37f771f3609e9baf6be26654101f5f"
    broken = await client.post(
        "/upload",
        data=f"--{boundary}\r\nTrue--{boundary}--\r\n".encode(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}", "Accept-Language": "en"},
    )
    assert broken.status == 422
    problem = await broken.json()
    assert problem["errors"][0]["field"] == "file"
    assert "multipart" in problem["errors"][0]["message"]


async def test_a_form_without_the_file_says_which_field_is_missing(aiohttp_client):
    client = await _client(aiohttp_client)
    form = FormData()
    form.add_field("other", b"x", filename="x.txt")
    answer = await client.post("/upload", data=form)
    assert answer.status == 422
    assert (await answer.json())["errors"][0]["field"] == "file"
