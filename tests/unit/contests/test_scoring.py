"""Scoring rules with fixtures computed by hand, and properties that hold for any input."""

from __future__ import annotations

import math
import random
from fractions import Fraction as F

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.contests.scoring import (
    Candidate,
    Override,
    Rules,
    Sheet,
    TierRule,
    aggregate,
    community_points,
    number_text,
    rank,
    spread,
    stddev,
)

CRITERIA = (("novelty", F(30)), ("applicability", F(30)), ("effectiveness", F(40)))
TIERS = (
    TierRule("first", F(85), 1),
    TierRule("second", F(75), 2),
    TierRule("third", F(65), 3),
    TierRule("honourable", F(50), None),
)
RULES = Rules(CRITERIA, ("novelty", "effectiveness", "applicability"), "mean", TIERS, min_judges=3)


def sheet(judge: str, novelty, applicability, effectiveness) -> Sheet:
    return Sheet(judge, {"novelty": F(novelty), "applicability": F(applicability), "effectiveness": F(effectiveness)})


def entry(code: str, *totals: tuple, **kw) -> Candidate:
    sheets = tuple(sheet(f"gk{i}", *t) for i, t in enumerate(totals, 1))
    return Candidate(entry_id=f"id-{code}", code=code, sheets=sheets, **kw)


def flat(code: str, total: int, judges: int = 3, **kw) -> Candidate:
    """An entry every judge scored the same way, `total` points split 30/30/40 proportionally."""
    n, a = F(total) * F(30, 100), F(total) * F(30, 100)
    return entry(code, *[(n, a, F(total) - n - a)] * judges, **kw)


# --- aggregation, by hand -------------------------------------------------------------


def test_mean_median_and_trimmed_mean_by_hand():
    assert aggregate([F(70), F(80), F(90)], "mean") == 80
    assert aggregate([F(60), F(70), F(80), F(95)], "median") == 75  # (70 + 80) / 2
    assert aggregate([F(60), F(95), F(70)], "median") == 70
    # four judges: the highest (95) and lowest (60) are dropped, mean of 70 and 80
    assert aggregate([F(95), F(60), F(80), F(70)], "trimmed_mean") == 75
    # three judges: nothing is dropped
    assert aggregate([F(60), F(70), F(95)], "trimmed_mean") == F(225, 3)
    with pytest.raises(ValueError):
        aggregate([], "mean")


def test_disagreement_is_the_spread_and_population_deviation():
    totals = [F(70), F(80), F(90)]
    assert spread(totals) == 20
    assert stddev(totals) == pytest.approx(math.sqrt(200 / 3))  # (100 + 0 + 100) / 3
    assert stddev([F(80)] * 4) == 0


def test_community_vote_is_a_share_of_the_total_by_votes_over_the_most():
    # share 10 % of 100 points, 50 votes where the most any entry got is 200: 0.1 × 100 × 50 / 200
    assert community_points(50, 200, F(1, 10), F(100)) == F(5, 2)
    assert community_points(200, 200, F(1, 10), F(100)) == 10
    assert community_points(7, 0, F(1, 10), F(100)) == 0
    assert community_points(7, 9, F(0), F(100)) == 0


def test_scores_are_written_with_two_decimals_at_most():
    assert number_text(F(85)) == "85" and number_text(F(171, 2)) == "85.5" and number_text(F(1, 3)) == "0.33"
    assert number_text(F(2, 3)) == "0.67" and number_text(F(1, 8)) == "0.13"  # half up


# --- ranking, thresholds and quotas, by hand -------------------------------------------


def test_thresholds_then_quotas_with_the_reason_an_entry_drops_a_tier():
    finals = {"A": 92, "B": 88, "C": 80, "D": 78, "E": 77, "F": 70, "G": 66, "H": 40}
    placed = {p.code: p for p in rank([flat(code, total) for code, total in finals.items()], RULES)}
    assert [placed[c].rank for c in "ABCDEFGH"] == [1, 2, 3, 4, 5, 6, 7, 8]
    tiers = {c: placed[c].tier for c in "ABCDEFGH"}
    # first: 1 place (A). B reached 85 but drops to second; C fills second; D reached 75 but second is full.
    assert tiers == {
        "A": "first",
        "B": "second",
        "C": "second",
        "D": "third",
        "E": "third",
        "F": "third",
        "G": "honourable",  # 66 ≥ 65 but third is full (D, E, F); honourable has no quota
        "H": None,
    }
    b = [m.render("vi") for m in placed["B"].reasons]
    assert b == ["Đủ điểm Giải Nhất nhưng Giải Nhất đã đủ 1 suất: xuống giải dưới"]
    assert placed["A"].reasons[0].render("en") == "Reached the First prize threshold (85 points)"
    assert [m.render("en") for m in placed["G"].reasons] == [
        "Qualifies for Third prize but its 3 place(s) are taken: moves down a tier"
    ]
    assert placed["H"].reasons[0].render("vi") == "Dưới ngưỡng giải thấp nhất (Giải Khuyến khích: từ 50 điểm)"


def test_an_entry_above_a_threshold_gets_nothing_when_every_tier_below_is_full():
    rules = Rules(CRITERIA, ("novelty",), "mean", (TierRule("first", F(85), 1), TierRule("second", F(75), 1)))
    placed = rank([flat("A", 90), flat("B", 89), flat("C", 88)], rules)
    assert [p.tier for p in placed] == ["first", "second", None]
    assert placed[2].reasons[-1].render("vi") == "Đủ ngưỡng giải nhưng các giải đã hết suất"


def test_the_judges_score_uses_the_editions_method():
    # totals 60, 70, 80, 95 (4 judges)
    four = entry("A", (18, 18, 24), (21, 21, 28), (24, 24, 32), (28.5, 28.5, 38))
    for method, expected in (("mean", F(305, 4)), ("median", F(75)), ("trimmed_mean", F(75))):
        rules = Rules(CRITERIA, ("novelty",), method, TIERS, min_judges=3)  # type: ignore[arg-type]
        [p] = rank([four], rules)
        assert p.judges_score == expected and p.final == expected, method
        assert p.spread == 35 and p.judge_totals == (("gk1", 60), ("gk2", 70), ("gk3", 80), ("gk4", 95))


def test_ties_are_broken_by_the_configured_criterion_order_then_by_entry_number():
    # Both total 80; X has more novelty (the first tie-break criterion).
    x = entry("X", (26, 24, 30), (26, 24, 30), (26, 24, 30))
    y = entry("Y", (24, 26, 30), (24, 26, 30), (24, 26, 30))
    placed = rank([y, x], RULES)
    assert [p.code for p in placed] == ["X", "Y"]
    assert placed[1].tie_broken_by == "novelty" and placed[0].tie_broken_by is None
    assert placed[1].reasons[-1].render("en") == "Same total as X; separated by the criterion novelty"
    # Equal on every criterion: entry number decides, and the board is told.
    z = entry("Z", (26, 24, 30), (26, 24, 30), (26, 24, 30))
    placed = rank([z, x], RULES)
    assert [p.code for p in placed] == ["X", "Z"] and placed[1].tie_broken_by == "code"
    assert "Ban Tổ chức cần xem xét" in placed[1].reasons[-1].render("vi")


def test_overrides_apply_first_count_against_quotas_and_say_why():
    entries = [
        flat("A", 92),
        flat("B", 80),
        flat("C", 70, override=Override("first", "Giải pháp đã được cấp bằng độc quyền sáng chế")),
        flat("D", 60, override=Override(None, "Vi phạm thể lệ: đã đoạt giải cấp tỉnh năm 2019")),
    ]
    placed = {p.code: p for p in rank(entries, RULES)}
    assert placed["C"].tier == "first" and placed["C"].overridden and placed["C"].tier_by_rules == "third"
    assert placed["A"].tier == "second"  # the override took the only first prize
    assert placed["D"].tier is None and placed["D"].tier_by_rules == "honourable"
    assert [m.render("vi") for m in placed["C"].reasons] == [
        "Ban Tổ chức quyết định: Giải Nhất. Lý do: Giải pháp đã được cấp bằng độc quyền sáng chế",
        "Theo quy tắc chấm: Giải Ba",
    ]
    assert placed["D"].reasons[0].render("en").startswith("The organising board decided: No prize. Reason:")


def test_the_community_vote_changes_the_final_score_by_its_share():
    rules = Rules(CRITERIA, ("novelty",), "mean", TIERS, min_judges=3, vote_share=F(1, 10))
    placed = {p.code: p for p in rank([flat("A", 80, votes=50), flat("B", 78, votes=200)], rules)}
    # A: 0.9 × 80 + 0.1 × 100 × 50/200 = 72 + 2.5;  B: 0.9 × 78 + 10 = 80.2
    assert placed["A"].final == F(745, 10) and placed["A"].community_points == F(5, 2)
    assert placed["B"].final == F(802, 10) and placed["B"].rank == 1


def test_entries_without_enough_sheets_are_not_ranked_and_say_why():
    placed = rank([flat("A", 90), flat("B", 95, judges=2)], RULES)
    assert [(p.code, p.rank, p.tier, p.complete) for p in placed] == [("A", 1, "first", True), ("B", None, None, False)]
    assert placed[1].reasons[0].render("vi") == "Chưa đủ phiếu chấm: 2/3"


def test_groups_are_ranked_apart_each_with_its_own_quotas():
    entries = [flat("P1", 90, group="primary"), flat("P2", 89, group="primary"), flat("U1", 86, group="upper")]
    placed = {p.code: p for p in rank(entries, RULES)}
    assert (placed["P1"].tier, placed["P2"].tier, placed["U1"].tier) == ("first", "second", "first")
    assert placed["U1"].rank == 1


def test_disagreement_above_the_threshold_asks_the_board_to_look_again():
    rules = Rules(CRITERIA, ("novelty",), "mean", TIERS, min_judges=3, disagreement_threshold=F(20))
    split = entry("A", (27, 27, 36), (15, 15, 20), (24, 24, 32))  # totals 90, 50, 80
    [p] = rank([split], rules)
    assert p.spread == 40 and p.look_again
    assert p.reasons[-1].render("vi") == "Giám khảo chấm chênh lệch 40 điểm: đề nghị xem lại"


# --- properties -----------------------------------------------------------------------

# Properties run in the unit the service stores: hundredths of a point.
point = st.integers(0, 3000)
CENTI_CRITERIA = tuple((code, int(m * 100)) for code, m in CRITERIA)
CENTI_TIERS = tuple(TierRule(t.code, int(t.threshold * 100), t.quota) for t in TIERS)
judge_sheet = st.builds(
    lambda j, a, b, c: Sheet(f"gk{j}", {"novelty": a, "applicability": b, "effectiveness": c}),
    st.integers(1, 6),
    point,
    point,
    point,
)
candidates = st.lists(
    st.builds(
        lambda i, sheets, votes, group, override: Candidate(
            f"id{i}",
            f"E{i:04d}",
            group,
            tuple({s.judge: s for s in sheets}.values()),
            votes,
            override,
        ),
        st.integers(0, 9999),
        st.lists(judge_sheet, min_size=0, max_size=6),
        st.integers(0, 500),
        st.sampled_from(["", "primary", "upper"]),
        st.one_of(st.none(), st.builds(Override, st.sampled_from([None, "first", "third"]), st.just("lý do"))),
    ),
    max_size=25,
    unique_by=lambda c: c.code,
)
methods = st.sampled_from(["mean", "median", "trimmed_mean"])


def rules_for(method, share: F = F(0)) -> Rules:
    order = ("novelty", "effectiveness", "applicability")
    return Rules(CENTI_CRITERIA, order, method, CENTI_TIERS, 2, share, 1500, unit=100)


@settings(max_examples=100, deadline=None)
@given(candidates, methods, st.randoms(use_true_random=False), st.sampled_from([F(0), F(1, 10), F(1, 5)]))
def test_the_ranking_is_a_function_of_its_inputs_whatever_their_order(entries, method, shuffler, share):
    rules = rules_for(method, share)
    first = rank(entries, rules)
    shuffled = [
        Candidate(c.entry_id, c.code, c.group, tuple(shuffler.sample(c.sheets, len(c.sheets))), c.votes, c.override)
        for c in shuffler.sample(entries, len(entries))
    ]
    assert rank(shuffled, rules) == first
    assert rank(entries, rules) == first


@settings(max_examples=100, deadline=None)
@given(candidates, methods)
def test_without_overrides_quotas_hold_and_a_better_rank_never_gets_a_worse_tier(entries, method):
    plain = [Candidate(c.entry_id, c.code, c.group, c.sheets, c.votes) for c in entries]
    placed = rank(plain, rules_for(method))
    order = [t.code for t in CENTI_TIERS] + [None]
    for group in {p.group for p in placed}:
        ranked = sorted((p for p in placed if p.group == group and p.complete), key=lambda p: p.rank or 0)
        assert [p.rank for p in ranked] == list(range(1, len(ranked) + 1))
        for tier in CENTI_TIERS:
            given_tier = [p for p in ranked if p.tier == tier.code]
            assert tier.quota is None or len(given_tier) <= tier.quota
            assert all(p.final is not None and p.final >= tier.threshold for p in given_tier)
        positions = [order.index(p.tier) for p in ranked]
        assert positions == sorted(positions)
        finals = [p.final for p in ranked]
        assert finals == sorted(finals, reverse=True)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 10_000), min_size=1, max_size=9), methods)
def test_an_aggregate_lies_between_the_lowest_and_highest_total(values, method):
    assert min(values) <= aggregate(values, method) <= max(values)
    assert aggregate(random.Random(7).sample(values, len(values)), method) == aggregate(values, method)
