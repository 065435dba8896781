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

from services.contests.catalogue import MESSAGES, label
from shared.clock import to_local
from shared.pdf import bold_variant


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
    t = MESSAGES.text
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
    header = MESSAGES.text("contests.paper.columns", lang).split("|")
    pdf.set_font("dv", "", 8.5)
    with pdf.table(
        col_widths=(10, 27, 44, 32, 25, 19, 12, 21),
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
    t = MESSAGES.text
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
