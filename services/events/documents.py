"""Documents the events service hands out: QR images of tickets, iCalendar files,
certificates of attendance as PDF, and exports of registrations and attendance
(CSV and XLSX). Pure functions from stored documents to bytes."""

from __future__ import annotations

import io
import os
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import segno
from fpdf import FPDF
from icalendar import Calendar, Event

from services.events.catalogue import EXPORT_COLUMNS, MESSAGES, STATUS_WORDS, text
from services.events.programme import ordered_sessions
from shared import tabular
from shared.clock import LOCAL_ZONE_NAME, local_time_text, parse_moment
from shared.errors import DomainError

local_text = local_time_text


def one_line(value: str) -> str:
    """Text for one calendar line: line breaks people typed become spaces."""
    return " ".join(value.split())


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
    events: Iterable[Any], *, name: str, tickets: dict[str, str] | None = None, event_url: Any = None
) -> bytes:
    """One VEVENT per session (UTC times; calendar programs show them in local time)."""
    cal = Calendar()
    cal.add("prodid", "-//LienHiep//events//VI")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", one_line(name))
    cal.add("x-wr-timezone", LOCAL_ZONE_NAME)
    for doc in events:
        ticket = (tickets or {}).get(doc["_id"])
        for sid, session in ordered_sessions(doc):
            cal.add_component(_entry(doc, sid, session, ticket))
    return cal.to_ical()


def _entry(doc: Any, sid: str, session: Any, ticket: str | None) -> Event:
    entry = Event()
    entry.add("uid", f"{doc['_id']}-{sid}@lienhiep")
    part = (session.get("title") or {}).get("vi")
    entry.add("summary", one_line(f"{doc['title']['vi']} – {part}" if part else doc["title"]["vi"]))
    entry.add("dtstart", parse_moment(session["starts_at"]))
    entry.add("dtend", parse_moment(session["ends_at"]))
    entry.add("dtstamp", parse_moment(doc.get("updated_at") or doc["starts_at"]))
    if doc.get("venue"):
        room = session.get("room")
        entry.add("location", one_line(f"{doc['venue']}, {room}" if room else doc["venue"]))
    if doc.get("online_url"):
        entry.add("url", doc["online_url"])
    lines = [
        (doc.get("description") or {}).get("vi"),
        text("ics.online", url=doc["online_url"]) if doc.get("online_url") else None,
        text("ics.ticket", code=ticket) if ticket else None,
    ]
    if any(lines):
        entry.add("description", "\n\n".join(line for line in lines if line))
    entry.add("status", "CANCELLED" if doc["status"] == "cancelled" else "CONFIRMED")
    return entry


# --- certificates -------------------------------------------------------------------

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",  # Debian/Ubuntu fonts-dejavu-core
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",  # Fedora, Alpine
    "/usr/share/fonts/TTF/DejaVuSans.ttf",  # Arch
    "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
)


class CertificateFontMissing(DomainError):
    status, code, title = 503, "certificate-font-missing", MESSAGES("events.font_missing")


def certificate_font(preferred: str) -> str:
    """The configured Unicode font, else a known one; Vietnamese needs a real Unicode TTF."""
    for path in (preferred, *FONT_CANDIDATES):
        if path and os.path.isfile(path):
            return path
    raise CertificateFontMissing(MESSAGES("events.font_missing.detail"), setting="EVENTS_CERTIFICATE_FONT")


def certificate_pdf(
    reg: Any,
    event: Any,
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


def registration_rows(regs: Iterable[Any]) -> list[list[Any]]:
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


def attendance_rows(regs: Iterable[Any]) -> list[list[Any]]:
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


def export(what: str, fmt: str, regs: Iterable[Any]) -> tuple[bytes, str]:
    """Registrations or attendance as a table (shared.tabular neutralises formulas)."""
    rows = registration_rows(regs) if what == "registrations" else attendance_rows(regs)
    header = EXPORT_COLUMNS[what]
    if fmt == "csv":
        return tabular.to_csv(header, rows), tabular.CSV_MEDIA + "; charset=utf-8"
    return tabular.to_xlsx(what, header, rows), tabular.XLSX_MEDIA


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%d-%H%M")
