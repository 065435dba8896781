"""The webhooks service's words, in Vietnamese and English."""

from __future__ import annotations

from shared.i18n import Catalogue

MESSAGES = Catalogue(
    {
        "webhooks.keys_and_admins_only": {
            "vi": "Webhook do khóa API của đối tác và quản trị viên quản lý",
            "en": "Webhooks are managed by partner keys and administrators",
        },
        "webhooks.endpoint_not_found": {
            "vi": "Không có địa chỉ webhook với mã này",
            "en": "No webhook endpoint with this id",
        },
        "webhooks.delivery_not_found": {
            "vi": "Địa chỉ webhook này không có lần gửi với mã này",
            "en": "This endpoint has no delivery with this id",
        },
        "webhooks.key_prefix_required": {
            "vi": "Quản trị viên cần ghi tiền tố của khóa API sở hữu địa chỉ này",
            "en": "Administrators name the prefix of the partner key that owns the endpoint",
        },
        "webhooks.key_prefix_not_yours": {
            "vi": "Một khóa API chỉ đăng ký địa chỉ webhook cho chính nó",
            "en": "A key registers endpoints for itself only",
        },
        "webhooks.url.scheme": {"vi": "Chỉ chấp nhận địa chỉ http hoặc https", "en": "Only http and https URLs"},
        "webhooks.url.credentials": {
            "vi": "Địa chỉ không được chứa tên đăng nhập hoặc mật khẩu",
            "en": "The URL must not carry a user name or password",
        },
        "webhooks.url.non-public-address": {
            "vi": "Chỉ gửi tới địa chỉ công khai trên Internet (không phải mạng nội bộ)",
            "en": "Webhooks go to public Internet addresses only (not internal networks)",
        },
        "webhooks.url.malformed": {"vi": "Không phải địa chỉ URL hợp lệ", "en": "Not a valid URL"},
        "webhooks.scope_missing": {
            "vi": "Khóa này không có quyền {scope} mà loại sự kiện này cần",
            "en": "The key lacks the scope {scope} this event type needs",
        },
        "webhooks.too_many_endpoints": {
            "vi": "Mỗi khóa có tối đa {limit} địa chỉ webhook",
            "en": "A key may have at most {limit} webhook endpoints",
        },
        "webhooks.key_revoked": {
            "vi": "Khóa API sở hữu địa chỉ này đã bị thu hồi",
            "en": "The partner key that owns this endpoint was revoked",
        },
        "webhooks.not_active": {
            "vi": "Địa chỉ webhook đang tạm dừng hoặc bị ngừng; hãy bật lại trước",
            "en": "The endpoint is paused or disabled; enable it first",
        },
        "webhooks.in_flight": {
            "vi": "Lần gửi này đang diễn ra; hãy thử lại sau ít giây",
            "en": "This delivery is being sent right now; try again in a few seconds",
        },
        "webhooks.erased": {
            "vi": "Nội dung lần gửi này đã bị xoá cùng dữ liệu cá nhân của hội viên",
            "en": "This delivery's content was erased with the member's personal data",
        },
        "webhooks.test_message": {
            "vi": "Thử nghiệm webhook từ LienHiep: chữ ký hợp lệ nghĩa là địa chỉ đã sẵn sàng",
            "en": "A test webhook from LienHiep: a valid signature means the endpoint is ready",
        },
    }
)
