"""The pure rules around scoring: rounds and their windows, an entry's way through
the contest, eligibility, conflicts and assignment, file types, edition rules."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from services.contests import conflicts, eligibility, filetypes, lifecycle, rulebook, timeline
from shared.errors import Conflict, Invalid, TooLarge, UnsupportedMedia

T0 = datetime(2027, 3, 1, 1, 0, tzinfo=UTC)  # 08:00 in Viet Nam


def window(days_from: int, days_to: int):
    return {"opens_at": T0 + timedelta(days=days_from), "closes_at": T0 + timedelta(days=days_to)}


# --- rounds --------------------------------------------------------------------------


def test_an_action_outside_its_round_is_refused_with_the_dates_in_local_time():
    plan = {"registration": window(0, 30), "screening": window(31, 40)}
    assert timeline.require_open(plan, T0 + timedelta(days=1), "registration") == "registration"
    with pytest.raises(timeline.RoundClosed) as err:
        timeline.require_open(plan, T0 + timedelta(days=45), "screening")
    body = err.value.public("vi")
    assert err.value.status == 409 and body["round"] == "screening"
    assert body["detail"] == "Sơ khảo diễn ra từ 08:00 01/04/2027 đến 08:00 10/04/2027 (giờ Việt Nam)"
    assert err.value.public("en")["detail"].startswith("Screening runs from 08:00 01/04/2027")


def test_several_allowed_rounds_are_named_together_and_an_unscheduled_round_says_so():
    plan = {"registration": window(0, 10), "submission": window(0, 20)}
    with pytest.raises(timeline.RoundClosed) as err:
        timeline.require_open(plan, T0 + timedelta(days=25), "registration", "submission")
    detail = err.value.public("en")["detail"]
    assert detail.startswith("Only possible during: Registration runs from") and "; Submission of documents" in detail
    with pytest.raises(timeline.RoundClosed) as err:
        timeline.require_open(plan, T0, "decision")
    assert err.value.public("vi")["detail"] == "Ban Tổ chức quyết định giải chưa được lên lịch"


def test_windows_close_after_they_open_and_rounds_open_in_order():
    with pytest.raises(Invalid) as err:
        timeline.check({"registration": window(5, 4), "submission": window(10, 20), "screening": window(8, 30)})
    fields = [e.field for e in err.value.field_errors]
    assert fields == ["timeline.registration.closes_at", "timeline.screening.opens_at"]
    timeline.check({"registration": window(0, 30), "submission": window(0, 40)})  # overlapping is fine


# --- an entry's way ------------------------------------------------------------------


def test_an_entry_moves_one_way_and_a_wrong_move_names_both_states():
    assert lifecycle.can_move("submitted", "screened_in") and lifecycle.can_move("scored", "awarded")
    assert not lifecycle.can_move("screened_out", "scored")
    with pytest.raises(lifecycle.InvalidTransition) as err:
        lifecycle.require_move("not_awarded", "forwarded")
    assert err.value.public("vi")["detail"] == (
        "Hồ sơ đang ở trạng thái “Không đạt giải”, không chuyển sang “Đã gửi dự thi toàn quốc” được"
    )


# --- eligibility ---------------------------------------------------------------------

TECHNICAL = {"fields": [{"code": "it"}], "eligibility": {"applied_since": "2021-01-01"}}
YOUTH = {
    "fields": [{"code": "models"}],
    "eligibility": {"age_min": 6, "age_max": 18, "age_cutoff": "2027-05-31", "boards": ["primary", "lower_secondary"]},
}


def technical_entry(**kw):
    return {"field": "it", "applied_since": "2022-06-01", "history_declared": {}, **kw}


def test_technical_entries_must_be_applied_since_the_configured_date_and_not_entered_before():
    eligibility.check_entry("technical", TECHNICAL, technical_entry(), date(2027, 3, 1))
    with pytest.raises(Invalid) as err:
        eligibility.check_entry(
            "technical",
            TECHNICAL,
            technical_entry(field="space", applied_since="2020-12-31", history_declared={"previously_entered": True}),
            date(2027, 3, 1),
        )
    faults = {e.field: e.message.render("vi") for e in err.value.field_errors}
    assert faults["applied_since"] == "Giải pháp phải được áp dụng từ ngày 01/01/2021 trở đi"
    assert "history.previously_entered" in faults and faults["field"].endswith(": it")
    with pytest.raises(Invalid) as err:
        eligibility.check_entry("technical", TECHNICAL, technical_entry(applied_since="2027-03-02"), date(2027, 3, 1))
    assert err.value.field_errors[0].code == "in_future"


def youth_entry(*births, supervisor=True, board="primary"):
    return {
        "field": "models",
        "entrant": {"authors": [{"full_name": f"Em {i}", "date_of_birth": b} for i, b in enumerate(births)]},
        "supervisor": {"full_name": "Cô Lan", "school": "TH Kim Đồng"} if supervisor else None,
        "board": board,
    }


def test_youth_authors_are_aged_six_to_eighteen_on_the_cut_off_with_a_teacher_and_a_board():
    eligibility.check_entry("youth", YOUTH, youth_entry("2016-05-31", "2009-06-01"), date(2027, 3, 1))
    with pytest.raises(Invalid) as err:
        eligibility.check_entry(
            "youth",
            YOUTH,
            youth_entry("2021-06-01", "2008-05-30", None, supervisor=False, board="upper_secondary"),
            date(2027, 3, 1),
        )
    faults = {e.field: e.message.render("vi") for e in err.value.field_errors}
    assert (
        faults["entrant.authors.0.date_of_birth"] == "Tác giả phải từ 6 đến 18 tuổi vào ngày 31/05/2027 (đang 5 tuổi)"
    )
    assert "19 tuổi" in faults["entrant.authors.1.date_of_birth"]
    assert faults["entrant.authors.2.date_of_birth"] == "Cần ngày sinh của tác giả"
    assert "supervisor" in faults and faults["board"] == "Chọn một bảng thi: Bảng Tiểu học, Bảng Trung học cơ sở"


def test_ages_count_full_years_on_the_day():
    assert eligibility.age_on(date(2010, 6, 1), date(2027, 5, 31)) == 16
    assert eligibility.age_on(date(2010, 5, 31), date(2027, 5, 31)) == 17


def test_titles_like_an_earlier_editions_entry_are_found_without_diacritics():
    earlier = [
        {
            "_id": "a",
            "code": "STKT9-0012",
            "edition_id": "e9",
            "title": "Máy sấy lúa dùng năng lượng mặt trời",
            "title_key": eligibility.title_key("Máy sấy lúa dùng năng lượng mặt trời"),
        },
        {
            "_id": "b",
            "code": "STKT9-0013",
            "edition_id": "e9",
            "title": "Phần mềm quản lý bệnh viện",
            "title_key": eligibility.title_key("Phần mềm quản lý bệnh viện"),
        },
    ]
    found = eligibility.similar_titles("May say lua dung nang luong mat troi (cai tien)", earlier)
    assert [s.code for s in found] == ["STKT9-0012"] and found[0].similarity >= 0.8
    assert eligibility.similar_titles("Hệ thống tưới nhỏ giọt tự động", earlier) == []


# --- conflicts and assignment -----------------------------------------------------------

TREE = {"lhh": None, "hoi-tin-hoc": "lhh", "chi-hoi-a": "hoi-tin-hoc", "hoi-y-hoc": "lhh"}


def judge(name, org=None, fields=("it",), declared=()):
    return conflicts.Panelist(name, org, frozenset(fields), tuple(declared))


def entry(code, org=None, field="it", members=(), authors=()):
    return conflicts.Contender(f"id-{code}", code, field, (org,) if org else (), tuple(members), tuple(authors))


def test_own_association_declared_people_and_recusals_are_conflicts():
    assert conflicts.association_of("chi-hoi-a", TREE) == "hoi-tin-hoc"
    assert conflicts.association_of("lhh", TREE) is None and conflicts.association_of("unknown", TREE) is None
    from_branch = entry("E1", "chi-hoi-a")
    assert conflicts.conflict(judge("an", "hoi-tin-hoc"), from_branch, TREE) == "organization"
    assert conflicts.conflict(judge("an", "hoi-y-hoc"), from_branch, TREE) is None
    assert conflicts.conflict(judge("an", "lhh"), from_branch, TREE) is None  # the federation's office
    declared = [{"kind": "organization", "organization_id": "hoi-tin-hoc"}]
    assert conflicts.conflict(judge("an", "hoi-y-hoc", declared=declared), from_branch, TREE) == "organization"
    relative = [{"kind": "relative", "person_key": "nguyen van an"}]
    assert (
        conflicts.conflict(judge("b", declared=relative), entry("E2", authors=("nguyen van an",)), TREE) == "relative"
    )
    coauthor = [{"kind": "coauthor", "member_id": "m-7"}]
    assert conflicts.conflict(judge("b", declared=coauthor), entry("E3", members=("m-7",)), TREE) == "coauthor"
    recused = [{"kind": "entry", "entry_id": "id-E4"}]
    assert conflicts.conflict(judge("b", declared=recused), entry("E4"), TREE) == "entry"


def test_assignment_never_uses_a_conflicted_judge_balances_load_and_reports_shortfalls():
    judges = [judge("an", "hoi-tin-hoc"), judge("binh"), judge("chi"), judge("dung", fields=("health",))]
    entries = [entry("E1", "chi-hoi-a"), entry("E2"), entry("E3"), entry("E4", field="health")]
    plan = conflicts.assign(entries, judges, had={}, active={}, per_entry=2, parent_of=TREE)
    pairs = sorted(plan.pairs)
    assert ("id-E1", "an") not in pairs
    assert [u for e, u in pairs if e == "id-E1"] == ["binh", "chi"]
    assert [u for e, u in pairs if e == "id-E4"] == ["dung"]
    assert plan.shortfalls == [("id-E4", 2, 1)]
    load = {u: sum(1 for _, x in pairs if x == u) for u in ("an", "binh", "chi")}
    assert max(load.values()) - min(load.values()) <= 1
    again = conflicts.assign(entries, judges, had={}, active={}, per_entry=2, parent_of=TREE)
    assert again.pairs == plan.pairs  # deterministic


def test_assignment_tops_up_without_giving_an_entry_back_to_a_judge_who_left_it():
    judges = [judge("an"), judge("binh"), judge("chi")]
    plan = conflicts.assign(
        [entry("E1")], judges, had={"id-E1": {"an", "binh"}}, active={"id-E1": 1}, per_entry=2, parent_of=TREE
    )
    assert plan.pairs == [("id-E1", "chi")] and plan.shortfalls == []


# --- files -----------------------------------------------------------------------------

RULES = filetypes.FileRules({"pdf": 1000, "image": 500, "drawing": 2000}, max_files=2)


@pytest.mark.parametrize(
    "head, kind, media",
    [
        (b"%PDF-1.7\n%\xe2\xe3", "pdf", "application/pdf"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "image", "image/png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image", "image/jpeg"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "image", "image/webp"),
        (b"II*\x00\x08\x00", "image", "image/tiff"),
        (b"AC1032\x00\x00", "drawing", "image/vnd.dwg"),
        (b"  0\r\nSECTION\r\n  2\r\nHEADER", "drawing", "image/vnd.dxf"),
    ],
)
def test_types_come_from_the_first_bytes(head, kind, media):
    found = RULES.check_type(head)
    assert (found.kind, found.media_type) == (kind, media)


@pytest.mark.parametrize(
    "head", [b"MZ\x90\x00", b"<html><script>", b'<svg xmlns="http://www.w3.org/2000/svg">', b"PK\x03\x04", b""]
)
def test_anything_else_is_refused_whatever_it_is_called(head):
    with pytest.raises(UnsupportedMedia) as err:
        RULES.check_type(head)
    assert err.value.status == 415 and err.value.field == "file"


def test_size_limits_depend_on_the_kind_and_count_limits_on_the_entry():
    png = filetypes.sniff(b"\x89PNG\r\n\x1a\n")
    assert png is not None
    RULES.check_size(png, 500)
    with pytest.raises(TooLarge) as err:
        RULES.check_size(png, 501)
    assert err.value.public("vi")["max_bytes"] == 500 and "ảnh" in err.value.public("vi")["detail"]
    with pytest.raises(Conflict):
        RULES.check_count(2)
    assert filetypes.safe_name("../../bản vẽ\x00.exe", png) == "bản vẽ_.png"
    assert filetypes.safe_name(None, png) == "tep.png"


# --- edition rules -------------------------------------------------------------------------


def edition_rules(kind="technical", **changes):
    base = rulebook.defaults(kind)
    return {**base, "min_judges": 3, "judges_per_entry": 5, **changes}


def test_the_defaults_are_coherent_and_vietnamese_first():
    for kind in ("technical", "youth"):
        rules = rulebook.check(kind, edition_rules(kind))
        assert sum(c["max_points"] for c in rules["criteria"]) == 100_00
        assert [t["code"] for t in rules["tiers"]] == ["first", "second", "third", "honourable"]
    assert len(rulebook.defaults("technical")["fields"]) == 6 and len(rulebook.defaults("youth")["fields"]) == 5
    assert rulebook.defaults("youth")["criteria"][-1]["name"]["vi"] == "Trình bày, thẩm mỹ"


def test_incoherent_rules_are_refused_naming_each_fault():
    rules = edition_rules(
        tie_break=["applicability", "beauty"],
        tiers=[
            {"code": "first", "threshold": 8500, "quota": 1, "prize_vnd": 0},
            {"code": "second", "threshold": 9000, "quota": 2, "prize_vnd": 0},
            {"code": "third", "threshold": 12000, "quota": 2, "prize_vnd": 0},
        ],
        min_judges=6,
        rank_by=["board"],
    )
    with pytest.raises(Invalid) as err:
        rulebook.check("technical", rules)
    fields = [e.field for e in err.value.field_errors]
    assert fields == [
        "tie_break.1",
        "tiers.1.threshold",
        "tiers.2.threshold",
        "tiers.2.threshold",
        "min_judges",
        "rank_by",
    ]
    normalised = rulebook.check("technical", edition_rules(tie_break=["effectiveness"]))
    assert normalised["tie_break"] == ["effectiveness", "novelty", "applicability"]
