from services.notifications.email import SmtpSender, delivery_message_id
from services.notifications.rendering import Renderer
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


def test_the_email_has_utf8_subject_and_alternative_parts():
    sender = SmtpSender(Settings())
    msg = sender.build(to="an@example.com", to_name="Nguyễn Văn An", rendered=Renderer().email("welcome", "vi", CONTEXT),
                       delivery_key="e1:m1:email:welcome")
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    assert str(msg["Subject"]).startswith("Chào mừng")
    assert msg["Message-ID"] == f"<{delivery_message_id('e1:m1:email:welcome')}@lienhiep.local>"
