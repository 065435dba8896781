"""User-facing words of the events service, in Vietnamese (default) and English.

Problems (titles and details, rendered in the reader's language by the HTTP layer),
calendar entries, certificates and export headers read from here, never from
strings scattered through the code.
"""

from __future__ import annotations

from shared.i18n import Catalogue

MESSAGES = Catalogue(
    {
        "events.kind.seminar": {"vi": "Hội thảo", "en": "Seminar"},
        "events.kind.training": {"vi": "Tập huấn", "en": "Training"},
        "events.kind.conference": {"vi": "Hội nghị", "en": "Conference"},
        # problems: titles
        "events.no_event": {"vi": "Không có sự kiện này", "en": "No event with this id"},
        "events.no_registration": {"vi": "Không có đăng ký này", "en": "No registration with this id"},
        "events.no_ticket": {"vi": "Không có vé với mã này", "en": "No ticket with this code"},
        "events.no_certificate": {"vi": "Không có giấy chứng nhận với mã này", "en": "No certificate with this code"},
        "events.unknown_organization": {"vi": "Không có tổ chức này", "en": "No such organisation"},
        "events.unknown_organization.detail": {
            "vi": "Dịch vụ sự kiện không biết tổ chức có mã hoặc định danh {value}",
            "en": "No organisation with id or code {value} is known to the events service",
        },
        "events.outside_your_organization": {
            "vi": "Sự kiện do tổ chức ngoài phạm vi của bạn tổ chức",
            "en": "The event is organised outside your organisation",
        },
        "events.outside_your_organization.detail": {
            "vi": "Bạn chỉ quản lý sự kiện của tổ chức mình và các tổ chức trực thuộc",
            "en": "You manage events of your own organisation and those below it",
        },
        "events.capacity_below_confirmed": {
            "vi": "Sức chứa không thể nhỏ hơn số chỗ đã xác nhận",
            "en": "Capacity cannot fall below the seats already confirmed",
        },
        "events.capacity_below_confirmed.detail": {
            "vi": "{confirmed} người đã có chỗ; hãy huỷ bớt đăng ký trước",
            "en": "{confirmed} people hold confirmed seats; cancel registrations first",
        },
        "events.changed_meanwhile": {
            "vi": "Dữ liệu vừa thay đổi; hãy tải lại và thử lại",
            "en": "It changed meanwhile; load it again and retry",
        },
        "events.already_over": {"vi": "Sự kiện đã kết thúc", "en": "The event is already over"},
        "events.invalid_transition": {
            "vi": "Sự kiện không thể chuyển sang trạng thái đó",
            "en": "The event cannot move to that state",
        },
        "events.invalid_transition.detail": {
            "vi": "Sự kiện đang ở trạng thái {status} không thể {action}",
            "en": "An event that is {status} cannot {action}",
        },
        "events.event_finished": {"vi": "Sự kiện đã kết thúc hoặc đã huỷ", "en": "The event is completed or cancelled"},
        "events.event_finished.detail": {
            "vi": "Sự kiện ở trạng thái {status} không thể thay đổi",
            "en": "A {status} event cannot be changed",
        },
        "events.registration_not_open": {
            "vi": "Sự kiện không nhận đăng ký lúc này",
            "en": "The event does not take registrations now",
        },
        "events.audience_restricted": {"vi": "Sự kiện không dành cho bạn", "en": "This event is not open to you"},
        "events.unknown_member": {"vi": "Không có hội viên này", "en": "No such member"},
        "events.unknown_member.detail": {
            "vi": "Dịch vụ sự kiện chưa biết hội viên có mã này",
            "en": "No member with this id is known to the events service yet",
        },
        "events.duplicate_registration": {"vi": "Đã đăng ký rồi", "en": "Already registered"},
        "events.duplicate_registration.detail": {
            "vi": "Người này đã đăng ký sự kiện này",
            "en": "This person is already registered for this event",
        },
        "events.registration_already_cancelled": {
            "vi": "Đăng ký đã được huỷ",
            "en": "The registration is already cancelled",
        },
        "events.already_checked_in.title": {"vi": "Đã điểm danh", "en": "Already checked in"},
        "events.ticket_not_valid": {"vi": "Vé không dùng để điểm danh được", "en": "This ticket cannot be checked in"},
        "events.unknown_session": {"vi": "Không có phiên này", "en": "No such session"},
        "events.unknown_session.detail": {
            "vi": "Sự kiện không có phiên {session}",
            "en": "The event has no session {session}",
        },
        "events.not_a_training": {
            "vi": "Chỉ cấp giấy chứng nhận cho khoá tập huấn đã hoàn thành",
            "en": "Certificates are issued for completed trainings only",
        },
        "events.invalid_link": {"vi": "Liên kết không hợp lệ", "en": "This link is not valid"},
        "events.invalid_cancel_link": {
            "vi": "Liên kết huỷ bị hỏng hoặc thuộc về đăng ký khác",
            "en": "The cancellation link is damaged or belongs to another registration",
        },
        "events.invalid_calendar_link": {"vi": "Liên kết lịch bị hỏng", "en": "The calendar link is damaged"},
        "events.title_required": {"vi": "Cần có tiêu đề tiếng Việt", "en": "the Vietnamese title is required"},
        "events.idempotency_key": {
            "vi": "1 đến 128 chữ cái, chữ số hoặc - _ . :",
            "en": "1 to 128 letters, digits or - _ . :",
        },
        "events.font_missing": {
            "vi": "Máy chủ này không in được giấy chứng nhận",
            "en": "Certificates cannot be printed on this server",
        },
        "events.font_missing.detail": {
            "vi": "Chưa cài phông Unicode TrueType; đặt EVENTS_CERTIFICATE_FONT hoặc cài fonts-dejavu-core",
            "en": "No Unicode TrueType font is installed; set EVENTS_CERTIFICATE_FONT or install fonts-dejavu-core",
        },
        # details people read at the door and when registering
        "events.already_checked_in": {
            "vi": "Vé này đã được điểm danh lúc {when}",
            "en": "This ticket was already checked in at {when}",
        },
        "events.not_confirmed": {
            "vi": "Vé không hợp lệ để điểm danh: đăng ký đang ở trạng thái {status}",
            "en": "This ticket cannot be checked in: the registration is {status}",
        },
        "events.already_cancelled": {
            "vi": "Đăng ký này đã được huỷ lúc {when}",
            "en": "This registration was already cancelled at {when}",
        },
        "events.members_only": {"vi": "Sự kiện chỉ dành cho hội viên", "en": "This event is for members only"},
        "events.organizations_only": {
            "vi": "Sự kiện chỉ dành cho hội viên của các tổ chức được mời",
            "en": "This event is for members of the invited organisations only",
        },
        "events.not_open.status": {
            "vi": "Sự kiện không nhận đăng ký (trạng thái: {status})",
            "en": "The event does not take registrations (status: {status})",
        },
        "events.not_open.early": {
            "vi": "Chưa đến thời gian đăng ký (mở lúc {when})",
            "en": "Registration has not opened yet (opens at {when})",
        },
        "events.not_open.late": {
            "vi": "Đã hết thời gian đăng ký (đóng lúc {when})",
            "en": "Registration has closed (closed at {when})",
        },
        "events.certificate.title": {"vi": "GIẤY CHỨNG NHẬN", "en": "CERTIFICATE OF ATTENDANCE"},
        "events.certificate.certifies": {"vi": "Chứng nhận Ông/Bà", "en": "This certifies that"},
        "events.certificate.attended": {"vi": "đã tham gia {kind}", "en": "attended the {kind}"},
        "events.certificate.when": {"vi": "Thời gian: {start} – {end}", "en": "Dates: {start} – {end}"},
        "events.certificate.hours": {"vi": "Số giờ được tính: {hours}", "en": "Hours credited: {hours}"},
        "events.certificate.code": {"vi": "Mã xác thực: {code}", "en": "Verification code: {code}"},
        "events.certificate.verify": {"vi": "Kiểm tra tại: {url}", "en": "Verify at: {url}"},
        "events.ics.online": {"vi": "Tham gia trực tuyến: {url}", "en": "Join online: {url}"},
        "events.ics.ticket": {"vi": "Mã vé: {code}", "en": "Ticket code: {code}"},
        "events.erased_name": {"vi": "(đã xoá theo yêu cầu)", "en": "(erased on request)"},
    }
)

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
    """A message rendered now (documents, calendars): `key` without the `events.` prefix."""
    return MESSAGES.text(f"events.{key}", language, **values)
