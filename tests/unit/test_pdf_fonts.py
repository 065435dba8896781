import pytest

from shared.pdf import FontMissing, bold_variant, unicode_font


def test_a_configured_font_that_exists_is_used(tmp_path):
    font = tmp_path / "Mine.ttf"
    font.write_bytes(b"not really a font")
    assert unicode_font(str(font), "X_FONT") == str(font)


def test_a_missing_font_falls_back_to_a_known_one_or_answers_503_naming_the_setting(tmp_path, monkeypatch):
    monkeypatch.setattr("shared.pdf.FONT_CANDIDATES", (str(tmp_path / "none.ttf"),))
    with pytest.raises(FontMissing) as err:
        unicode_font(str(tmp_path / "gone.ttf"), "CONTESTS_FONT")
    problem = err.value.public("vi")
    assert err.value.status == 503 and problem["setting"] == "CONTESTS_FONT"
    assert "CONTESTS_FONT" in problem["detail"] and "fonts-dejavu-core" in err.value.public("en")["detail"]


def test_the_bold_face_is_found_beside_the_regular_one(tmp_path):
    regular, bold = tmp_path / "DejaVuSans.ttf", tmp_path / "DejaVuSans-Bold.ttf"
    regular.write_bytes(b"r")
    assert bold_variant(str(regular)) is None
    bold.write_bytes(b"b")
    assert bold_variant(str(regular)) == str(bold)
