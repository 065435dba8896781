"""The membership service's message catalogue: why an import row was refused, in
Vietnamese (default) and English. Reports store the code and its parameters; the
text is rendered in the reader's language when the report is read."""

from __future__ import annotations

from typing import Any

CATALOGUE: dict[str, dict[str, str]] = {
    "name_missing": {"vi": "Thiếu họ và tên", "en": "The full name is missing"},
    "name_too_long": {
        "vi": "Họ và tên quá dài (tối đa 200 ký tự)",
        "en": "The full name is too long (200 characters at most)",
    },
    "email_invalid": {"vi": "Địa chỉ email không hợp lệ: {value}", "en": "Not a valid email address: {value}"},
    "phone_invalid": {"vi": "Số điện thoại không hợp lệ: {value}", "en": "Not a valid phone number: {value}"},
    "date_invalid": {
        "vi": "Ngày không hợp lệ: {value} (dạng ngày/tháng/năm, ví dụ 27/09/1986)",
        "en": "Not a valid date: {value} (day/month/year, e.g. 27/09/1986)",
    },
    "date_future": {"vi": "Ngày sinh ở tương lai: {value}", "en": "The date of birth is in the future: {value}"},
    "gender_unknown": {
        "vi": "Giới tính không rõ: {value} (Nam, Nữ hoặc Khác)",
        "en": "Unknown gender: {value} (male, female or other)",
    },
    "title_unknown": {"vi": "Học hàm, học vị không rõ: {value}", "en": "Unknown title or degree: {value}"},
    "language_unknown": {"vi": "Ngôn ngữ không rõ: {value} (vi hoặc en)", "en": "Unknown language: {value} (vi or en)"},
    "organization_unknown": {"vi": "Không có đơn vị mã {value}", "en": "No organisation has the code {value}"},
    "organization_forbidden": {
        "vi": "Bạn không quản lý đơn vị {value}",
        "en": "You do not manage the organisation {value}",
    },
    "duplicate_email": {
        "vi": "Email đã thuộc về hội viên khác: {member_name} (mã {member_id})",
        "en": "The email already belongs to another member: {member_name} (id {member_id})",
    },
    "duplicate_phone": {
        "vi": "Số điện thoại đã thuộc về hội viên khác: {member_name} (mã {member_id})",
        "en": "The phone number already belongs to another member: {member_name} (id {member_id})",
    },
    "member_erased": {"vi": "Hội viên này đã bị xoá dữ liệu cá nhân", "en": "This member's personal data was erased"},
    "code_invalid": {"vi": "Mã đơn vị không hợp lệ: {value}", "en": "Not a valid organisation code: {value}"},
    "kind_unknown": {"vi": "Loại đơn vị không rõ: {value}", "en": "Unknown kind of organisation: {value}"},
    "parent_unknown": {
        "vi": "Không có đơn vị cấp trên mã {value}",
        "en": "No parent organisation has the code {value}",
    },
    "placement_invalid": {
        "vi": "Không thể đặt đơn vị ở đây: {detail}",
        "en": "Cannot place the organisation here: {detail}",
    },
    "value_missing": {"vi": "Thiếu giá trị", "en": "The value is missing"},
    "columns_missing": {"vi": "Tệp thiếu cột bắt buộc: {value}", "en": "The file lacks a required column: {value}"},
    "file_unreadable": {"vi": "Không đọc được tệp: {value}", "en": "The file cannot be read: {value}"},
}


def render(code: str, lang: str = "vi", **params: Any) -> str:
    """The message for `code` in `lang` (vi or en), with its parameters filled in."""
    entry = CATALOGUE.get(code)
    if entry is None:
        return code
    template = entry.get(lang) or entry["vi"]
    try:
        return template.format(**{k: ("" if v is None else v) for k, v in params.items()})
    except (KeyError, IndexError):
        return template
