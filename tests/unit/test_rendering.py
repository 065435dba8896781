import email
import email.policy

from services.notifications.catalogue import NOTIFICATIONS, sample_context
from services.notifications.email import SmtpSender, delivery_message_id
from services.notifications.rendering import LANGUAGES, Renderer, TemplateSource
from shared.settings import Settings

CONTEXT = {"full_name": "Nguyễn Văn <An>", "federation": "Liên hiệp Hội", "federation_en": "the Union"}


def test_welcome_is_vietnamese_by_default_with_both_parts():
    r = Renderer().email("welcome", "vi", CONTEXT)
    assert "Chào mừng" in r.subject and "Nguyễn Văn <An>" in r.subject
    assert "Kính gửi Nguyễn Văn <An>" in r.text
    assert "Nguyễn Văn &lt;An&gt;" in r.html  # HTML escapes what people type


def test_english_and_fallback_for_unknown_languages():
    assert Renderer().email("welcome", "en", CONTEXT).subject.startswith("Welcome")
    assert "Chào mừng" in Renderer().email("welcome", "fr", CONTEXT).subject


def test_every_notification_has_vietnamese_and_english_templates_that_render_with_sample_data():
    renderer = Renderer()
    for notification in NOTIFICATIONS:
        for language in LANGUAGES:
            source = renderer.defaults[f"{notification}:email:{language}"]
            problems = renderer.check(source, sample_context(notification, language), max_segments=1, unicode=False)
            assert problems == [], (notification, language, problems)
            if notification == "member_applied":
                continue  # staff are written to by email only
            sms = renderer.defaults.get(f"{notification}:sms:{language}")
            assert sms is not None, (notification, language)
            assert renderer.check(sms, sample_context(notification, language), max_segments=1, unicode=False) == []


def test_a_text_only_template_gets_an_escaped_html_part_with_links():
    html = Renderer().email("registration_confirmed", "vi", {**sample_context("x"), "full_name": "A <b>"}).html
    assert "A &lt;b&gt;" in html and '<a href="https://lienhiep.example.vn/c/abc"' in html
    assert 'src="cid:qr"' in html


def test_template_errors_are_caught_with_the_part_and_line():
    renderer = Renderer()
    bad = TemplateSource("welcome", "email", "vi", {"subject": "Chào {{ full_name }", "text": "x\n{{ nosuch }}"}, -1)
    problems = {p.part: p for p in renderer.check(bad, sample_context("welcome"), max_segments=3, unicode=False)}
    assert "syntax error" in problems["subject"].message and problems["subject"].line == 1
    assert "nosuch" in problems["text"].message
    missing = TemplateSource("welcome", "email", "vi", {"text": "x"}, -1)
    assert [p.part for p in renderer.check(missing, {}, max_segments=3, unicode=False)] == ["subject"]


def test_the_sandbox_refuses_reaching_into_python():
    renderer = Renderer()
    evil = TemplateSource("welcome", "sms", "vi", {"text": "{{ ''.__class__.__mro__[1].__subclasses__() }}"}, -1)
    assert renderer.check(evil, sample_context("welcome"), max_segments=3, unicode=False)


def test_an_sms_template_longer_than_its_limit_is_refused():
    renderer = Renderer()
    long = TemplateSource("welcome", "sms", "vi", {"text": "Kính gửi {{ full_name }}. " * 14}, -1)
    problems = renderer.check(long, sample_context("welcome"), max_segments=2, unicode=False)
    assert problems[0].part == "text" and problems[0].extra["segments"] == 3


def parse(raw: bytes):
    return email.message_from_bytes(raw, policy=email.policy.default)


def test_the_email_has_utf8_subject_and_alternative_parts():
    sender = SmtpSender(Settings())
    rendered = Renderer().email("welcome", "vi", CONTEXT)
    msg = parse(
        sender.build(
            to="an@example.com",
            to_name="Nguyễn Văn An",
            rendered=rendered,
            delivery_key="e1:m1:email:welcome",
            headers={"List-Unsubscribe": "<https://x/u?t=1>"},
        )
    )
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    assert msg["Subject"] == rendered.subject and msg["To"] == "Nguyễn Văn An <an@example.com>"
    assert msg["From"] == "LienHiep <no-reply@lienhiep.local>"
    assert msg["Message-ID"] == f"<{delivery_message_id('e1:m1:email:welcome')}@lienhiep.local>"
    assert msg["List-Unsubscribe"] == "<https://x/u?t=1>"
    assert msg.get_body(("plain",)).get_content() == rendered.text
    assert msg.get_body(("html",)).get_content() == rendered.html


def test_a_long_vietnamese_subject_keeps_its_spaces_and_lines_stay_short():
    subject = "Đơn gia nhập mới cần xét duyệt: Đỗ Thị Hằng, Hội Tin học tỉnh, chi hội Khoa học Công nghệ " * 2
    rendered = Renderer().email("welcome", "vi", CONTEXT)
    raw = SmtpSender(Settings()).build(
        to="an@example.com",
        to_name="Nguyễn Văn An",
        rendered=type(rendered)(subject, rendered.text, rendered.html),
        delivery_key="k",
    )
    assert parse(raw)["Subject"] == subject
    assert max(len(line) for line in raw.split(b"\r\n")) <= 78


def test_a_ticket_email_carries_the_qr_beside_the_html():
    rendered = Renderer().email("welcome", "vi", CONTEXT)
    msg = parse(
        SmtpSender(Settings()).build(to="a@b.vn", to_name="", rendered=rendered, delivery_key="k", qr="HT-7K3M9Q")
    )
    related = msg.get_payload()[1]
    assert related.get_content_type() == "multipart/related"
    image = related.get_payload()[1]
    assert image["Content-ID"] == "<qr>" and image.get_content()[:4] == b"\x89PNG"
