"""What each reader sees of an entry, and who its events tell."""

from datetime import UTC, datetime

from services.contests import announcing, views

NOW = datetime(2027, 3, 1, tzinfo=UTC)
EDITION = {
    "_id": "ed",
    "code": "TTN2027",
    "kind": "youth",
    "name": {"vi": "Cuộc thi Sáng tạo Thanh thiếu niên, Nhi đồng 2027", "en": "Youth Creativity Contest 2027"},
    "status": "open",
    "fields": [{"code": "models", "name": {"vi": "Mô hình, đồ chơi", "en": "Models and toys"}}],
}
ENTRY = {
    "_id": "e1",
    "edition_id": "ed",
    "code": "TTN2027-0007",
    "title": "Mô hình nhà thông minh",
    "field": "models",
    "summary": "…",
    "entrant": {
        "kind": "group",
        "organization_id": None,
        "organization_name": "Trường THCS Kim Đồng",
        "authors": [
            {
                "full_name": "Lê Minh Khang",
                "email": "khang@example.vn",
                "phone": "+84912345678",
                "date_of_birth": "2012-04-02",
                "share": 5000,
            },
            {"full_name": "Phạm Thu Hà", "language": "en", "share": 5000},
            {"full_name": "—", "member_id": "m-9", "erased": True, "share": None},
        ],
    },
    "supervisor": {"full_name": "Cô Nguyễn Thị Lan", "school": "THCS Kim Đồng", "email": "lan@example.vn"},
    "board": "lower_secondary",
    "status": "scored",
    "history": {"002": {"status": "screened_in", "at": NOW}, "001": {"status": "submitted", "at": NOW}},
    "documents": {},
    "warnings": [{"code": "TTN2026-0003"}],
    "result": {"rank": 1, "final": 8850, "tier": "first", "prize_vnd": 5_000_000},
    "created_at": NOW,
    "updated_at": NOW,
}


def test_judges_see_no_addresses_and_only_the_board_sees_warnings():
    judge = views.entry(ENTRY, EDITION, "judge")
    assert "email" not in judge["entrant"]["authors"][0] and "date_of_birth" not in judge["entrant"]["authors"][0]
    assert judge["supervisor"] == {"full_name": "Cô Nguyễn Thị Lan", "school": "THCS Kim Đồng"}
    assert judge["warnings"] is None and judge["result"] is None
    assert views.entry(ENTRY, EDITION, "board")["warnings"] == [{"code": "TTN2026-0003"}]
    staff = views.entry(ENTRY, EDITION, "staff")
    assert staff["warnings"] is None and staff["entrant"]["authors"][0]["share"] == 50
    assert [h["status"] for h in staff["status_history"]] == ["submitted", "screened_in"]


def test_no_result_shows_before_publication_and_it_shows_after():
    assert views.entry(ENTRY, EDITION, "staff")["result"] is None
    published = views.entry(ENTRY, {**EDITION, "status": "published"}, "staff")["result"]
    assert published["final_score"] == 88.5 and published["tier_label"]["vi"] == "Giải Nhất"


def test_events_tell_authors_with_an_address_and_the_teacher_never_the_erased():
    told = announcing.entrants(ENTRY)
    assert [(p.full_name, p.role, p.language) for p in told] == [
        ("Lê Minh Khang", "author", "vi"),
        ("Cô Nguyễn Thị Lan", "supervisor", "vi"),
    ]
    assert told[0].person_id == announcing.entrants(ENTRY)[0].person_id and told[0].person_id.startswith("entrant-")
    summary = announcing.entry_summary(EDITION, ENTRY)
    assert (summary.field_vi, summary.field_en, summary.edition.kind) == (
        "Mô hình, đồ chơi",
        "Models and toys",
        "youth",
    )
