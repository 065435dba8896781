"""Printed documents: the organising board's award decision and the award
certificates, as PDF in Vietnamese (a Unicode font: shared/pdf.py). Pure functions
from what is stored to bytes."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import segno
from fpdf import FPDF
from fpdf.fonts import FontFace

from services.contests.catalogue import label
from shared.clock import to_local
from shared.i18n import Catalogue
from shared.pdf import bold_variant

TEXTS = Catalogue(
    {
        "contests.paper.federation": {
            "vi": "LIÊN HIỆP CÁC HỘI KHOA HỌC VÀ KỸ THUẬT TỈNH",
            "en": "PROVINCIAL UNION OF SCIENCE AND TECHNOLOGY ASSOCIATIONS",
        },
        "contests.paper.board": {"vi": "BAN TỔ CHỨC", "en": "ORGANISING BOARD"},
        "contests.paper.nation": {
            "vi": "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
            "en": "SOCIALIST REPUBLIC OF VIET NAM",
        },
        "contests.paper.motto": {"vi": "Độc lập - Tự do - Hạnh phúc", "en": "Independence - Freedom - Happiness"},
        "contests.paper.draft": {"vi": "DỰ THẢO", "en": "DRAFT"},
        "contests.paper.number": {"vi": "Số: {number}/QĐ-BTC", "en": "No. {number}/QĐ-BTC"},
        "contests.paper.date": {
            "vi": "ngày {day:02d} tháng {month:02d} năm {year}",
            "en": "{day:02d}/{month:02d}/{year}",
        },
        "contests.paper.decision": {"vi": "QUYẾT ĐỊNH", "en": "DECISION"},
        "contests.paper.about": {"vi": "Về việc trao giải {name}", "en": "On the awards of the {name}"},
        "contests.paper.grounds": {
            "vi": "Căn cứ Thể lệ {name}; căn cứ kết quả chấm của Hội đồng giám khảo và đề nghị của Thư ký Ban Tổ chức,",
            "en": "Under the rules of the {name}, the judging panels' scores and the board secretary's proposal,",
        },
        "contests.paper.decides": {"vi": "QUYẾT ĐỊNH:", "en": "DECIDES:"},
        "contests.paper.article1": {
            "vi": "Điều 1. Trao {count} giải cho các giải pháp có tên trong danh sách kèm theo, tổng giá trị giải thưởng {total} đồng.",
            "en": "Article 1. {count} prizes are awarded to the entries listed below, worth {total} VND in all.",
        },
        "contests.paper.article2": {
            "vi": "Điều 2. Kinh phí khen thưởng lấy từ nguồn kinh phí tổ chức Hội thi.",
            "en": "Article 2. The prizes are paid from the contest's budget.",
        },
        "contests.paper.article3": {
            "vi": "Điều 3. Thư ký Ban Tổ chức và các tác giả có tên tại Điều 1 chịu trách nhiệm thi hành Quyết định này.",
            "en": "Article 3. The board's secretary and the authors named in Article 1 carry out this decision.",
        },
        "contests.paper.columns": {
            "vi": "STT|Mã hồ sơ|Tên giải pháp|Tác giả|Đơn vị|Giải|Điểm|Tiền thưởng (đ)",
            "en": "No.|Entry|Title|Authors|Organisation|Prize|Score|Prize money (VND)",
        },
        "contests.paper.by_board": {
            "vi": "(*) Ban Tổ chức quyết định: {reasons}",
            "en": "(*) Decided by the organising board: {reasons}",
        },
        "contests.paper.for_board": {"vi": "TM. BAN TỔ CHỨC", "en": "FOR THE ORGANISING BOARD"},
        "contests.paper.certificate": {"vi": "GIẤY CHỨNG NHẬN", "en": "CERTIFICATE OF AWARD"},
        "contests.paper.certifies": {
            "vi": "Ban Tổ chức {name} chứng nhận",
            "en": "The organising board of the {name} certifies that",
        },
        "contests.paper.authors_of": {"vi": "tác giả giải pháp", "en": "authors of"},
        "contests.paper.won": {"vi": "đã đạt {tier}", "en": "won the {tier}"},
        "contests.paper.code": {"vi": "Số chứng nhận: {code}", "en": "Certificate number: {code}"},
        "contests.paper.verify": {"vi": "Xác thực tại: {url}", "en": "Verify at: {url}"},
    }
)


def money(amount: int) -> str:
    """20.000.000: money as it is written in Viet Nam."""
    return f"{amount:,}".replace(",", ".")


def _pdf(font: str, orientation: str = "P") -> FPDF:
    pdf = FPDF(orientation=orientation, unit="mm", format="A4")
    pdf.add_font("dv", "", font)
    pdf.add_font("dv", "B", bold_variant(font) or font)
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    return pdf


def _line(pdf: FPDF, text: str, size: float, *, style: str = "", align: str = "C", height: float = 6) -> None:
    pdf.set_font("dv", style, size)
    pdf.multi_cell(0, height, text, align=align, new_x="LMARGIN", new_y="NEXT")


def decision_pdf(
    edition: Mapping[str, Any],
    awarded: Sequence[dict[str, Any]],
    *,
    font: str,
    draft: bool,
    when: datetime,
    lang: str = "vi",
) -> bytes:
    """The award decision: the board's header, the articles, and the list of prizes."""
    t = TEXTS.text
    name = edition["name"].get(lang) or edition["name"]["vi"]
    pdf = _pdf(font)
    pdf.set_title(t("contests.paper.decision", lang))
    half = (pdf.w - pdf.l_margin - pdf.r_margin) / 2
    top = pdf.get_y()
    pdf.set_font("dv", "", 9.5)
    pdf.multi_cell(half, 5, f"{t('contests.paper.federation', lang)}\n{t('contests.paper.board', lang)}", align="C")
    pdf.set_xy(pdf.l_margin + half, top)
    pdf.set_font("dv", "B", 9.5)
    pdf.multi_cell(half, 5, f"{t('contests.paper.nation', lang)}\n{t('contests.paper.motto', lang)}", align="C")
    local = to_local(when)
    pdf.ln(3)
    number = t("contests.paper.number", lang, number=edition.get("decision_number") or "…")
    dated = t("contests.paper.date", lang, day=local.day, month=local.month, year=local.year)
    pdf.set_font("dv", "", 10)
    pdf.cell(half, 6, number, align="C")
    pdf.cell(half, 6, dated, align="C", new_x="LMARGIN", new_y="NEXT")
    if draft:
        _line(pdf, t("contests.paper.draft", lang), 16, style="B")
    pdf.ln(4)
    _line(pdf, t("contests.paper.decision", lang), 15, style="B", height=8)
    _line(pdf, t("contests.paper.about", lang, name=name), 12, style="B")
    pdf.ln(3)
    total = sum(int(a.get("prize_vnd") or 0) for a in awarded)
    for key, params in (
        ("contests.paper.grounds", {"name": name}),
        ("contests.paper.decides", {}),
        ("contests.paper.article1", {"count": len(awarded), "total": money(total)}),
        ("contests.paper.article2", {}),
        ("contests.paper.article3", {}),
    ):
        _line(pdf, t(key, lang, **params), 11, align="J")
        pdf.ln(1)
    pdf.ln(2)
    _prize_table(pdf, awarded, lang)
    notes = [
        f"{a['code']}: {a['board_reason']}" for a in awarded if a.get("decided_by_board") and a.get("board_reason")
    ]
    if notes:
        pdf.ln(2)
        _line(pdf, t("contests.paper.by_board", lang, reasons="; ".join(notes)), 9, align="L", height=5)
    pdf.ln(8)
    pdf.set_x(pdf.l_margin + half)
    pdf.set_font("dv", "B", 11)
    pdf.cell(half, 6, t("contests.paper.for_board", lang), align="C")
    return bytes(pdf.output())


def _prize_table(pdf: FPDF, awarded: Sequence[dict[str, Any]], lang: str) -> None:
    header = TEXTS.text("contests.paper.columns", lang).split("|")
    pdf.set_font("dv", "", 8.5)
    with pdf.table(
        col_widths=(8, 22, 48, 34, 28, 18, 11, 21),
        text_align=("CENTER", "LEFT", "LEFT", "LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT"),
        headings_style=FontFace(emphasis="BOLD"),
        line_height=4.5,
    ) as table:
        row = table.row()
        for heading in header:
            row.cell(heading)
        for number, a in enumerate(awarded, start=1):
            row = table.row()
            tier = label("tier", a.get("tier"))[lang] + (" (*)" if a.get("decided_by_board") else "")
            score = "" if a.get("final_score") is None else f"{a['final_score']:g}"
            for value in (
                str(number),
                a["code"],
                a["title"],
                ", ".join(a.get("authors") or []),
                a.get("organization") or "",
                tier,
                score,
                money(int(a.get("prize_vnd") or 0)),
            ):
                row.cell(value)


def certificate_pdf(
    edition: Mapping[str, Any], entry: Mapping[str, Any], *, font: str, verify_url: str, lang: str = "vi"
) -> bytes:
    """One A4 landscape certificate per awarded entry, naming its authors, with a QR code to verify it."""
    t = TEXTS.text
    name = edition["name"].get(lang) or edition["name"]["vi"]
    pdf = _pdf(font, "L")
    pdf.set_title(t("contests.paper.certificate", lang))
    pdf.set_draw_color(150, 20, 20)
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, 277, 190)
    pdf.set_y(20)
    _line(pdf, t("contests.paper.federation", lang), 13)
    _line(pdf, f"{t('contests.paper.board', lang)} {name.upper()}", 11)
    pdf.ln(6)
    _line(pdf, t("contests.paper.certificate", lang), 30, style="B", height=14)
    pdf.ln(4)
    _line(pdf, t("contests.paper.certifies", lang, name=name), 14)
    authors = [a["full_name"] for a in entry["entrant"]["authors"] if not a.get("erased")]
    _line(pdf, ", ".join(authors) or "—", 20, style="B", height=11)
    _line(pdf, t("contests.paper.authors_of", lang), 13)
    _line(pdf, f"“{entry['title']}”", 17, style="B", height=9)
    tier = label("tier", (entry.get("result") or {}).get("tier"))[lang]
    _line(pdf, t("contests.paper.won", lang, tier=tier), 18, height=10)
    issued = to_local(entry.get("certificate_issued_at") or datetime.now().astimezone())
    _line(pdf, t("contests.paper.date", lang, day=issued.day, month=issued.month, year=issued.year), 11)
    pdf.ln(4)
    _line(pdf, t("contests.paper.code", lang, code=entry["certificate_code"]), 10)
    _line(pdf, t("contests.paper.verify", lang, url=verify_url), 9)
    qr = io.BytesIO()
    segno.make(verify_url, error="m").save(qr, kind="png", scale=4, border=2)
    qr.seek(0)
    pdf.image(qr, x=250, y=160, w=30)
    return bytes(pdf.output())
