"""An edition's rules: the Vietnamese defaults of each contest, and the checks that
keep an edition's configuration coherent. Pure; points in hundredths.

The defaults follow the federation's practice: the Technical Creativity Contest
scores novelty, applicability and socio-economic effectiveness over six fields;
the Youth and Children's contest adds presentation and aesthetics, over five
fields, with boards by school level. Prize tiers are Nhất, Nhì, Ba and Khuyến
khích with thresholds, quotas and prize money. Every edition may change them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from services.contests.catalogue import MESSAGES
from shared.errors import FieldError, Invalid

TIER_ORDER = ("first", "second", "third", "honourable")
BOARDS = ("primary", "lower_secondary", "upper_secondary")
MAX_VOTE_SHARE_PERMILLE = 500


def _pts(hundredths: int) -> str:
    return f"{hundredths / 100:g}"


def _text(vi: str, en: str) -> dict[str, str]:
    return {"vi": vi, "en": en}


def _level(frm: int, to: int, vi: str, en: str) -> dict[str, Any]:
    return {"points_from": frm * 100, "points_to": to * 100, "description": _text(vi, en)}


def _criterion(code: str, vi: str, en: str, max_points: int, levels: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return {"code": code, "name": _text(vi, en), "max_points": max_points * 100, "levels": levels}


TECHNICAL_FIELDS = [
    {"code": "it", "name": _text("Công nghệ thông tin, Điện tử, Viễn thông", "IT, electronics and telecoms")},
    {
        "code": "mechanics",
        "name": _text(
            "Cơ khí, Tự động hóa, Xây dựng, Giao thông vận tải", "Mechanics, automation, construction, transport"
        ),
    },
    {"code": "materials", "name": _text("Vật liệu, Hóa chất, Năng lượng", "Materials, chemistry and energy")},
    {
        "code": "agriculture",
        "name": _text("Nông – Lâm – Ngư nghiệp, Môi trường", "Agriculture, forestry, fisheries and environment"),
    },
    {"code": "health", "name": _text("Y – Dược", "Medicine and pharmacy")},
    {"code": "education", "name": _text("Giáo dục và Đào tạo", "Education and training")},
]
YOUTH_FIELDS = [
    {"code": "learning_aids", "name": _text("Đồ dùng học tập, giảng dạy", "Learning and teaching aids")},
    {"code": "models", "name": _text("Mô hình, đồ chơi", "Models and toys")},
    {"code": "daily_life", "name": _text("Sản phẩm, giải pháp ứng dụng trong đời sống", "Products for daily life")},
    {"code": "software", "name": _text("Phần mềm tin học", "Software")},
    {"code": "ideas", "name": _text("Ý tưởng sáng tạo (tranh vẽ, mô tả)", "Creative ideas (drawings, descriptions)")},
]


def _novelty(max_points: int) -> dict[str, Any]:
    third = max_points // 3
    return _criterion(
        "novelty",
        "Tính mới, tính sáng tạo",
        "Novelty and creativity",
        max_points,
        [
            _level(0, third, "Cải tiến nhỏ so với giải pháp đã có", "A small improvement on what exists"),
            _level(third, 2 * third, "Cải tiến đáng kể, có yếu tố mới", "A real improvement with new elements"),
            _level(2 * third, max_points, "Hoàn toàn mới, chưa được công bố", "Entirely new, never published"),
        ],
    )


def _applicability(max_points: int) -> dict[str, Any]:
    half = max_points // 2
    return _criterion(
        "applicability",
        "Khả năng áp dụng",
        "Applicability",
        max_points,
        [
            _level(0, half, "Áp dụng trong phạm vi hẹp", "Applied in a narrow setting"),
            _level(half, max_points, "Áp dụng rộng rãi, dễ nhân rộng", "Widely applicable and easy to replicate"),
        ],
    )


def _effectiveness(max_points: int) -> dict[str, Any]:
    half = max_points // 2
    return _criterion(
        "effectiveness",
        "Hiệu quả kinh tế – xã hội",
        "Socio-economic effectiveness",
        max_points,
        [
            _level(0, half, "Có hiệu quả, chưa lượng hóa được", "Effective, not yet measured"),
            _level(half, max_points, "Hiệu quả rõ rệt, lượng hóa được", "Clearly effective and measured"),
        ],
    )


def _tiers(prizes: Sequence[int]) -> list[dict[str, Any]]:
    thresholds, quotas = (85, 75, 65, 50), (1, 2, 3, 5)
    return [
        {"code": code, "threshold": t * 100, "quota": q, "prize_vnd": p}
        for code, t, q, p in zip(TIER_ORDER, thresholds, quotas, prizes, strict=True)
    ]


def defaults(kind: str) -> dict[str, Any]:
    """An edition's rules when staff give none: the contest's usual ones."""
    if kind == "youth":
        presentation = _criterion(
            "presentation",
            "Trình bày, thẩm mỹ",
            "Presentation and aesthetics",
            20,
            [_level(0, 10, "Trình bày chưa rõ ràng", "Unclear"), _level(10, 20, "Rõ ràng, đẹp", "Clear and well made")],
        )
        criteria = [_novelty(35), _applicability(25), _effectiveness(20), presentation]
        return {
            "fields": YOUTH_FIELDS,
            "criteria": criteria,
            "tie_break": ["novelty", "applicability", "effectiveness", "presentation"],
            "tiers": _tiers((5_000_000, 3_000_000, 2_000_000, 1_000_000)),
            "rank_by": ["board"],
            "eligibility": {
                "age_min": 6,
                "age_max": 18,
                "age_cutoff": None,
                "boards": list(BOARDS),
                "supervisor_required": True,
            },
        }
    return {
        "fields": TECHNICAL_FIELDS,
        "criteria": [_novelty(30), _applicability(30), _effectiveness(40)],
        "tie_break": ["novelty", "effectiveness", "applicability"],
        "tiers": _tiers((20_000_000, 15_000_000, 10_000_000, 5_000_000)),
        "rank_by": [],
        "eligibility": {"applied_since": None},
    }


def check(kind: str, rules: Mapping[str, Any]) -> dict[str, Any]:
    """The rules normalised (tie-break order completed with the criteria's order); Invalid (422) naming each fault."""
    errors: list[FieldError] = []
    _unique(rules["fields"], "fields", errors)
    criteria = rules["criteria"]
    _unique(criteria, "criteria", errors)
    for i, criterion in enumerate(criteria):
        for j, level in enumerate(criterion["levels"]):
            if not 0 <= level["points_from"] <= level["points_to"] <= criterion["max_points"]:
                message = MESSAGES("contests.rule.level_range", max=_pts(criterion["max_points"]))
                errors.append(FieldError(f"criteria.{i}.levels.{j}", message, "level_range"))
    codes = [c["code"] for c in criteria]
    tie_break = list(dict.fromkeys(rules["tie_break"]))
    for i, code in enumerate(rules["tie_break"]):
        if code not in codes:
            errors.append(
                FieldError(f"tie_break.{i}", MESSAGES("contests.rule.unknown_criterion", code=code), "unknown")
            )
    normalised = {**rules, "tie_break": [*tie_break, *(c for c in codes if c not in tie_break)]}
    _check_tiers(rules["tiers"], sum(c["max_points"] for c in criteria), errors)
    if rules["min_judges"] > rules["judges_per_entry"]:
        errors.append(FieldError("min_judges", MESSAGES("contests.rule.judges"), "judges"))
    _check_eligibility(kind, rules, errors)
    if errors:
        raise Invalid(*errors)
    return normalised


def _unique(items: Sequence[Mapping[str, Any]], name: str, errors: list[FieldError]) -> None:
    if not items:
        errors.append(FieldError(name, MESSAGES("contests.rule.not_empty"), "empty"))
    seen: set[str] = set()
    for i, item in enumerate(items):
        if item["code"] in seen:
            errors.append(
                FieldError(f"{name}.{i}.code", MESSAGES("contests.rule.duplicate", code=item["code"]), "duplicate")
            )
        seen.add(item["code"])


def _check_tiers(tiers: Sequence[Mapping[str, Any]], total_max: int, errors: list[FieldError]) -> None:
    _unique(tiers, "tiers", errors)
    positions = [TIER_ORDER.index(t["code"]) for t in tiers]
    if positions != sorted(positions):
        errors.append(FieldError("tiers", MESSAGES("contests.rule.tier_order"), "tier_order"))
    for i, tier in enumerate(tiers):
        if tier["threshold"] > total_max:
            message = MESSAGES("contests.rule.threshold_max", max=_pts(total_max))
            errors.append(FieldError(f"tiers.{i}.threshold", message, "threshold_max"))
        if i and tier["threshold"] >= tiers[i - 1]["threshold"]:
            errors.append(
                FieldError(f"tiers.{i}.threshold", MESSAGES("contests.rule.threshold_order"), "threshold_order")
            )


def _check_eligibility(kind: str, rules: Mapping[str, Any], errors: list[FieldError]) -> None:
    rule = rules["eligibility"]
    if kind != "youth":
        if "board" in rules["rank_by"]:
            errors.append(FieldError("rank_by", MESSAGES("contests.rule.youth_only"), "youth_only"))
        return
    if rule.get("age_min", 6) > rule.get("age_max", 18):
        errors.append(FieldError("eligibility.age_min", MESSAGES("contests.rule.ages"), "ages"))
    if not rule.get("boards"):
        errors.append(FieldError("eligibility.boards", MESSAGES("contests.rule.required_for_youth"), "required"))


def check_sheet(criteria: Sequence[Mapping[str, Any]], scores: dict[str, int], *, complete: bool) -> None:
    """A judge's scores fit the criteria (each within its maximum; all of them to submit)."""
    maxima = {c["code"]: c["max_points"] for c in criteria}
    errors = [
        FieldError(f"scores.{code}", MESSAGES("contests.sheet.unknown"), "unknown")
        for code in scores
        if code not in maxima
    ]
    for code, points in scores.items():
        if code in maxima and points > maxima[code]:
            errors.append(FieldError(f"scores.{code}", MESSAGES("contests.sheet.over", max=_pts(maxima[code])), "over"))
    if complete:
        errors.extend(
            FieldError(f"scores.{code}", MESSAGES("contests.sheet.missing"), "missing")
            for code in maxima
            if code not in scores
        )
    if errors:
        raise Invalid(*errors)
