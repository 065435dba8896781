"""Documents the events service hands out: QR images of tickets, iCalendar files,
certificates of attendance as PDF, and exports of registrations and attendance
(CSV and XLSX). Pure functions from stored documents to bytes."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import segno
from fpdf import FPDF
from icalendar import Calendar, Event
from openpyxl import Workbook

from services.events.catalogue import EXPORT_COLUMNS, STATUS_WORDS, text
from services.events.clock import from_text, local_text
from services.events.programme import ordered_sessions
from shared.http import DomainError


def qr_png(code: str, scale: int = 8) -> bytes:
    out = io.BytesIO()
    segno.make(code, error="m").save(out, kind="png", scale=scale, border=2)
    return out.getvalue()


def qr_svg(code: str, scale: int = 8) -> bytes:
    out = io.BytesIO()
    segno.make(code, error="m").save(out, kind="svg", scale=scale, border=2, xmldecl=False)
    return out.getvalue()


# --- iCalendar ----------------------------------------------------------------------


def calendar(
    events: Iterable[dict[str, Any]], *, name: str, tickets: dict[str, str] | None = None, event_url: Any = None
) -> bytes:
    """One VEVENT per session (UTC times; calendar programs show them in local time)."""
    cal = Calendar()
    cal.add("prodid", "-//LienHiep//events//VI")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", "Asia/Ho_Chi_Minh")
    for doc in events:
        for sid, session in ordered_sessions(doc):
            entry = Event()
            entry.add("uid", f"{doc['_id']}-{sid}@lienhiep")
            title = doc["title"]["vi"]
            if session.get("title"):
                title = f"{title} – {session['title']['vi']}"
            entry.add("summary", title)
            entry.add("dtstart", from_text(session["starts_at"]))
            entry.add("dtend", from_text(session["ends_at"]))
            entry.add("dtstamp", from_text(doc.get("updated_at") or doc["starts_at"]))
            if doc.get("venue"):
                entry.add("location", doc["venue"] + (f", {session['room']}" if session.get("room") else ""))
            lines = []
            if doc.get("description"):
                lines.append(doc["description"]["vi"])
            if doc.get("online_url"):
                lines.append(text("ics.online", url=doc["online_url"]))
                entry.add("url", doc["online_url"])
            if tickets and doc["_id"] in tickets:
                lines.append(text("ics.ticket", code=tickets[doc["_id"]]))
            if lines:
                entry.add("description", "\n\n".join(lines))
            entry.add("status", "CANCELLED" if doc["status"] == "cancelled" else "CONFIRMED")
            cal.add_component(entry)
    return cal.to_ical()


# --- certificates -------------------------------------------------------------------

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",  # Debian/Ubuntu fonts-dejavu-core
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",  # Fedora, Alpine
    "/usr/share/fonts/TTF/DejaVuSans.ttf",  # Arch
    "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
)


class CertificateFontMissing(DomainError):
    status, code, title = 503, "certificate-font-missing", "Certificates cannot be printed on this server"


def certificate_font(preferred: str) -> str:
    """The configured Unicode font, else a known one; Vietnamese needs a real Unicode TTF."""
    for path in (preferred, *FONT_CANDIDATES):
        if path and os.path.isfile(path):
            return path
    raise CertificateFontMissing(
        "No Unicode TrueType font is installed; set EVENTS_CERTIFICATE_FONT or install fonts-dejavu-core",
        setting="EVENTS_CERTIFICATE_FONT",
    )


def certificate_pdf(
    reg: dict[str, Any],
    event: dict[str, Any],
    *,
    font_path: str,
    verify_url: str,
    federation: str,
    organizer_name: str | None,
) -> bytes:
    """A one-page A4 landscape certificate; the Unicode font renders Vietnamese."""
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_title(text("certificate.title"))
    pdf.set_author(federation)
    pdf.add_font("cert", "", certificate_font(font_path))
    pdf.add_page()
    pdf.set_draw_color(20, 70, 140)
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, 277, 190)
    pdf.set_font("cert", size=14)
    pdf.set_y(22)
    pdf.cell(0, 8, federation.upper(), align="C", new_x="LMARGIN", new_y="NEXT")
    if organizer_name:
        pdf.cell(0, 8, organizer_name, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)
    pdf.set_font("cert", size=30)
    pdf.cell(0, 16, text("certificate.title"), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cert", size=12)
    pdf.cell(0, 7, text("certificate.title", "en"), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)
    pdf.set_font("cert", size=16)
    pdf.cell(0, 9, text("certificate.certifies"), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cert", size=24)
    pdf.cell(0, 14, reg["full_name"], align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cert", size=16)
    pdf.cell(
        0,
        9,
        text("certificate.attended", kind=text(f"kind.{event['kind']}").lower()),
        align="C",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font("cert", size=18)
    pdf.multi_cell(0, 10, f"“{event['title']['vi']}”", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cert", size=13)
    start, end = local_text(event["starts_at"]).split(" ")[1], local_text(event["ends_at"]).split(" ")[1]
    pdf.cell(0, 8, text("certificate.when", start=start, end=end), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(
        0, 8, text("certificate.hours", hours=f"{reg['certificate_hours']:g}"), align="C", new_x="LMARGIN", new_y="NEXT"
    )
    pdf.ln(6)
    pdf.set_font("cert", size=11)
    pdf.cell(0, 6, text("certificate.code", code=reg["certificate_code"]), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 6, text("certificate.verify", url=verify_url), align="C", new_x="LMARGIN", new_y="NEXT")
    qr = io.BytesIO(qr_png(verify_url, scale=4))
    pdf.image(qr, x=250, y=160, w=30)
    return bytes(pdf.output())


# --- exports ------------------------------------------------------------------------


def registration_rows(regs: Iterable[dict[str, Any]]) -> list[list[Any]]:
    rows = []
    for r in regs:
        checkins = ", ".join(f"{sid}: {local_text(at)}" for sid, at in sorted((r.get("checkins") or {}).items()))
        rows.append(
            [
                r["_id"],
                STATUS_WORDS.get(r["status"], r["status"]),
                r.get("full_name"),
                r.get("email"),
                r.get("phone"),
                r.get("member_id"),
                r.get("ticket_code"),
                r.get("wait_seq"),
                local_text(r["created_at"]) if r.get("created_at") else None,
                local_text(r["cancelled_at"]) if r.get("cancelled_at") else None,
                checkins,
            ]
        )
    return rows


def attendance_rows(regs: Iterable[dict[str, Any]]) -> list[list[Any]]:
    rows = []
    for r in regs:
        for sid, at in sorted((r.get("checkins") or {}).items()):
            rows.append(
                [
                    r["_id"],
                    r.get("full_name"),
                    r.get("email"),
                    r.get("phone"),
                    r.get("member_id"),
                    r.get("ticket_code"),
                    sid,
                    local_text(at),
                ]
            )
    return rows


def to_csv(header: list[str], rows: list[list[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([["" if v is None else _safe(v) for v in row] for row in rows])
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # BOM: Excel opens Vietnamese CSV correctly


def to_xlsx(sheet: str, header: list[str], rows: list[list[Any]]) -> bytes:
    book = Workbook(write_only=True)
    ws = book.create_sheet(sheet[:31])
    ws.append(header)
    for row in rows:
        ws.append([_safe(v) if isinstance(v, str) else v for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _safe(value: Any) -> Any:
    """Neutralise spreadsheet formulas in people's input (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@") and not _is_phone(value):
        return "'" + value
    return value


def _is_phone(value: str) -> bool:
    return value.startswith("+") and value[1:].isdigit()


def export(what: str, fmt: str, regs: list[dict[str, Any]]) -> tuple[bytes, str]:
    rows = registration_rows(regs) if what == "registrations" else attendance_rows(regs)
    header = EXPORT_COLUMNS[what]
    if fmt == "csv":
        return to_csv(header, rows), "text/csv; charset=utf-8"
    return to_xlsx(what, header, rows), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%d-%H%M")
