"""Words staff and members read in the notifications service's answers, in
Vietnamese (the default) and English (shared/i18n.py picks by Accept-Language)."""

from __future__ import annotations

from shared.i18n import Catalogue

MESSAGES = Catalogue(
    {
        "notifications.no_such_template": {"vi": "Không có mẫu này", "en": "No such template"},
        "notifications.template_changed": {
            "vi": "Mẫu đã được người khác sửa trong lúc đó",
            "en": "The template was changed meanwhile",
        },
        "notifications.invalid_template": {"vi": "Không dùng được mẫu này", "en": "The template cannot be used"},
        "notifications.invalid_template.detail": {
            "vi": "Có {count} lỗi khi thử với dữ liệu mẫu",
            "en": "{count} problem(s) found with sample data",
        },
        "notifications.template_too_slow": {
            "vi": "Mẫu cần quá nhiều thời gian hoặc tạo ra văn bản quá dài",
            "en": "The template takes too long to render or renders too much text",
        },
        "notifications.no_such_delivery": {"vi": "Không có lần gửi này", "en": "No such delivery"},
        "notifications.not_replayable": {
            "vi": "Chỉ gửi lại được lần gửi đã hỏng hoặc bị từ chối (của người chưa bị xoá dữ liệu)",
            "en": "Only a dead-lettered or failed delivery (of someone not erased) can be replayed",
        },
        "notifications.no_such_handler": {"vi": "Không có bộ xử lý này", "en": "No such handler"},
        "notifications.service_needs_a_channel": {
            "vi": "Tin dịch vụ phải bật ít nhất một kênh",
            "en": "service messages must stay on for at least one channel",
        },
        "notifications.invalid_link": {
            "vi": "Liên kết huỷ đăng ký này không hợp lệ",
            "en": "This unsubscribe link is not valid",
        },
        "notifications.invalid_link.detail": {
            "vi": "Liên kết có thể đã bị cắt, bị sửa hoặc đã hết hạn; hãy dùng nguyên liên kết trong thư",
            "en": "The link may have been cut, changed or expired; use the link from the email as it is",
        },
        "notifications.unsubscribed": {
            "vi": "Anh/Chị sẽ không nhận thông báo qua kênh này nữa.",
            "en": "You will no longer receive announcements on this channel.",
        },
        "notifications.invalid_receipt_token": {
            "vi": "Mã xác thực báo nhận không hợp lệ",
            "en": "Receipt token not valid",
        },
        "notifications.no_sent_delivery": {
            "vi": "Không có tin đã gửi nào mang mã yêu cầu này",
            "en": "No sent delivery with this request id",
        },
        "notifications.not_suppressed": {"vi": "Địa chỉ này không bị chặn", "en": "This address is not suppressed"},
        "notifications.no_such_campaign": {"vi": "Không có chiến dịch này", "en": "No such campaign"},
        "notifications.outside_reach": {
            "vi": "Người quản lý chỉ gửi thông báo cho tổ chức của mình và các tổ chức trực thuộc",
            "en": "Managers may send announcements to their own organisation and its subtree only",
        },
        "notifications.outside_reach.field": {
            "vi": "hãy chọn tổ chức của mình hoặc một tổ chức trực thuộc",
            "en": "choose your organisation or one below it",
        },
        "notifications.sms_too_long": {"vi": "Tin nhắn SMS quá dài", "en": "The SMS is too long"},
        "notifications.sms_too_long.field": {
            "vi": "kèm nhãn và hướng dẫn từ chối, tin dài {segments} phần; tối đa {limit}",
            "en": "with the tag and opt-out text it takes {segments} segments; the limit is {limit}",
        },
        "notifications.campaign_refused": {
            "vi": "Chiến dịch đang ở trạng thái {status}, không thể {action}",
            "en": "A {status} campaign cannot be {action}",
        },
        "notifications.action.pause": {"vi": "tạm dừng", "en": "paused"},
        "notifications.action.resume": {"vi": "tiếp tục", "en": "resumed"},
        "notifications.action.cancel": {"vi": "huỷ", "en": "cancelled"},
        "notifications.international_email": {
            "vi": "Máy chủ thư không nhận địa chỉ email có ký tự ngoài bảng ASCII (SMTPUTF8)",
            "en": "The mail server does not accept email addresses with non-ASCII characters (SMTPUTF8)",
        },
    }
)
