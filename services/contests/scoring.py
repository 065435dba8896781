"""How judges' score sheets become prizes: pure rules, no I/O.

1. A submitted sheet's total is the sum of its criteria's points.
2. An entry's judges' score aggregates the totals with the edition's method: the
   mean, the median, or the mean without the highest and the lowest total (only
   from four judges on; below that it is the mean). Each criterion is aggregated
   the same way, for breaking ties.
3. Disagreement: the spread (highest total − lowest) and the standard deviation of
   the totals (population); a spread at or above the edition's threshold asks the
   board to look again.
4. The community vote is worth a share s of the total M:
   final = (1 − s) × judges' score + s × M × votes / most votes (in the group).
5. Ranking, per group (the whole edition, or per field / school board): by final
   score, ties broken by the edition's criterion order, then by entry number (an
   unresolved tie the board is told about).
6. Tiers, best first, walking down the ranking: an entry gets the best tier whose
   threshold it reaches; if that tier's quota is full it drops to the next tier
   with room, and the result says why. The board's overrides are applied first and
   count against the quotas; every override shows with its reason.

Every number is exact, so the ranking is a function of its inputs alone: the
order of entries and sheets never changes a result. Points may be given as
integers of a smaller unit (the service stores hundredths of a point: `unit=100`),
which keeps sums integer and fast; aggregates are `Fraction`s of that unit, and
messages show points (value / unit).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Literal

from services.contests.catalogue import MESSAGES
from shared.i18n import Message

Aggregation = Literal["mean", "median", "trimmed_mean"]
TRIM_FROM = 4  # judges needed before the highest and lowest totals are dropped
ZERO = Fraction(0)


Number = int | Fraction


def aggregate(values: Sequence[Number], method: Aggregation) -> Fraction:
    """The mean, median or trimmed mean of `values` (at least one)."""
    if not values:
        raise ValueError("nothing to aggregate")
    ordered = sorted(values)
    if method == "median":
        middle = len(ordered) // 2
        if len(ordered) % 2:
            return Fraction(ordered[middle])
        return Fraction(ordered[middle - 1] + ordered[middle], 2)
    if method == "trimmed_mean" and len(ordered) >= TRIM_FROM:
        ordered = ordered[1:-1]
    return Fraction(sum(ordered), len(ordered))


def spread(totals: Sequence[Number]) -> Fraction:
    return Fraction(max(totals) - min(totals))


def stddev(totals: Sequence[Number]) -> float:
    """Population standard deviation of the judges' totals."""
    n = len(totals)
    total = sum(totals)
    # n² × variance = n × Σt² − (Σt)², exact for integers
    return math.sqrt(Fraction(n * sum(t * t for t in totals) - total * total, n * n))


def community_points(votes: int, most_votes: int, share: Fraction, total_max: Number) -> Fraction:
    """The vote's part of the final score: share × M × votes / most votes."""
    if share <= 0 or most_votes <= 0:
        return ZERO
    return share * total_max * Fraction(votes, most_votes)


def number_text(value: Fraction) -> str:
    """85, 85.5 or 85.25: a score as people write it (two decimals at most, half up)."""
    rounded = (Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return format(rounded.normalize(), "f")


# --- inputs ------------------------------------------------------------------------


@dataclass(frozen=True)
class TierRule:
    code: str
    threshold: Number
    quota: int | None = None  # places per group; None: as many as reach the threshold


@dataclass(frozen=True)
class Rules:
    criteria: tuple[tuple[str, Number], ...]  # (code, maximum points), in display order
    tie_break: tuple[str, ...]  # criterion codes, most decisive first
    aggregation: Aggregation
    tiers: tuple[TierRule, ...]  # best first, thresholds strictly decreasing
    min_judges: int = 1
    vote_share: Fraction = ZERO
    disagreement_threshold: Number | None = None
    unit: int = 1  # stored units per point (100: hundredths), for the texts people read

    @property
    def total_max(self) -> Number:
        return sum(m for _, m in self.criteria)

    def points(self, value: Number) -> str:
        return number_text(Fraction(value, self.unit))


@dataclass(frozen=True)
class Sheet:
    judge: str
    scores: Mapping[str, Number]

    def total(self, criteria: Iterable[str]) -> Number:
        return sum(self.scores.get(c, 0) for c in criteria)


@dataclass(frozen=True)
class Override:
    tier: str | None  # None: the board gives no prize
    reason: str


@dataclass(frozen=True)
class Candidate:
    entry_id: str
    code: str  # the entry's number: unique, and the last tie-break
    group: str = ""
    sheets: tuple[Sheet, ...] = ()
    votes: int = 0
    override: Override | None = None


# --- outputs -----------------------------------------------------------------------


@dataclass(frozen=True)
class Placement:
    entry_id: str
    code: str
    group: str
    complete: bool
    rank: int | None = None
    judge_totals: tuple[tuple[str, Number], ...] = ()  # by judge name
    judges_score: Fraction | None = None
    criteria_scores: tuple[tuple[str, Fraction], ...] = ()
    votes: int = 0
    community_points: Fraction = ZERO
    final: Fraction | None = None
    spread: Fraction | None = None
    stddev: float | None = None
    look_again: bool = False
    tier_by_rules: str | None = None
    tier: str | None = None
    overridden: bool = False
    tie_broken_by: str | None = None  # the criterion that separated it from the entry above; "code" if none did
    reasons: tuple[Message, ...] = field(default=())


def rank(candidates: Iterable[Candidate], rules: Rules) -> list[Placement]:
    """Every candidate placed: groups in name order, each ranked and given tiers."""
    by_group: dict[str, list[Candidate]] = defaultdict(list)
    for candidate in candidates:
        by_group[candidate.group].append(candidate)
    placed: list[Placement] = []
    for group in sorted(by_group):
        placed.extend(_rank_group(by_group[group], rules))
    return placed


@dataclass
class _Scored:
    candidate: Candidate
    totals: tuple[tuple[str, Number], ...]
    judges_score: Fraction
    criteria: dict[str, Fraction]
    final: Fraction = ZERO
    community: Fraction = ZERO


def _rank_group(candidates: list[Candidate], rules: Rules) -> list[Placement]:
    codes = [c for c, _ in rules.criteria]
    complete: list[Candidate] = []
    incomplete: list[Candidate] = []
    for c in candidates:
        (complete if len(c.sheets) >= max(1, rules.min_judges) else incomplete).append(c)
    incomplete.sort(key=lambda c: c.code)
    scored = [_score(c, codes, rules.aggregation) for c in complete]
    most = max((s.candidate.votes for s in scored), default=0)
    for s in scored:
        s.community = community_points(s.candidate.votes, most, rules.vote_share, rules.total_max)
        s.final = (1 - rules.vote_share) * s.judges_score + s.community
    scored.sort(key=lambda s: (-s.final, *(-s.criteria[c] for c in rules.tie_break), s.candidate.code))
    tiers = _tiers(scored, rules)
    placed = []
    for position, s in enumerate(scored):
        above = scored[position - 1] if position else None
        tie_by, tie_reasons = _tie(s, above, rules.tie_break)
        tier_by_rules, tier, reasons = tiers[position]
        totals = [t for _, t in s.totals]
        gap = spread(totals)
        look_again = rules.disagreement_threshold is not None and gap >= rules.disagreement_threshold
        extra = (MESSAGES("contests.reason.look_again", spread=rules.points(gap)),) if look_again else ()
        placed.append(
            Placement(
                entry_id=s.candidate.entry_id,
                code=s.candidate.code,
                group=s.candidate.group,
                complete=True,
                rank=position + 1,
                judge_totals=s.totals,
                judges_score=s.judges_score,
                criteria_scores=tuple((c, s.criteria[c]) for c in codes),
                votes=s.candidate.votes,
                community_points=s.community,
                final=s.final,
                spread=gap,
                stddev=stddev(totals),
                look_again=look_again,
                tier_by_rules=tier_by_rules,
                tier=tier,
                overridden=s.candidate.override is not None,
                tie_broken_by=tie_by,
                reasons=(*reasons, *tie_reasons, *extra),
            )
        )
    for c in incomplete:
        reason = MESSAGES("contests.reason.incomplete", submitted=len(c.sheets), needed=rules.min_judges)
        placed.append(Placement(c.entry_id, c.code, c.group, complete=False, votes=c.votes, reasons=(reason,)))
    return placed


def _score(candidate: Candidate, codes: list[str], method: Aggregation) -> _Scored:
    sheets = sorted(candidate.sheets, key=lambda s: s.judge)
    totals = tuple((s.judge, s.total(codes)) for s in sheets)
    criteria = {c: aggregate([s.scores.get(c, 0) for s in sheets], method) for c in codes}
    return _Scored(candidate, totals, aggregate([t for _, t in totals], method), criteria)


def _tie(s: _Scored, above: _Scored | None, order: tuple[str, ...]) -> tuple[str | None, tuple[Message, ...]]:
    if above is None or above.final != s.final:
        return None, ()
    for criterion in order:
        if above.criteria[criterion] != s.criteria[criterion]:
            reason = MESSAGES("contests.reason.tie_broken", code=above.candidate.code, criterion=criterion)
            return criterion, (reason,)
    return "code", (MESSAGES("contests.reason.tie_unresolved", code=above.candidate.code),)


def _tiers(scored: list[_Scored], rules: Rules) -> list[tuple[str | None, str | None, tuple[Message, ...]]]:
    """(tier by the rules, tier given, reasons) for each ranked entry, in rank order."""
    taken = Counter(s.candidate.override.tier for s in scored if s.candidate.override and s.candidate.override.tier)
    out: list[tuple[str | None, str | None, tuple[Message, ...]]] = []
    for s in scored:
        override = s.candidate.override
        if override is not None:
            by_threshold = next((t.code for t in rules.tiers if s.final >= t.threshold), None)
            reasons: tuple[Message, ...] = (
                MESSAGES("contests.reason.override", tier=_tier_label(override.tier), reason=override.reason),
                MESSAGES("contests.reason.by_rules", tier=_tier_label(by_threshold)),
            )
            out.append((by_threshold, override.tier, reasons))
            continue
        tier, reasons = _by_rules(s.final, rules, taken)
        out.append((tier, tier, reasons))
    return out


def _by_rules(final: Fraction, rules: Rules, taken: Counter[str]) -> tuple[str | None, tuple[Message, ...]]:
    tiers = rules.tiers
    eligible = next((i for i, t in enumerate(tiers) if final >= t.threshold), None)
    if eligible is None:
        lowest = tiers[-1] if tiers else None
        if lowest is None:
            return None, ()
        reason = MESSAGES(
            "contests.reason.below_threshold", tier=_tier_label(lowest.code), threshold=rules.points(lowest.threshold)
        )
        return None, (reason,)
    reasons: list[Message] = []
    for tier in tiers[eligible:]:
        if tier.quota is None or taken[tier.code] < tier.quota:
            taken[tier.code] += 1
            if not reasons:
                reasons.append(
                    MESSAGES(
                        "contests.reason.reached", tier=_tier_label(tier.code), threshold=rules.points(tier.threshold)
                    )
                )
            return tier.code, tuple(reasons)
        reasons.append(MESSAGES("contests.reason.quota_full", tier=_tier_label(tier.code), quota=tier.quota))
    reasons.append(MESSAGES("contests.reason.no_place_left"))
    return None, tuple(reasons)


def _tier_label(code: str | None) -> Message:
    return Message(f"contests.tier.{code or 'none'}")
