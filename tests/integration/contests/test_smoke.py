import pytest

pytestmark = pytest.mark.integration


async def test_an_edition_opens_with_the_contests_usual_rules_and_takes_an_entry(contests, heard):
    edition = await contests.edition()
    assert edition["tiers"][0]["label"]["vi"] == "Giải Nhất" and edition["total_points"] == 100
    entry = await contests.submit(edition["id"])
    assert entry["code"] == "STKT10-0001" and entry["status"] == "submitted"
    [sent] = await heard.wait_for("entry.submitted")
    assert [p.full_name for p in sent.entrants] == ["Nguyễn Văn Hùng", "Trần Thị Mai"]
