"""The contests service's words, Vietnamese first and English second: labels of
contest kinds, rounds, statuses, prize tiers and school boards; the reasons a
ranking gives; error messages; the words of exports and printed documents."""

from __future__ import annotations

from shared.i18n import Catalogue, Message

MESSAGES = Catalogue(
    {
        # --- kinds, rounds, statuses, tiers, boards ---------------------------------
        "contests.kind.technical": {"vi": "Hội thi Sáng tạo kỹ thuật", "en": "Technical Creativity Contest"},
        "contests.kind.youth": {
            "vi": "Cuộc thi Sáng tạo dành cho Thanh thiếu niên, Nhi đồng",
            "en": "Youth and Children's Creativity Contest",
        },
        "contests.round.registration": {"vi": "Đăng ký dự thi", "en": "Registration"},
        "contests.round.submission": {"vi": "Nộp hồ sơ dự thi", "en": "Submission of documents"},
        "contests.round.screening": {"vi": "Sơ khảo", "en": "Screening"},
        "contests.round.scoring": {"vi": "Chung khảo", "en": "Final scoring"},
        "contests.round.decision": {"vi": "Ban Tổ chức quyết định giải", "en": "Organising board's decision"},
        "contests.round.ceremony": {"vi": "Lễ trao giải", "en": "Award ceremony"},
        "contests.round.forwarding": {"vi": "Gửi dự thi toàn quốc", "en": "Forwarding to the national contest"},
        "contests.status.submitted": {"vi": "Đã nộp", "en": "Submitted"},
        "contests.status.screened_in": {"vi": "Qua sơ khảo", "en": "Screened in"},
        "contests.status.screened_out": {"vi": "Không qua sơ khảo", "en": "Screened out"},
        "contests.status.scored": {"vi": "Đã chấm xong", "en": "Scored"},
        "contests.status.awarded": {"vi": "Đạt giải", "en": "Awarded"},
        "contests.status.not_awarded": {"vi": "Không đạt giải", "en": "Not awarded"},
        "contests.status.forwarded": {"vi": "Đã gửi dự thi toàn quốc", "en": "Forwarded to the national contest"},
        "contests.tier.first": {"vi": "Giải Nhất", "en": "First prize"},
        "contests.tier.second": {"vi": "Giải Nhì", "en": "Second prize"},
        "contests.tier.third": {"vi": "Giải Ba", "en": "Third prize"},
        "contests.tier.honourable": {"vi": "Giải Khuyến khích", "en": "Honourable mention"},
        "contests.tier.none": {"vi": "Không trao giải", "en": "No prize"},
        "contests.board.primary": {"vi": "Bảng Tiểu học", "en": "Primary school board"},
        "contests.board.lower_secondary": {"vi": "Bảng Trung học cơ sở", "en": "Lower secondary board"},
        "contests.board.upper_secondary": {"vi": "Bảng Trung học phổ thông", "en": "Upper secondary board"},
        "contests.aggregation.mean": {"vi": "Trung bình cộng", "en": "Mean"},
        "contests.aggregation.median": {"vi": "Trung vị", "en": "Median"},
        "contests.aggregation.trimmed_mean": {
            "vi": "Trung bình sau khi bỏ điểm cao nhất và thấp nhất (từ 4 giám khảo)",
            "en": "Mean without the highest and lowest (from 4 judges)",
        },
        # --- how a ranking explains itself ------------------------------------------
        "contests.reason.reached": {
            "vi": "Đạt ngưỡng {tier} (từ {threshold} điểm)",
            "en": "Reached the {tier} threshold ({threshold} points)",
        },
        "contests.reason.quota_full": {
            "vi": "Đủ điểm {tier} nhưng {tier} đã đủ {quota} suất: xuống giải dưới",
            "en": "Qualifies for {tier} but its {quota} place(s) are taken: moves down a tier",
        },
        "contests.reason.no_place_left": {
            "vi": "Đủ ngưỡng giải nhưng các giải đã hết suất",
            "en": "Above a threshold, but every tier it qualifies for is full",
        },
        "contests.reason.below_threshold": {
            "vi": "Dưới ngưỡng giải thấp nhất ({tier}: từ {threshold} điểm)",
            "en": "Below the lowest threshold ({tier}: {threshold} points)",
        },
        "contests.reason.override": {
            "vi": "Ban Tổ chức quyết định: {tier}. Lý do: {reason}",
            "en": "The organising board decided: {tier}. Reason: {reason}",
        },
        "contests.reason.by_rules": {"vi": "Theo quy tắc chấm: {tier}", "en": "By the rules: {tier}"},
        "contests.reason.incomplete": {
            "vi": "Chưa đủ phiếu chấm: {submitted}/{needed}",
            "en": "Not enough score sheets: {submitted} of {needed}",
        },
        "contests.reason.tie_broken": {
            "vi": "Bằng tổng điểm với {code}; phân định theo tiêu chí {criterion}",
            "en": "Same total as {code}; separated by the criterion {criterion}",
        },
        "contests.reason.tie_unresolved": {
            "vi": "Bằng điểm với {code} ở mọi tiêu chí: xếp theo mã hồ sơ, Ban Tổ chức cần xem xét",
            "en": "Equal to {code} on every criterion: ordered by entry number, for the board to look at",
        },
        "contests.reason.look_again": {
            "vi": "Giám khảo chấm chênh lệch {spread} điểm: đề nghị xem lại",
            "en": "Judges differ by {spread} points: look again",
        },
    }
)


def label(kind: str, code: str | None) -> dict[str, str]:
    """A label in both languages, e.g. label("tier", "first") → {"vi": "Giải Nhất", "en": "First prize"}."""
    key = f"contests.{kind}.{code or 'none'}"
    return {"vi": Message(key).render("vi"), "en": Message(key).render("en")}


def text(key: str, lang: str = "vi", **params: object) -> str:
    return MESSAGES.text(f"contests.{key}", lang, **params)
