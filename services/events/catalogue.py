"""User-facing words of the events service, in Vietnamese (default) and English.

Problem details, calendar entries, certificates and export headers read from here,
never from strings scattered through the code.
"""

from __future__ import annotations

from typing import Literal

Language = Literal["vi", "en"]

MESSAGES: dict[str, dict[str, str]] = {
    "kind.seminar": {"vi": "Hội thảo", "en": "Seminar"},
    "kind.training": {"vi": "Tập huấn", "en": "Training"},
    "kind.conference": {"vi": "Hội nghị", "en": "Conference"},
    "already_checked_in": {
        "vi": "Vé này đã được điểm danh lúc {when}",
        "en": "This ticket was already checked in at {when}",
    },
    "not_confirmed": {
        "vi": "Vé không hợp lệ để điểm danh: đăng ký đang ở trạng thái {status}",
        "en": "This ticket cannot be checked in: the registration is {status}",
    },
    "already_cancelled": {
        "vi": "Đăng ký này đã được huỷ lúc {when}",
        "en": "This registration was already cancelled at {when}",
    },
    "members_only": {"vi": "Sự kiện chỉ dành cho hội viên", "en": "This event is for members only"},
    "organizations_only": {
        "vi": "Sự kiện chỉ dành cho hội viên của các tổ chức được mời",
        "en": "This event is for members of the invited organisations only",
    },
    "not_open.status": {
        "vi": "Sự kiện không nhận đăng ký (trạng thái: {status})",
        "en": "The event does not take registrations (status: {status})",
    },
    "not_open.early": {
        "vi": "Chưa đến thời gian đăng ký (mở lúc {when})",
        "en": "Registration has not opened yet (opens at {when})",
    },
    "not_open.late": {
        "vi": "Đã hết thời gian đăng ký (đóng lúc {when})",
        "en": "Registration has closed (closed at {when})",
    },
    "certificate.title": {"vi": "GIẤY CHỨNG NHẬN", "en": "CERTIFICATE OF ATTENDANCE"},
    "certificate.certifies": {"vi": "Chứng nhận Ông/Bà", "en": "This certifies that"},
    "certificate.attended": {"vi": "đã tham gia {kind}", "en": "attended the {kind}"},
    "certificate.when": {"vi": "Thời gian: {start} – {end}", "en": "Dates: {start} – {end}"},
    "certificate.hours": {"vi": "Số giờ được tính: {hours}", "en": "Hours credited: {hours}"},
    "certificate.code": {"vi": "Mã xác thực: {code}", "en": "Verification code: {code}"},
    "certificate.verify": {"vi": "Kiểm tra tại: {url}", "en": "Verify at: {url}"},
    "ics.online": {"vi": "Tham gia trực tuyến: {url}", "en": "Join online: {url}"},
    "ics.ticket": {"vi": "Mã vé: {code}", "en": "Ticket code: {code}"},
    "erased_name": {"vi": "(đã xoá theo yêu cầu)", "en": "(erased on request)"},
}

EXPORT_COLUMNS: dict[str, list[str]] = {
    "registrations": [
        "Mã đăng ký",
        "Trạng thái",
        "Họ và tên",
        "Email",
        "Điện thoại",
        "Mã hội viên",
        "Mã vé",
        "Thứ tự chờ",
        "Đăng ký lúc",
        "Huỷ lúc",
        "Điểm danh",
    ],
    "attendance": ["Mã đăng ký", "Họ và tên", "Email", "Điện thoại", "Mã hội viên", "Mã vé", "Phiên", "Điểm danh lúc"],
}

STATUS_WORDS: dict[str, str] = {"confirmed": "Đã xác nhận", "waitlisted": "Danh sách chờ", "cancelled": "Đã huỷ"}


def text(key: str, language: str = "vi", **values: object) -> str:
    entry = MESSAGES[key]
    return entry.get(language, entry["vi"]).format(**values)
