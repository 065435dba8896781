"""The membership service's words, Vietnamese first and English second: why an import
row was refused (reports store the code and its parameters; the text is rendered in
the reader's language when the report is read), and every problem the service answers
(title, detail, field message)."""

from __future__ import annotations

from typing import Any

from shared.i18n import Catalogue, Message

# Why an import row (or file) was refused: code → texts. The code is what reports store.
ROW_REASONS: dict[str, dict[str, str]] = {
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
    "taken_email": {
        "vi": "Email đã được dùng cho một hội viên ngoài đơn vị bạn quản lý",
        "en": "The email is already used by a member outside the organisations you manage",
    },
    "taken_phone": {
        "vi": "Số điện thoại đã được dùng cho một hội viên ngoài đơn vị bạn quản lý",
        "en": "The phone number is already used by a member outside the organisations you manage",
    },
    "member_elsewhere": {
        "vi": "Hội viên này đã thuộc một đơn vị ngoài phạm vi bạn quản lý",
        "en": "This member already belongs to an organisation outside the ones you manage",
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
    "file_too_large_unpacked": {
        "vi": "Tệp XLSX khi giải nén vượt quá {limit} byte",
        "en": "The XLSX file unpacks to more than {limit} bytes",
    },
    "too_many_strings": {
        "vi": "Tệp XLSX có quá nhiều chuỗi ký tự (tối đa {limit})",
        "en": "The XLSX file holds too many strings ({limit} at most)",
    },
}

MESSAGES = Catalogue(
    {
        **{f"membership.row.{code}": texts for code, texts in ROW_REASONS.items()},
        # --- problems: titles ---------------------------------------------------------------
        "membership.duplicate_member": {"vi": "Hội viên đã tồn tại", "en": "Member already exists"},
        "membership.duplicate_organization": {
            "vi": "Đã có đơn vị với mã này",
            "en": "An organisation with this code exists",
        },
        "membership.organization_in_use": {
            "vi": "Đơn vị vẫn còn đơn vị trực thuộc hoặc hội viên",
            "en": "The organisation still has sub-organisations or members",
        },
        "membership.invalid_placement": {
            "vi": "Không được đặt đơn vị ở vị trí này trong cây",
            "en": "That place in the tree is not allowed",
        },
        "membership.unknown_organization": {"vi": "Không có đơn vị này", "en": "No such organisation"},
        "membership.invalid_transition": {
            "vi": "Không thực hiện được ở trạng thái hiện tại của hội viên",
            "en": "Not possible in the member's current status",
        },
        "membership.invalid_term": {"vi": "Nhiệm kỳ không hợp lệ", "en": "Impossible term"},
        "membership.concurrent_change": {"vi": "Dữ liệu vừa bị thay đổi", "en": "Changed meanwhile"},
        "membership.not_yours": {
            "vi": "Ngoài các đơn vị bạn quản lý",
            "en": "Outside the organisations you manage",
        },
        "membership.unreadable_file": {"vi": "Không đọc được tệp", "en": "Unreadable file"},
        "membership.send_a_file": {"vi": "Hãy gửi tệp CSV hoặc XLSX", "en": "Send a CSV or XLSX file"},
        "membership.file_too_large": {"vi": "Tệp quá lớn", "en": "File too large"},
        # --- problems: details ----------------------------------------------------------------
        "membership.no_member": {"vi": "Không có hội viên mã {id}", "en": "No member with id {id}"},
        "membership.no_organization": {"vi": "Không có đơn vị mã {id}", "en": "No organisation with id {id}"},
        "membership.no_parent": {
            "vi": "Không có đơn vị cấp trên mã {id}",
            "en": "No parent organisation with id {id}",
        },
        "membership.no_import": {"vi": "Không có lần nhập mã {id}", "en": "No import with id {id}"},
        "membership.taken": {
            "vi": "Đã có hội viên khác dùng {field} này",
            "en": "Another member already has this {field}",
        },
        "membership.code_taken": {"vi": "Mã {code} đã được dùng", "en": "The code {code} is taken"},
        "membership.in_use": {
            "vi": "Hãy chuyển hoặc giải thể các đơn vị trực thuộc và hội viên trước",
            "en": "Move or dissolve its sub-organisations and members first",
        },
        "membership.needs_parent": {
            "vi": "Đơn vị loại {kind} cần có đơn vị cấp trên ({allowed})",
            "en": "A {kind} needs a parent ({allowed})",
        },
        "membership.root_taken": {
            "vi": "Gốc của cây đã là một liên hiệp",
            "en": "There is already a federation at the root",
        },
        "membership.wrong_parent": {
            "vi": "Đơn vị loại {kind} không thể đặt dưới {parent_kind}; chỉ đặt dưới {expected}",
            "en": "A {kind} cannot sit under a {parent_kind}; it sits under {expected}",
        },
        "membership.under_itself": {
            "vi": "Không thể chuyển đơn vị vào dưới chính nó hoặc đơn vị trực thuộc của nó",
            "en": "An organisation cannot move under itself or one of its own sub-organisations",
        },
        "membership.kind_fixed": {
            "vi": "{code} là đơn vị loại {kind}; loại đơn vị không đổi được",
            "en": "{code} is a {kind}; a kind never changes",
        },
        "membership.place_inside_yours": {
            "vi": "Hãy xếp hội viên vào một đơn vị bạn quản lý",
            "en": "Place the member in an organisation you manage",
        },
        "membership.add_inside_yours": {
            "vi": "Bạn chỉ thêm được đơn vị bên trong đơn vị của mình",
            "en": "You can add organisations only inside your own",
        },
        "membership.change_inside_yours": {
            "vi": "Bạn chỉ thay đổi được các đơn vị của mình",
            "en": "You can change only your own organisations",
        },
        "membership.move_inside_yours": {
            "vi": "Bạn chỉ chuyển được đơn vị bên trong đơn vị của mình",
            "en": "You can move organisations only inside your own",
        },
        "membership.cannot": {
            "vi": "Không thể {action} hội viên đang ở trạng thái {status}",
            "en": "Cannot {action} a member who is {status}",
        },
        "membership.erased_member": {
            "vi": "Dữ liệu cá nhân của hội viên này đã bị xoá",
            "en": "This member's personal data was erased",
        },
        "membership.term_backwards": {
            "vi": "Nhiệm kỳ kết thúc trước khi bắt đầu",
            "en": "The term would end before it starts",
        },
        "membership.changed_meanwhile": {
            "vi": "Hội viên vừa được thay đổi; hãy đọc lại và thử lại",
            "en": "The member changed meanwhile; read it again and retry",
        },
        "membership.not_a_cursor": {
            "vi": "Không phải con trỏ trang do API này trả về",
            "en": "Not a cursor this API gave",
        },
        "membership.media_types": {
            "vi": "Content-Type phải là một trong {types} hoặc multipart/form-data",
            "en": "Content-Type must be one of {types} or multipart/form-data",
        },
        "membership.file_empty": {"vi": "Tệp rỗng", "en": "The file is empty"},
        "membership.file_limit": {
            "vi": "Tệp tối đa {limit} byte",
            "en": "The file may be at most {limit} bytes",
        },
        "membership.field.email": {"vi": "email", "en": "email"},
        "membership.field.phone": {"vi": "số điện thoại", "en": "phone"},
        "membership.kind.federation": {"vi": "liên hiệp", "en": "federation"},
        "membership.kind.association": {"vi": "hội", "en": "association"},
        "membership.kind.centre": {"vi": "trung tâm", "en": "centre"},
        "membership.kind.branch": {"vi": "chi hội", "en": "branch"},
        "membership.kind.enterprise": {"vi": "doanh nghiệp", "en": "enterprise"},
        "membership.action.approve": {"vi": "duyệt", "en": "approve"},
        "membership.action.reject": {"vi": "từ chối", "en": "reject"},
        "membership.action.suspend": {"vi": "tạm dừng", "en": "suspend"},
        "membership.action.reinstate": {"vi": "khôi phục", "en": "reinstate"},
        "membership.action.resign": {"vi": "ghi nhận thôi tham gia cho", "en": "record the resignation of"},
        "membership.action.lapse": {"vi": "cho hết hạn", "en": "lapse"},
        "membership.action.renew": {"vi": "gia hạn", "en": "renew"},
        "membership.status.applied": {"vi": "đang xin gia nhập", "en": "applied"},
        "membership.status.active": {"vi": "đang hoạt động", "en": "active"},
        "membership.status.suspended": {"vi": "tạm dừng", "en": "suspended"},
        "membership.status.lapsed": {"vi": "hết hạn", "en": "lapsed"},
        "membership.status.resigned": {"vi": "đã thôi", "en": "resigned"},
        "membership.status.rejected": {"vi": "bị từ chối", "en": "rejected"},
        "membership.status.erased": {"vi": "đã xoá dữ liệu", "en": "erased"},
        # --- exports -------------------------------------------------------------------------
        "membership.sheet.members": {"vi": "Hội viên", "en": "Members"},
        "membership.sheet.rejected": {"vi": "Dòng bị từ chối", "en": "Rejected rows"},
        "membership.column.line": {"vi": "Dòng", "en": "Line"},
        "membership.column.reason": {"vi": "Lý do", "en": "Reason"},
    }
)


def reason(code: str, lang: str = "vi", **params: Any) -> str:
    """Why a row was refused, in `lang`; the code itself if it is not ours."""
    key = f"membership.row.{code}"
    return MESSAGES.text(key, lang, **params) if key in MESSAGES.keys else code


def kind(name: str) -> Message:
    return MESSAGES(f"membership.kind.{name}")


def action(name: str) -> Message:
    return MESSAGES(f"membership.action.{name}")


def status(name: str) -> Message:
    return MESSAGES(f"membership.status.{name}")
