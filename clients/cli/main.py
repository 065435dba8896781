"""`lienhiep`: the staff's daily work from a terminal, through the public API only.

Exit codes scripts can rely on: 0 done; 1 refused by the API (the problem's title on
stderr, then its detail and the fields at fault) or the API unreachable; 2 wrong usage.
Readable tables by default, `--json` for scripts, `--help` on every command.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import sys
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import click
from pydantic import BaseModel
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from clients import api as lh
from clients.cli import config

T = TypeVar("T")
LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)
MEDIA = {".csv": "text/csv", ".xlsx": lh.XLSX}


class Context:
    def __init__(self, url: str | None, as_json: bool, lang: str) -> None:
        saved = config.load()
        self.saved = saved
        self.url = (
            url or os.environ.get("LIENHIEP_URL") or (saved.url if saved else None) or config.DEFAULT_URL
        ).rstrip("/")
        self.json = as_json
        self.lang = lang
        env_token = os.environ.get("LIENHIEP_TOKEN")
        self.token_from_file = not env_token and saved is not None and saved.url == self.url
        self.token = env_token or (saved.token if self.token_from_file and saved else None)

    def client(self) -> lh.ApiClient:
        return lh.ApiClient(self.url, self.token, language=self.lang)

    async def keep_alive(self, api: lh.ApiClient) -> None:
        """Refresh a saved login past half its life, so a working day needs one `lienhiep login`."""
        saved = self.saved
        if not self.token_from_file or saved is None or not saved.needs_refresh(config.now()):
            return
        try:
            fresh = await api.refresh()
        except lh.ApiProblem:
            return  # the token still works for now; the next command tries again
        api.token = self.token = fresh.access_token
        config.save(
            config.Saved(
                url=self.url,
                token=fresh.access_token,
                username=fresh.user.username,
                expires_at=fresh.expires_at.timestamp(),
                expires_in=fresh.expires_in,
            )
        )


def with_json(f: Callable[..., Any]) -> Callable[..., Any]:
    """`--json` accepted after any command as well as before it."""

    @click.option("--json", "as_json", is_flag=True, help="Print the API's answer as JSON (for scripts).")
    @functools.wraps(f)
    def wrapper(*args: Any, as_json: bool = False, **kwargs: Any) -> Any:
        ctx = click.get_current_context().find_object(Context)
        if ctx is not None and as_json:
            ctx.json = True
        return f(*args, **kwargs)

    return wrapper


def call(work: Callable[[lh.ApiClient], Awaitable[T]]) -> T:
    """Run one piece of work against the API; a refusal exits 1 with the problem on stderr, never a traceback."""
    ctx = click.get_current_context().find_object(Context)
    assert ctx is not None

    async def run() -> T:
        async with ctx.client() as api:
            await ctx.keep_alive(api)
            return await work(api)

    try:
        return asyncio.run(run())
    except lh.ApiProblem as problem:
        refused(problem)
        raise AssertionError("unreachable") from None


def refused(problem: lh.ApiProblem) -> None:
    err.print(f"[bold red]{problem.title}[/]", markup=True)
    if problem.detail:
        err.print(problem.detail, markup=False)
    for field, messages in problem.by_field().items():
        for message in messages:
            err.print(f"  {field}: {message}", markup=False)
    if problem.status == 401:
        err.print("Log in with: lienhiep login", markup=False)
    sys.exit(1)


def dump(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [dump(v) for v in value]
    if isinstance(value, dict):
        return {k: dump(v) for k, v in value.items()}
    return value


def show(
    value: Any, columns: Iterable[tuple[str, Callable[[Any], Any]]] | None = None, title: str | None = None
) -> None:
    """JSON with --json; otherwise a table of rows (a list) or of fields (one object)."""
    ctx = click.get_current_context().find_object(Context)
    if ctx is not None and ctx.json:
        click.echo(json.dumps(dump(value), ensure_ascii=False, indent=2))
        return
    if isinstance(value, list):
        cols = list(columns or [])
        table = Table(title=title, show_lines=False)
        for name, _ in cols:
            table.add_column(name)
        for row in value:
            table.add_row(*[_text(get(row)) for _, get in cols])
        out.print(table)
        if not value:
            out.print("(none)")
        return
    table = Table(show_header=False, title=title)
    table.add_column("field", style="bold")
    table.add_column("value")
    for key, item in (dump(value) or {}).items():
        table.add_row(str(key), _text(item))
    out.print(table)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(LOCAL).strftime("%d/%m/%Y %H:%M")
    if isinstance(value, (list, tuple)):
        return ", ".join(_text(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def title_of(text: dict[str, Any] | None, lang: str) -> str:
    if not text:
        return ""
    return str(text.get(lang) or text.get("vi") or "")


def upload_of(path: Path) -> lh.Upload:
    media = MEDIA.get(path.suffix.lower(), "application/octet-stream")
    return path.name, path.read_bytes(), media


def ctx_obj() -> Context:
    ctx = click.get_current_context().find_object(Context)
    assert ctx is not None
    return ctx


# --- the command --------------------------------------------------------------------------


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--url", metavar="URL", help=f"Gateway URL (default: LIENHIEP_URL, the saved login's, or {config.DEFAULT_URL})."
)
@click.option("--json", "as_json", is_flag=True, help="Print the API's answers as JSON (for scripts).")
@click.option(
    "--lang",
    type=click.Choice(["vi", "en"]),
    default=lambda: os.environ.get("LIENHIEP_LANG", "vi"),
    show_default="vi",
    help="Language of the API's messages (LIENHIEP_LANG).",
)
@click.version_option(package_name="lienhiep", prog_name="lienhiep")
@click.pass_context
def cli(ctx: click.Context, url: str | None, as_json: bool, lang: str) -> None:
    """LienHiep for staff: organisations, members, events, check-in, messages and keys.

    Log in once with `lienhiep login`; scripts may set LIENHIEP_URL and LIENHIEP_TOKEN instead.
    Exit codes: 0 done, 1 refused by the API (reason on stderr), 2 wrong usage.
    """
    ctx.obj = Context(url, as_json, lang)


@cli.command()
@click.option("--username", "-u", prompt=True, help="Your staff username.")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    envvar="LIENHIEP_PASSWORD",
    help="Your password (prompted when not given; LIENHIEP_PASSWORD).",
)
@with_json
def login(username: str, password: str) -> None:
    """Log in and keep the login in your config folder (readable by you only)."""
    ctx = ctx_obj()
    ctx.token = None
    result = call(lambda api: api.login(username.strip().lower(), password))
    where = config.save(
        config.Saved(
            url=ctx.url,
            token=result.access_token,
            username=result.user.username,
            expires_at=result.expires_at.timestamp(),
            expires_in=result.expires_in,
        )
    )
    if ctx.json:
        show({"user": dump(result.user), "expires_at": result.expires_at.isoformat(), "saved_to": str(where)})
        return
    out.print(f"Logged in as {result.user.username} ({result.user.role}) at {ctx.url}; login kept in {where}")


@cli.command()
def logout() -> None:
    """End your login (the token stops working at once) and forget it."""
    call(lambda api: api.logout())
    config.forget()
    out.print("Logged out.")


@cli.command()
@with_json
def whoami() -> None:
    """Who the current login belongs to."""
    show(call(lambda api: api.me()))


# --- organisations ----------------------------------------------------------------------------


@cli.group()
def orgs() -> None:
    """The organisation tree: the federation, associations, branches, centres, enterprises."""


ORG_KINDS = ["federation", "association", "centre", "branch", "enterprise"]


@orgs.command("list")
@click.option("--kind", type=click.Choice(ORG_KINDS))
@with_json
def orgs_list(kind: str | None) -> None:
    """The tree, parents before children."""
    items = call(lambda api: api.organizations(kind=kind))
    show(
        items,
        [
            ("code", lambda o: "  " * o.depth + o.code),
            ("name", lambda o: o.name),
            ("kind", lambda o: o.kind),
            ("status", lambda o: o.status),
            ("id", lambda o: o.id),
        ],
    )


@orgs.command("create")
@click.option("--code", required=True, help="Short code, e.g. HOI-TIN-HOC.")
@click.option("--name", required=True)
@click.option("--kind", required=True, type=click.Choice(ORG_KINDS))
@click.option("--parent", "parent_id", help="Parent organisation id.")
@with_json
def orgs_create(code: str, name: str, kind: str, parent_id: str | None) -> None:
    """Add an organisation to the tree."""
    fields: dict[str, Any] = {"code": code, "name": name, "kind": kind}
    if parent_id:
        fields["parent_id"] = parent_id
    show(call(lambda api: api.create_organization(fields)))


@orgs.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_json
def orgs_import(file: Path) -> None:
    """Import organisations from a CSV or XLSX file (administrators)."""
    report = call(lambda api: api.import_organizations(upload_of(file)))
    if ctx_obj().json:
        show(report)
        return
    out.print(
        f"created {report.created}, updated {report.updated}, unchanged {report.unchanged}, rejected {report.rejected}"
    )
    _rejections(report.errors)


def _rejections(errors: list[lh.RowRejection]) -> None:
    if errors:
        show(
            errors,
            [("line", lambda e: e.line), ("column", lambda e: e.column), ("reason", lambda e: e.reason)],
            title="Rejected rows",
        )


# --- members ------------------------------------------------------------------------------------


@cli.group()
def members() -> None:
    """Members: search, show, import, export, approve, renew, erase."""


STATUSES = ["applied", "active", "suspended", "lapsed", "resigned", "rejected", "erased"]


@members.command("search")
@click.argument("query", required=False)
@click.option("--org", "organization_id", help="Only this organisation (and its sub-organisations).")
@click.option("--status", type=click.Choice(STATUSES))
@click.option("--young", is_flag=True, default=None, help="Only young intellectuals (35 or under).")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 200))
@with_json
def members_search(
    query: str | None, organization_id: str | None, status: str | None, young: bool | None, limit: int
) -> None:
    """Find members by name (case and diacritics ignored: "nguyen" finds "Nguyễn"), email or phone."""
    page = call(
        lambda api: api.members(
            q=query, organization_id=organization_id, status=status, young_intellectual=young, limit=limit
        )
    )
    show(
        page if ctx_obj().json else page.items,
        [
            ("name", lambda m: m.full_name),
            ("status", lambda m: m.status),
            ("email", lambda m: m.email),
            ("phone", lambda m: m.phone),
            ("id", lambda m: m.id),
        ],
    )


@members.command("show")
@click.argument("member_id")
@with_json
def members_show(member_id: str) -> None:
    """One member's profile."""
    show(call(lambda api: api.member(member_id)))


def _progress_import(file: Path) -> lh.ImportJob:
    async def work(api: lh.ApiClient) -> lh.ImportJob:
        job = await api.import_members(upload_of(file))
        if ctx_obj().json:
            while not job.finished:
                await asyncio.sleep(0.5)
                job = await api.import_job(job.id)
            return job
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=err) as bar:
            task = bar.add_task(f"Importing {file.name}", total=None)
            while not job.finished:
                bar.update(task, completed=job.rows)
                await asyncio.sleep(0.5)
                job = await api.import_job(job.id)
            bar.update(task, total=job.rows, completed=job.rows)
        return job

    return call(work)


@members.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_json
def members_import(file: Path) -> None:
    """Import members from CSV or XLSX, with a progress bar, then the report of rejected rows."""
    job = _progress_import(file)
    if ctx_obj().json:
        show(job)
        return
    out.print(
        f"{job.state}: {job.rows} rows, created {job.created}, updated {job.updated}, "
        f"unchanged {job.unchanged}, rejected {job.rejected}"
    )
    _rejections(job.errors)


@members.command("export")
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv"]), default="xlsx", show_default=True)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (default: the name the API suggests).",
)
@click.option("--org", "organization_id")
@click.option("--status", type=click.Choice(STATUSES))
@click.option("--query", "q")
def members_export(
    fmt: str, output: Path | None, organization_id: str | None, status: str | None, q: str | None
) -> None:
    """Export members as XLSX or CSV (the same columns an import takes)."""
    target = call(
        lambda api: _save(
            api.export_members(fmt, {"organization_id": organization_id, "status": status, "q": q}), output
        )
    )
    out.print(f"Saved {target}")


async def _save(download_cm: Any, output: Path | None) -> Path:
    async with download_cm as download:
        target = output or Path(download.filename)
        with open(target, "wb") as f:
            async for chunk in download.chunks():
                f.write(chunk)
    return target


@members.command("approve")
@click.argument("member_id")
@with_json
def members_approve(member_id: str) -> None:
    """Approve an application: the member becomes active with a first term."""
    show(call(lambda api: api.member_transition(member_id, "approve")))


@members.command("renew")
@click.argument("member_id")
@click.option("--years", default=1, show_default=True, type=click.IntRange(1, 10))
@click.option("--amount", type=click.IntRange(0), help="Dues paid, in VND.")
@click.option("--paid-on", type=click.DateTime(["%d/%m/%Y", "%Y-%m-%d"]), help="Day the dues were paid (dd/mm/yyyy).")
@click.option("--receipt", help="Receipt number.")
@with_json
def members_renew(
    member_id: str, years: int, amount: int | None, paid_on: datetime | None, receipt: str | None
) -> None:
    """Renew a membership, recording the dues paid if given."""
    dues = None
    if amount is not None:
        if paid_on is None:
            raise click.UsageError("--paid-on goes with --amount")
        dues = {
            "amount_vnd": amount,
            "paid_on": paid_on.date().isoformat(),
            **({"receipt_number": receipt} if receipt else {}),
        }
    show(call(lambda api: api.renew_member(member_id, years, dues)))


@members.command("erase")
@click.argument("member_id")
@click.option("--confirm-name", help="The member's full name, typed as a confirmation (asked when not given).")
@with_json
def members_erase(member_id: str, confirm_name: str | None) -> None:
    """Erase a member's personal data for good (administrators). Asks for their name first."""
    member = call(lambda api: api.member(member_id))
    typed = (
        confirm_name
        if confirm_name is not None
        else click.prompt(f"Type the member's full name ({member.full_name}) to erase their personal data")
    )
    if typed.strip() != member.full_name:
        raise click.UsageError("the name typed does not match; nothing was erased")
    show(call(lambda api: api.erase_member(member_id)))


# --- events -------------------------------------------------------------------------------------------


@cli.group()
def events() -> None:
    """Seminars, trainings and conferences."""


def _event_rows(items: list[lh.Event], lang: str) -> None:
    show(
        items,
        [
            ("starts", lambda e: e.starts_at),
            ("title", lambda e: title_of(e.title, lang)),
            ("kind", lambda e: e.kind),
            ("status", lambda e: e.status),
            ("seats", lambda e: f"{e.confirmed}/{e.capacity} (+{e.waiting} waiting)"),
            ("id", lambda e: e.id),
        ],
    )


@events.command("list")
@click.option("--status", type=click.Choice(["draft", "published", "registration_closed", "completed", "cancelled"]))
@click.option("--upcoming", is_flag=True, help="Only events that have not ended.")
@with_json
def events_list(status: str | None, upcoming: bool) -> None:
    """Events, soonest first."""
    page = call(lambda api: api.events(status=status, upcoming=upcoming, limit=200))
    if ctx_obj().json:
        show(page)
    else:
        _event_rows(page.items, ctx_obj().lang)


def _local(text: str) -> str:
    """A session time as typed (dd/mm/yyyy HH:MM or ISO), in Asia/Ho_Chi_Minh unless it says otherwise."""
    for pattern in ("%d/%m/%Y %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"):
        try:
            return datetime.strptime(text.strip(), pattern).replace(tzinfo=LOCAL).isoformat()
        except ValueError:
            continue
    try:
        return datetime.fromisoformat(text.strip()).isoformat()
    except ValueError:
        raise click.BadParameter(f"{text!r}: write dd/mm/yyyy HH:MM") from None


@events.command("create")
@click.option("--kind", required=True, type=click.Choice(["seminar", "training", "conference"]))
@click.option("--title", required=True, help="Title in Vietnamese.")
@click.option("--title-en", help="Title in English.")
@click.option("--organizer", required=True, help="Organising organisation (id or code).")
@click.option("--capacity", required=True, type=click.IntRange(1, 100_000))
@click.option("--venue")
@click.option("--online-url")
@click.option(
    "--session",
    "sessions",
    multiple=True,
    required=True,
    metavar="START/END",
    help='A session, e.g. "20/12/2026 08:00/20/12/2026 11:30" (repeat for more).',
)
@click.option("--hours", type=float, help="Training hours (trainings).")
@with_json
def events_create(
    kind: str,
    title: str,
    title_en: str | None,
    organizer: str,
    capacity: int,
    venue: str | None,
    online_url: str | None,
    sessions: tuple[str, ...],
    hours: float | None,
) -> None:
    """Create an event as a draft (publish it with `events publish`)."""
    parsed = []
    for text in sessions:
        parts = text.split("/")
        if len(parts) == 2:  # ISO: START/END
            start, end = parts
        elif len(parts) == 6:  # dd/mm/yyyy HH:MM/dd/mm/yyyy HH:MM
            start, end = "/".join(parts[:3]), "/".join(parts[3:])
        else:
            raise click.BadParameter(f"{text!r}: write START/END", param_hint="--session")
        parsed.append({"starts_at": _local(start), "ends_at": _local(end)})
    body: dict[str, Any] = {
        "kind": kind,
        "title": {"vi": title, **({"en": title_en} if title_en else {})},
        "organizer": organizer,
        "capacity": capacity,
        "sessions": parsed,
    }
    for key, value in (("venue", venue), ("online_url", online_url), ("training_hours", hours)):
        if value is not None:
            body[key] = value
    show(call(lambda api: api.create_event(body)))


@events.command("publish")
@click.argument("event_id")
@with_json
def events_publish(event_id: str) -> None:
    """Publish an event: it takes registrations inside its window."""
    show(call(lambda api: api.event_transition(event_id, "publish")))


@events.command("cancel")
@click.argument("event_id")
@click.option("--reason", required=True, help="Told to every registrant.")
@with_json
def events_cancel(event_id: str, reason: str) -> None:
    """Cancel an event; every registrant is told why."""
    show(call(lambda api: api.cancel_event(event_id, reason)))


@cli.group()
def registrations() -> None:
    """Registrations of an event."""


@registrations.command("list")
@click.argument("event_id")
@click.option("--status", type=click.Choice(["confirmed", "waitlisted", "cancelled"]))
@with_json
def registrations_list(event_id: str, status: str | None) -> None:
    """Registrations of an event, in order."""
    page = call(lambda api: api.registrations(event_id, status=status, limit=1000))
    show(
        page if ctx_obj().json else page.items,
        [
            ("name", lambda r: r.full_name),
            ("status", lambda r: r.status),
            ("ticket", lambda r: r.ticket_code),
            ("waiting", lambda r: r.position),
            ("id", lambda r: r.id),
        ],
    )


@registrations.command("export")
@click.argument("event_id")
@click.option("--what", type=click.Choice(["registrations", "attendance"]), default="registrations", show_default=True)
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv"]), default="xlsx", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path))
def registrations_export(event_id: str, what: str, fmt: str, output: Path | None) -> None:
    """Export an event's registrations (or attendance) as XLSX or CSV."""
    target = call(lambda api: _save(api.export_event(event_id, what, fmt), output))  # type: ignore[arg-type]
    out.print(f"Saved {target}")


@cli.command()
@click.argument("code")
@click.option("--session", "session_id", help="Session id (default: the session under way).")
@with_json
def checkin(code: str, session_id: str | None) -> None:
    """Check a ticket in at the door."""
    result = call(lambda api: api.check_in(code, session_id))
    if ctx_obj().json:
        show(result)
        return
    out.print(f"[bold green]✓ {result.registration.full_name}[/] checked in {_text(result.checked_in_at)}")


# --- notifications -----------------------------------------------------------------------------------


@cli.group()
def deliveries() -> None:
    """The delivery log of emails and SMS (administrators)."""


@deliveries.command("list")
@click.option(
    "--status",
    type=click.Choice(
        ["queued", "sending", "sent", "delivered", "undelivered", "failed", "dead", "skipped", "paused", "cancelled"]
    ),
)
@click.option("--member", "member_id")
@click.option("--campaign", "campaign_id")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 500))
@with_json
def deliveries_list(status: str | None, member_id: str | None, campaign_id: str | None, limit: int) -> None:
    """Deliveries, newest first."""
    items = call(lambda api: api.deliveries(status=status, member_id=member_id, campaign_id=campaign_id, limit=limit))
    show(
        items,
        [
            ("when", lambda d: d.created_at),
            ("template", lambda d: d.template),
            ("channel", lambda d: d.channel),
            ("status", lambda d: d.status),
            ("attempts", lambda d: d.attempts),
            ("key", lambda d: d.key),
        ],
    )


@cli.group()
def parked() -> None:
    """Messages parked after failing every attempt (administrators)."""


@parked.command("list")
@click.option("--service", help="Only this service (e.g. membership, events, notifications).")
@with_json
def parked_list(service: str | None) -> None:
    """Parked messages of every service that lists them, per consumer."""

    async def work(api: lh.ApiClient) -> dict[str, Any]:
        services = [s for s in await api.parked_services() if service in (None, s)]
        reports = [await api.parked(s) for s in services]
        dead = await api.dead_letters() if service in (None, "notifications") else None
        # Notifications' parked events come from its older endpoint until it joins the family.
        legacy = dead.events if dead is not None and "notifications" not in services else []
        return {
            "services": reports,
            "notifications_legacy": legacy,
            "dead_deliveries": dead.deliveries if dead is not None else [],
        }

    found = call(work)
    if ctx_obj().json:
        show(found)
        return
    rows = [(r.service, c.consumer, c.parked) for r in found["services"] for c in r.consumers if c.parked]
    rows += [(r.service, "outbox", len(r.unpublished)) for r in found["services"] if r.unpublished]
    counts: dict[str, int] = {}
    for message in found["notifications_legacy"]:
        counts[message.handler] = counts.get(message.handler, 0) + 1
    rows += [("notifications", handler, n) for handler, n in counts.items()]
    show(
        rows,
        [("service", lambda r: r[0]), ("consumer", lambda r: r[1]), ("parked", lambda r: r[2])],
        title="Parked messages",
    )
    show(
        found["dead_deliveries"],
        [
            ("template", lambda d: d.template),
            ("channel", lambda d: d.channel),
            ("last error", lambda d: d.last_error),
            ("key", lambda d: d.key),
        ],
        title="Dead-lettered deliveries",
    )


@parked.command("replay")
@click.argument("consumer")
@click.option("--service", default="notifications", show_default=True, help="The service the consumer belongs to.")
@with_json
def parked_replay(consumer: str, service: str) -> None:
    """Put a consumer's parked messages (or `outbox`: the events set aside) back to work."""

    async def work(api: lh.ApiClient) -> int:
        if service in await api.parked_services():
            return await api.replay_parked_messages(service, consumer)
        return await api.replay_parked(consumer)

    count = call(work)
    if ctx_obj().json:
        show({"service": service, "consumer": consumer, "replayed": count})
    else:
        out.print(f"Replayed {count} message(s).")


@cli.group()
def campaigns() -> None:
    """Announcements to a segment of members."""


def _follow(campaign: lh.Campaign, follow: bool) -> lh.Campaign:
    if not follow or ctx_obj().json:
        return campaign

    async def work(api: lh.ApiClient) -> lh.Campaign:
        current = campaign
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=err) as bar:
            task = bar.add_task(current.name, total=None)
            while current.status == "running" and not (current.planning_done and current.handled >= current.planned):
                bar.update(task, total=current.planned if current.planning_done else None, completed=current.handled)
                await asyncio.sleep(0.5)
                current = await api.campaign(current.id)
            bar.update(task, total=max(current.planned, 1), completed=current.handled)
        return current

    return call(work)


def _campaign_view(c: lh.Campaign) -> None:
    if ctx_obj().json:
        show(c)
        return
    out.print(
        f"{c.name} ({c.id}): {c.status}, {c.handled} of {c.planned} handled"
        f"{'' if c.planning_done else ' (still planning)'}"
    )
    show({k: v for k, v in c.progress.items() if v})


@campaigns.command("send")
@click.option("--name", required=True)
@click.option("--segment", required=True, type=click.Choice(["organization", "expertise", "event", "consented"]))
@click.option("--value", help="Organisation id, expertise or event id (not for `consented`).")
@click.option("--channel", "channels", multiple=True, type=click.Choice(["email", "sms"]), required=True)
@click.option("--subject", help="Email subject.")
@click.option("--body", help="Email text.")
@click.option("--sms-text", help="SMS text.")
@click.option("--follow", is_flag=True, help="Show a progress bar until the campaign is done.")
@with_json
def campaigns_send(
    name: str,
    segment: str,
    value: str | None,
    channels: tuple[str, ...],
    subject: str | None,
    body: str | None,
    sms_text: str | None,
    follow: bool,
) -> None:
    """Start an announcement to a segment (it runs in the background)."""
    fields: dict[str, Any] = {
        "name": name,
        "segment": {"kind": segment, **({"value": value} if value else {})},
        "channels": list(channels),
    }
    for key, item in (("subject", subject), ("body", body), ("sms_text", sms_text)):
        if item:
            fields[key] = item
    _campaign_view(_follow(call(lambda api: api.create_campaign(fields)), follow))


@campaigns.command("status")
@click.argument("campaign_id")
@click.option("--follow", is_flag=True, help="Show a progress bar until the campaign is done.")
@with_json
def campaigns_status(campaign_id: str, follow: bool) -> None:
    """A campaign's progress."""
    _campaign_view(_follow(call(lambda api: api.campaign(campaign_id)), follow))


for _action, _help in (
    ("pause", "Pause a campaign: nothing more is sent until resumed."),
    ("resume", "Resume a paused campaign where it stopped."),
    ("cancel", "Cancel a campaign: what is unsent is dropped."),
):

    def _make(action: str) -> Callable[[str], None]:
        def command(campaign_id: str) -> None:
            _campaign_view(call(lambda api: api.campaign_transition(campaign_id, action)))  # type: ignore[arg-type]

        return command

    campaigns.command(_action, help=_help)(with_json(click.argument("campaign_id")(_make(_action))))


# --- administration -----------------------------------------------------------------------------------


@cli.group()
def keys() -> None:
    """Partner API keys (administrators)."""


@keys.command("create")
@click.option("--name", required=True, help="Who the key is for.")
@click.option("--scope", "scopes", multiple=True, required=True, help="e.g. members:read (repeat for more).")
@click.option("--org", "organization_id", help="Limit the key to this organisation and its subtree.")
@with_json
def keys_create(name: str, scopes: tuple[str, ...], organization_id: str | None) -> None:
    """Create a partner key: it is shown this once."""
    created = call(lambda api: api.create_api_key(name, list(scopes), organization_id))
    if ctx_obj().json:
        show(created)
        return
    out.print(f"Key for {created.name} (id {created.id}); store it now, it is not shown again:")
    click.echo(created.key)


@keys.command("list")
@with_json
def keys_list() -> None:
    """Partner keys with their last use (never the keys themselves)."""
    show(
        call(lambda api: api.api_keys()),
        [
            ("id", lambda k: k.id),
            ("name", lambda k: k.name),
            ("scopes", lambda k: k.scopes),
            ("organisation", lambda k: k.organization_id),
            ("last used", lambda k: k.last_used_at),
            ("revoked", lambda k: k.revoked_at),
        ],
    )


@keys.command("revoke")
@click.argument("key_id")
@with_json
def keys_revoke(key_id: str) -> None:
    """Revoke a key: it stops working at once."""
    show(call(lambda api: api.revoke_api_key(key_id)))


@cli.group()
def staff() -> None:
    """Staff accounts (administrators)."""


@staff.command("list")
@with_json
def staff_list() -> None:
    """Staff accounts."""
    show(
        call(lambda api: api.staff()),
        [
            ("username", lambda s: s.username),
            ("role", lambda s: s.role),
            ("organisation", lambda s: s.organization_id),
            ("locked", lambda s: "yes" if s.locked else ""),
            ("disabled", lambda s: "yes" if s.disabled else ""),
            ("last login", lambda s: s.last_login_at),
        ],
    )


@staff.command("create")
@click.option("--username", required=True)
@click.option("--role", required=True, type=click.Choice(["admin", "manager"]))
@click.option("--org", "organization_id", help="The association a manager manages.")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="At least 12 characters (prompted when not given).",
)
@with_json
def staff_create(username: str, role: str, organization_id: str | None, password: str) -> None:
    """Create a staff account."""
    fields: dict[str, Any] = {"username": username, "password": password, "role": role}
    if organization_id:
        fields["organization_id"] = organization_id
    show(call(lambda api: api.create_staff(fields)))


@staff.command("unlock")
@click.argument("username")
@with_json
def staff_unlock(username: str) -> None:
    """Unlock an account locked by failed logins."""
    show(call(lambda api: api.staff_action(username, "unlock")))


def main() -> None:
    # Click answers wrong usage with exit code 2 and refusals leave through `refused` with 1.
    cli(prog_name="lienhiep")


if __name__ == "__main__":
    main()
