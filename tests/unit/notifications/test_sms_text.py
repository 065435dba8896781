from services.notifications.sms_text import is_gsm7, measure, prepare, strip_diacritics


def test_vietnamese_loses_its_marks_and_d_with_stroke_becomes_d():
    assert strip_diacritics("Đỗ Quang Huy đã đăng ký Hội thảo") == "Do Quang Huy da dang ky Hoi thao"
    assert strip_diacritics("Nguyễn Thị Mỹ Ưng, Phường Bến Nghé") == "Nguyen Thi My Ung, Phuong Ben Nghe"
    assert strip_diacritics("“Hội nghị” – 2026…") == '"Hoi nghi" - 2026...'


def test_gsm7_fits_160_in_one_segment_and_153_per_part():
    assert measure("a" * 160).segments == 1
    assert measure("a" * 161).segments == 2
    assert measure("a" * 306).segments == 2
    assert measure("a" * 307).segments == 3
    assert measure("").segments == 0


def test_extension_characters_count_twice():
    size = measure("{" * 80)
    assert (size.encoding, size.units, size.segments) == ("gsm7", 160, 1)
    assert measure("€" * 81).segments == 2


def test_diacritics_force_ucs2_with_70_and_67():
    assert not is_gsm7("Hội")
    assert measure("ộ" * 70) == measure("ộ" * 70) and measure("ộ" * 70).segments == 1
    assert measure("ộ" * 71).segments == 2
    assert measure("ộ" * 134).segments == 2
    assert measure("ộ" * 135).segments == 3
    assert measure("ộ").encoding == "ucs2"


def test_characters_outside_the_bmp_take_two_ucs2_units():
    assert measure("🙂" * 35).units == 70 and measure("🙂" * 36).segments == 2


def test_some_accented_letters_are_gsm7_but_vietnamese_ones_are_not():
    assert is_gsm7("café à Paris") and measure("é" * 160).encoding == "gsm7"
    assert not is_gsm7("ơ")


def test_prepare_strips_by_default_and_keeps_marks_in_unicode_mode():
    text = "Xác nhận  đăng ký\nHội thảo"
    assert prepare(text, unicode=False) == "Xac nhan dang ky Hoi thao"
    assert prepare(text, unicode=True) == "Xác nhận đăng ký Hội thảo"
    # A Vietnamese sentence costs three times less without marks.
    sentence = "Xác nhận đăng ký Hội thảo Chuyển đổi số cho doanh nghiệp nhỏ và vừa lúc 08:30 ngày 15/12/2026"
    assert measure(prepare(sentence, unicode=True)).segments == 2
    assert measure(prepare(sentence, unicode=False)).segments == 1
