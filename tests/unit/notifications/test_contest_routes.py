"""Contest events reach every entrant, each in their own language, with what the
templates use."""

from datetime import date

from services.notifications.catalogue import ROUTES, recipients
from services.notifications.rendering import Renderer
from shared.contracts import EditionSummary, Entrant, EntryScored, EntryScreened, EntrySummary

ENTRY = EntrySummary(
    entry_id="e1",
    code="STKT10-0042",
    title="Máy sấy lúa dùng năng lượng mặt trời",
    field_code="agriculture",
    field_vi="Nông – Lâm – Ngư nghiệp, Môi trường",
    field_en="Agriculture, forestry, fisheries and environment",
    edition=EditionSummary(
        edition_id="ed",
        code="STKT10",
        kind="technical",
        name_vi="Hội thi Sáng tạo kỹ thuật lần thứ X",
        name_en="10th Technical Creativity Contest",
    ),
)
PEOPLE = [
    Entrant(person_id="m-1", member_id="m-1", full_name="Nguyễn Văn Hùng", email="hung@example.vn"),
    Entrant(person_id="entrant-abc", full_name="Trần Thị Mai", email="mai@example.vn", language="en"),
]


def test_every_entrant_is_written_to_in_their_language():
    data = EntryScreened(entry=ENTRY, entrants=PEOPLE, decision="out", reason="Chưa áp dụng vào thực tế")
    people = recipients(ROUTES["entry.screened"][0], data)
    assert [(p.recipient_id, p.member_id, p.language) for p in people] == [
        ("m-1", "m-1", "vi"),
        ("entrant-abc", None, "en"),
    ]
    renderer = Renderer()
    vi = renderer.email(
        "entry_screened", "vi", {"full_name": "Nguyễn Văn Hùng", "federation": "LHH", **people[0].context}
    )
    assert vi.subject == "Kết quả sơ khảo hồ sơ STKT10-0042" and "Lý do: Chưa áp dụng vào thực tế" in vi.text
    en = renderer.email("entry_screened", "en", {"full_name": "Trần Thị Mai", **people[1].context})
    assert en.subject == "Screening result for entry STKT10-0042" and "10th Technical Creativity Contest" in en.text


def test_a_scored_entry_says_when_results_come_in_local_date_form():
    data = EntryScored(entry=ENTRY, entrants=PEOPLE, results_expected=date(2027, 9, 1))
    vi, en = recipients(ROUTES["entry.scored"][0], data)
    assert vi.context["results_expected"] == "01/09/2027" and en.context["results_expected"] == "01 Sep 2027"
    assert en.context["entry"]["field"] == "Agriculture, forestry, fisheries and environment"
