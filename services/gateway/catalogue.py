"""The gateway's words, in Vietnamese (the default) and English: every problem the
front door answers, and the rules staff meet when they log in or set a password."""

from __future__ import annotations

from shared.i18n import Catalogue

MESSAGES = Catalogue(
    {
        # --- who is calling ------------------------------------------------------------
        "gateway.send_credentials": {
            "vi": "Hãy gửi khoá API của đối tác hoặc mã đăng nhập của cán bộ: Authorization: Bearer …",
            "en": "Send a partner API key or a staff token: Authorization: Bearer …",
        },
        "gateway.not_a_credential": {
            "vi": "Thông tin xác thực không phải khoá API hay mã đăng nhập của cán bộ",
            "en": "The credential is neither an API key nor a staff token",
        },
        "gateway.unknown_key": {"vi": "Khoá API không tồn tại", "en": "Unknown API key"},
        "gateway.key_revoked": {"vi": "Khoá API này đã bị thu hồi", "en": "This API key has been revoked"},
        "gateway.token_refused": {
            "vi": "Mã đăng nhập không hợp lệ hoặc đã hết hạn; hãy đăng nhập lại",
            "en": "Staff token refused: it is malformed, forged or expired; log in again",
        },
        "gateway.login_ended": {
            "vi": "Phiên đăng nhập này đã kết thúc; hãy đăng nhập lại",
            "en": "This login has ended; log in again",
        },
        "gateway.login_too_old": {
            "vi": "Phiên đăng nhập đã đến thời hạn tối đa; hãy đăng nhập lại",
            "en": "This login has reached its longest life; log in again",
        },
        "gateway.already_refreshed": {
            "vi": "Mã đăng nhập này đã được làm mới; hãy dùng mã mới",
            "en": "This token was already refreshed; use the new one",
        },
        "gateway.only_staff_refresh": {
            "vi": "Chỉ mã đăng nhập của cán bộ mới làm mới được",
            "en": "Only staff tokens can be refreshed",
        },
        "gateway.wrong_login": {"vi": "Sai tên đăng nhập hoặc mật khẩu", "en": "Wrong username or password"},
        "gateway.account_locked": {"vi": "Tài khoản đang bị khoá", "en": "Account locked"},
        "gateway.account_locked.detail": {
            "vi": "Đăng nhập sai quá nhiều lần; hãy thử lại sau hoặc nhờ quản trị viên mở khoá",
            "en": "Too many failed logins; try again later or ask an administrator to unlock it",
        },
        "gateway.not_a_login": {"vi": "Không phải phiên đăng nhập của cán bộ", "en": "Not a staff login"},
        "gateway.only_staff_log_out": {
            "vi": "Chỉ mã đăng nhập của cán bộ mới đăng xuất được; khoá API do quản trị viên thu hồi",
            "en": "Only staff tokens can log out; an administrator revokes API keys",
        },
        "gateway.only_staff_have_passwords": {
            "vi": "Chỉ tài khoản cán bộ mới có mật khẩu",
            "en": "Only staff accounts have passwords",
        },
        "gateway.only_staff_have_accounts": {
            "vi": "Chỉ phiên đăng nhập của cán bộ mới có tài khoản",
            "en": "Only staff logins have an account",
        },
        "gateway.wrong_password": {"vi": "Sai mật khẩu", "en": "Wrong password"},
        "gateway.wrong_password.detail": {
            "vi": "Mật khẩu hiện tại không đúng",
            "en": "The current password is not right",
        },
        # --- passwords (also field messages: `field.<code>`) ------------------------------
        "field.password_too_short": {
            "vi": "Mật khẩu cần ít nhất {min_length} ký tự",
            "en": "A password needs at least {min_length} characters",
        },
        "field.password_is_username": {
            "vi": "Mật khẩu không được là tên đăng nhập (dù thêm số hay ký hiệu)",
            "en": "The password must not be the username (even with digits or symbols added)",
        },
        "field.password_too_common": {
            "vi": "Mật khẩu này quá phổ biến, dễ bị đoán; hãy chọn một câu dài hơn, khó đoán hơn",
            "en": "This password is too common and easily guessed; choose a longer, less predictable phrase",
        },
        "field.manager_needs_organization": {
            "vi": "Cán bộ quản lý cần organization_id: hội mà họ quản lý",
            "en": "A manager needs organization_id: the association they manage",
        },
        "field.unknown_scope": {
            "vi": "Quyền không tồn tại; chọn một trong: {known}",
            "en": "Unknown scope; one of: {known}",
        },
        # --- staff accounts and keys ------------------------------------------------------
        "gateway.duplicate_staff": {
            "vi": "Đã có tài khoản cán bộ với tên đăng nhập này",
            "en": "A staff account with this username exists",
        },
        "gateway.duplicate_staff.detail": {"vi": "Hãy chọn tên đăng nhập khác", "en": "Choose another username"},
        "gateway.no_such_staff": {
            "vi": "Không có tài khoản cán bộ với tên đăng nhập này",
            "en": "No staff account with this username",
        },
        "gateway.no_such_key": {"vi": "Không có khoá API với mã này", "en": "No API key with this id"},
        "gateway.last_admin": {
            "vi": "Đây là quản trị viên cuối cùng đang hoạt động",
            "en": "This is the last active administrator",
        },
        "gateway.last_admin.detail": {
            "vi": "Không thể vô hiệu hoá hay hạ quyền quản trị viên cuối cùng; hãy tạo hoặc bật một quản trị viên khác trước",
            "en": "The last active administrator cannot be disabled or demoted; create or enable another one first",
        },
        # --- the front door ---------------------------------------------------------------
        "gateway.no_route": {
            "vi": "Không có API nào ở đường dẫn này; xem /api/v1/openapi.json",
            "en": "No API endpoint answers at this path; see /api/v1/openapi.json",
        },
        "gateway.method_not_allowed": {
            "vi": "Không dùng được phương thức {method} ở đây",
            "en": "{method} is not allowed here",
        },
        "gateway.rate_limited": {
            "vi": "Gửi chậm lại: thử lại sau {seconds} giây",
            "en": "Slow down: try again in {seconds} s",
        },
        "gateway.cors_refused": {"vi": "Nguồn gọi không được phép", "en": "Origin not allowed"},
        "gateway.cors_refused.detail": {
            "vi": "Trang web này không được gọi API từ trình duyệt",
            "en": "This origin may not call the API from a browser",
        },
        "gateway.send_json_body": {
            "vi": "Endpoint này cần nội dung JSON (Content-Type: application/json)",
            "en": "This endpoint needs a JSON body (Content-Type: application/json)",
        },
        "gateway.send_one_of": {"vi": "Hãy gửi một trong: {media}", "en": "Send one of: {media}"},
        "gateway.json_too_deep": {
            "vi": "JSON lồng nhau quá {depth} tầng",
            "en": "The JSON is nested more than {depth} levels deep",
        },
        "gateway.request_timeout": {"vi": "Hết thời gian chờ yêu cầu", "en": "Request timeout"},
        "gateway.body_too_slow": {
            "vi": "Nội dung yêu cầu không đến kịp trong {seconds} giây",
            "en": "The request body did not arrive within {seconds} s",
        },
        "gateway.store_unavailable": {
            "vi": "Tạm thời chưa kiểm tra được thông tin xác thực; hãy thử lại sau ít phút",
            "en": "Credentials cannot be checked right now; try again shortly",
        },
        # --- the services behind ------------------------------------------------------------
        "gateway.upstream_failing": {
            "vi": "Dịch vụ {service} đang gặp sự cố; hãy thử lại sau ít phút",
            "en": "The {service} service is failing; try again shortly",
        },
        "gateway.upstream_unreachable": {
            "vi": "Không kết nối được dịch vụ {service}; hãy thử lại sau ít phút",
            "en": "The {service} service is not reachable; try again shortly",
        },
        "gateway.upstream_timeout": {"vi": "Dịch vụ phản hồi quá chậm", "en": "Service timed out"},
        "gateway.upstream_timeout.detail": {
            "vi": "Dịch vụ {service} không trả lời trong {seconds} giây",
            "en": "The {service} service did not answer within {seconds} s",
        },
    }
)
