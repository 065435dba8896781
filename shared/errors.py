"""Errors domain code raises, with no web import: the HTTP layer (shared/http.py) maps
each to RFC 9457 problem+json once, in the reader's language.

A `DomainError` subclass names its `status`, a stable `code` (the problem's type)
and a `title`; the instance carries a `detail` and, when one input is at fault,
the `field` — so a console can show the message next to that field. Titles and
details are catalogue messages (`shared/i18n.py`) or plain text.

    class SeatsExhausted(Conflict):
        code, title = "seats-exhausted", MESSAGES("events.seats_exhausted")

    raise SeatsExhausted(MESSAGES("events.seats_left", left=0), field="capacity")
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from pydantic import ValidationError

from shared.i18n import Catalogue, Message, Text, known, render, text_of
from shared.text import InvalidPhone

# Answers listing field errors stay small however large the request was.
MAX_FIELD_ERRORS = 50
MAX_MESSAGE_CHARS = 300
# Members of a problem the error itself decides: extra details never overwrite them.
RESERVED = frozenset({"type", "title", "status", "detail", "field", "errors", "errors_omitted"})

MESSAGES = Catalogue(
    {
        "problem.invalid": {"vi": "Dữ liệu không hợp lệ", "en": "Invalid input"},
        "problem.invalid.detail": {"vi": "{count} trường không hợp lệ", "en": "{count} field(s) are invalid"},
        "problem.refused": {"vi": "Yêu cầu bị từ chối", "en": "Request refused"},
        "problem.not_found": {"vi": "Không tìm thấy", "en": "Not found"},
        "problem.conflict": {"vi": "Xung đột dữ liệu", "en": "Conflict"},
        "problem.forbidden": {"vi": "Không được phép", "en": "Forbidden"},
        "problem.forbidden.detail": {
            "vi": "Quyền của bạn không cho phép yêu cầu này",
            "en": "Your credentials do not allow this request",
        },
        "problem.unauthenticated": {"vi": "Chưa đăng nhập", "en": "Not authenticated"},
        "problem.gone": {"vi": "Không còn nữa", "en": "Gone"},
        "problem.locked": {"vi": "Đang bị khoá", "en": "Locked"},
        "problem.too_large": {"vi": "Dữ liệu gửi lên quá lớn", "en": "Request body too large"},
        "problem.too_large.detail": {
            "vi": "Dữ liệu gửi lên tối đa {limit} byte",
            "en": "The body may be at most {limit} bytes",
        },
        "problem.unsupported_media": {"vi": "Định dạng không được hỗ trợ", "en": "Unsupported media type"},
        "problem.too_many": {"vi": "Quá nhiều yêu cầu", "en": "Too many requests"},
        "problem.unavailable": {"vi": "Dịch vụ tạm thời không sẵn sàng", "en": "Service unavailable"},
        "problem.store_unavailable.detail": {
            "vi": "Kho dữ liệu tạm thời không phản hồi; vui lòng thử lại sau ít giây",
            "en": "The data store is not answering right now; try again in a few seconds",
        },
        "problem.internal": {"vi": "Lỗi hệ thống", "en": "Internal error"},
        "problem.internal.detail": {
            "vi": "Đã có lỗi ở phía chúng tôi; mã yêu cầu giúp chúng tôi tìm ra nó",
            "en": "Something went wrong on our side; the request id helps us find it",
        },
        "problem.malformed_json": {"vi": "JSON không hợp lệ", "en": "Malformed JSON"},
        "problem.malformed_json.detail": {
            "vi": "Nội dung gửi lên không phải JSON hợp lệ",
            "en": "The body is not valid JSON",
        },
        "problem.send_json": {"vi": "Hãy gửi JSON", "en": "Send JSON"},
        "problem.send_json.detail": {
            "vi": "Content-Type phải là application/json",
            "en": "Content-Type must be application/json",
        },
        "problem.method_not_allowed": {"vi": "Phương thức không được phép", "en": "Method not allowed"},
        # Field messages, by pydantic error type (and our own validators' codes).
        "field.missing": {"vi": "Thiếu trường bắt buộc", "en": "Field required"},
        "field.extra_forbidden": {"vi": "Trường này không được chấp nhận", "en": "Extra inputs are not permitted"},
        "field.string_type": {"vi": "Phải là chuỗi ký tự", "en": "Input should be a valid string"},
        "field.string_too_short": {
            "vi": "Cần ít nhất {min_length} ký tự",
            "en": "Should have at least {min_length} characters",
        },
        "field.string_too_long": {
            "vi": "Tối đa {max_length} ký tự",
            "en": "Should have at most {max_length} characters",
        },
        "field.string_pattern_mismatch": {"vi": "Không đúng dạng yêu cầu", "en": "Does not have the expected form"},
        "field.int_type": {"vi": "Phải là số nguyên", "en": "Input should be a valid integer"},
        "field.int_parsing": {"vi": "Phải là số nguyên", "en": "Input should be a valid integer"},
        "field.int_from_float": {"vi": "Phải là số nguyên", "en": "Input should be a valid integer"},
        "field.float_type": {"vi": "Phải là số", "en": "Input should be a valid number"},
        "field.float_parsing": {"vi": "Phải là số", "en": "Input should be a valid number"},
        "field.bool_type": {"vi": "Phải là true hoặc false", "en": "Input should be a valid boolean"},
        "field.bool_parsing": {"vi": "Phải là true hoặc false", "en": "Input should be a valid boolean"},
        "field.greater_than": {"vi": "Phải lớn hơn {gt}", "en": "Should be greater than {gt}"},
        "field.greater_than_equal": {
            "vi": "Phải lớn hơn hoặc bằng {ge}",
            "en": "Should be greater than or equal to {ge}",
        },
        "field.less_than": {"vi": "Phải nhỏ hơn {lt}", "en": "Should be less than {lt}"},
        "field.less_than_equal": {"vi": "Phải nhỏ hơn hoặc bằng {le}", "en": "Should be less than or equal to {le}"},
        "field.literal_error": {"vi": "Phải là một trong: {expected}", "en": "Should be {expected}"},
        "field.enum": {"vi": "Phải là một trong: {expected}", "en": "Should be {expected}"},
        "field.list_type": {"vi": "Phải là danh sách", "en": "Input should be a valid list"},
        "field.dict_type": {"vi": "Phải là một đối tượng", "en": "Input should be a valid object"},
        "field.model_type": {"vi": "Phải là một đối tượng", "en": "Input should be a valid object"},
        "field.model_attributes_type": {"vi": "Phải là một đối tượng", "en": "Input should be a valid object"},
        "field.too_short": {"vi": "Cần ít nhất {min_length} phần tử", "en": "Should have at least {min_length} items"},
        "field.too_long": {"vi": "Tối đa {max_length} phần tử", "en": "Should have at most {max_length} items"},
        "field.date_type": {"vi": "Phải là ngày (YYYY-MM-DD)", "en": "Input should be a valid date (YYYY-MM-DD)"},
        "field.date_parsing": {"vi": "Phải là ngày (YYYY-MM-DD)", "en": "Input should be a valid date (YYYY-MM-DD)"},
        "field.date_from_datetime_parsing": {
            "vi": "Phải là ngày (YYYY-MM-DD)",
            "en": "Input should be a valid date (YYYY-MM-DD)",
        },
        "field.datetime_type": {"vi": "Phải là thời điểm ISO 8601", "en": "Input should be an ISO 8601 date and time"},
        "field.datetime_parsing": {
            "vi": "Phải là thời điểm ISO 8601",
            "en": "Input should be an ISO 8601 date and time",
        },
        "field.datetime_from_date_parsing": {
            "vi": "Phải là thời điểm ISO 8601",
            "en": "Input should be an ISO 8601 date and time",
        },
        "field.time_parsing": {"vi": "Phải là giờ (HH:MM)", "en": "Input should be a valid time (HH:MM)"},
        "field.url_parsing": {"vi": "Không phải địa chỉ URL hợp lệ", "en": "Input should be a valid URL"},
        "field.url_scheme": {
            "vi": "Địa chỉ URL phải bắt đầu bằng {expected_schemes}",
            "en": "URL scheme should be {expected_schemes}",
        },
        "field.uuid_parsing": {"vi": "Không phải UUID hợp lệ", "en": "Input should be a valid UUID"},
        "field.value_error": {"vi": "Giá trị không hợp lệ: {error}", "en": "Value error, {error}"},
        "field.union_tag_invalid": {"vi": "Loại không hợp lệ: {tag}", "en": "Unknown kind: {tag}"},
        "field.json_invalid": {"vi": "JSON không hợp lệ", "en": "Invalid JSON"},
        "field.email": {"vi": "Địa chỉ email không hợp lệ", "en": "Not a valid email address"},
        "field.email_international": {
            "vi": "Địa chỉ email có ký tự ngoài bảng ASCII chưa được hỗ trợ",
            "en": "Email addresses with non-ASCII characters are not supported",
        },
        "field.phone": {"vi": "Số điện thoại không hợp lệ", "en": "Not a valid phone number"},
        "field.cursor": {"vi": "Không phải con trỏ trang do API này trả về", "en": "Not a cursor this API gave"},
        "field.unknown_parameter": {
            "vi": "Không phải tham số của endpoint này",
            "en": "Not a parameter of this endpoint",
        },
        "field.operator": {"vi": "Không chấp nhận khoá toán tử ($…)", "en": "Operator keys are not accepted"},
        "field.empty_file": {"vi": "Tệp rỗng", "en": "The file is empty"},
        "field.malformed_multipart": {
            "vi": "Biểu mẫu multipart không đúng dạng: hãy gửi tệp trong trường {field}",
            "en": "Malformed multipart form: send the file in the field {field}",
        },
        "field.control_characters": {
            "vi": "Không được chứa ký tự điều khiển",
            "en": "Must not contain control characters",
        },
    }
)


@dataclass(frozen=True)
class FieldError:
    """One input at fault: where (`field` as a dotted path, `location` body/query/path),
    why (a message) and a stable code."""

    field: str
    message: Text
    code: str
    location: str = "body"
    extra: Mapping[str, Any] = dataclass_field(default_factory=dict)  # e.g. the template line at fault

    def public(self, lang: str) -> dict[str, Any]:
        return {
            "field": _bounded(self.field),
            "in": self.location,
            "message": _bounded(text_of(self.message, lang)),
            "code": self.code,
            **self.extra,
        }


class DomainError(Exception):
    """Base of the errors domain code raises. Subclasses set `status`, `code`, `title`."""

    status: int = 400
    code: str = "refused"
    title: Text = MESSAGES("problem.refused")

    def __init__(
        self,
        detail: Text | None = None,
        *,
        field: str | None = None,
        errors: Iterable[FieldError | Mapping[str, Any]] = (),
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        self.detail: Text | None = detail
        self.field = field
        self.field_errors = [e if isinstance(e, FieldError) else _field_error(e) for e in errors]
        if field is not None and detail is not None:
            self.field_errors.insert(0, FieldError(field, detail, self.code))
        self.headers = dict(headers or {})
        self.extra = extra
        super().__init__(str(detail if detail is not None else self.title))

    def public(self, lang: str) -> dict[str, Any]:
        """The problem+json body without `type`, in `lang`."""
        body: dict[str, Any] = {"title": text_of(self.title, lang), "status": self.status}
        if self.detail is not None:
            body["detail"] = text_of(self.detail, lang)
        if self.field is not None:
            body["field"] = _bounded(self.field)
        if self.field_errors:
            body["errors"] = [e.public(lang) for e in self.field_errors[:MAX_FIELD_ERRORS]]
            if len(self.field_errors) > MAX_FIELD_ERRORS:
                body["errors_omitted"] = len(self.field_errors) - MAX_FIELD_ERRORS
        body.update(
            {k: (text_of(v, lang) if isinstance(v, Message) else v) for k, v in self.extra.items() if k not in RESERVED}
        )
        return body


class Problem(DomainError):
    """A problem spelled out where it is raised (status, code and title given)."""

    def __init__(self, status: int, code: str, title: Text, detail: Text | None = None, **kwargs: Any) -> None:
        self.status, self.code, self.title = status, code, title
        super().__init__(detail, **kwargs)


class Invalid(DomainError):
    status, code, title = 422, "validation-error", MESSAGES("problem.invalid")

    def __init__(self, *errors: FieldError, detail: Text | None = None, **extra: Any) -> None:
        super().__init__(detail or MESSAGES("problem.invalid.detail", count=len(errors)), errors=errors, **extra)


class NotFound(DomainError):
    status, code, title = 404, "not-found", MESSAGES("problem.not_found")


class Conflict(DomainError):
    status, code, title = 409, "conflict", MESSAGES("problem.conflict")


class Forbidden(DomainError):
    status, code, title = 403, "forbidden", MESSAGES("problem.forbidden")


class Unauthenticated(DomainError):
    status, code, title = 401, "unauthenticated", MESSAGES("problem.unauthenticated")


class Gone(DomainError):
    status, code, title = 410, "gone", MESSAGES("problem.gone")


class Locked(DomainError):
    status, code, title = 423, "locked", MESSAGES("problem.locked")


class TooLarge(DomainError):
    status, code, title = 413, "payload-too-large", MESSAGES("problem.too_large")


class UnsupportedMedia(DomainError):
    status, code, title = 415, "unsupported-media-type", MESSAGES("problem.unsupported_media")


class Unavailable(DomainError):
    status, code, title = 503, "unavailable", MESSAGES("problem.unavailable")


def invalid_field(field: str, message: Text, code: str, location: str = "body") -> Invalid:
    """A 422 for one input at fault."""
    return Invalid(FieldError(field, message, code, location))


def field_errors(exc: ValidationError, location: str = "body") -> list[FieldError]:
    """Pydantic's errors as field errors whose messages render in either language."""
    out: list[FieldError] = []
    for err in exc.errors(include_url=False, include_input=False)[: MAX_FIELD_ERRORS + 1]:
        kind = err["type"]
        context = dict(err.get("ctx") or {})
        if kind == "value_error":
            kind = _known_value_error(context.get("error"), err["msg"])
            context["error"] = str(context.get("error", err["msg"]))
        key = f"field.{kind}"
        message: Text = Message(key, context) if known(key) else _bounded(err["msg"])
        out.append(FieldError(".".join(str(p) for p in err["loc"]) or location, message, kind, location))
    return out


def _known_value_error(error: object, text: str) -> str:
    """The code of a value error people meet often, whose message then is ours in either
    language, not the library's English: a phone number (shared.text), an email address
    (pydantic's EmailStr, through email-validator)."""
    if isinstance(error, InvalidPhone):
        return "phone"
    if text.startswith("value is not a valid email address"):
        return "email"
    return "value_error"


def validation_error(exc: ValidationError, location: str = "body") -> Invalid:
    errors = field_errors(exc, location)
    return Invalid(*errors, detail=MESSAGES("problem.invalid.detail", count=exc.error_count()))


def _field_error(raw: Mapping[str, Any]) -> FieldError:
    known_keys = {"field", "message", "code", "in"}
    return FieldError(
        str(raw.get("field", "")),
        raw.get("message", ""),
        str(raw.get("code", "invalid")),
        str(raw.get("in", "body")),
        {k: v for k, v in raw.items() if k not in known_keys},
    )


def _bounded(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE_CHARS else text[: MAX_MESSAGE_CHARS - 1] + "…"


__all__ = [
    "MESSAGES",
    "Conflict",
    "DomainError",
    "FieldError",
    "Forbidden",
    "Gone",
    "Invalid",
    "Locked",
    "NotFound",
    "Problem",
    "TooLarge",
    "Unauthenticated",
    "Unavailable",
    "UnsupportedMedia",
    "field_errors",
    "invalid_field",
    "render",
    "validation_error",
]
