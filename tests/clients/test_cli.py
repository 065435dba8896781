"""The real `lienhiep` command, run as a subprocess against the running platform: what
a script sees (JSON on stdout, exit codes 0/1/2, the problem's title on stderr, never a
traceback) and what a person sees (tables, --help everywhere)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from clients.cli.main import cli
from tests.clients.conftest import ADMIN_PASSWORD, DATA, name_tag, run

pytestmark = pytest.mark.e2e
COMMAND = str(Path(sys.executable).parent / "lienhiep")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path


def lienhiep(
    gateway_url: str, home: Path, *args: str, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LIENHIEP_")}
    environment.update(
        HOME=str(home), XDG_CONFIG_HOME=str(home / "config"), LIENHIEP_URL=gateway_url, COLUMNS="200", **(env or {})
    )
    return subprocess.run([COMMAND, *args], capture_output=True, text=True, env=environment, input=stdin, timeout=120)


def logged_in(gateway_url: str, home: Path) -> None:
    done = lienhiep(gateway_url, home, "login", "--username", "admin", "--password", ADMIN_PASSWORD)
    assert done.returncode == 0, done.stderr


def as_json(done: subprocess.CompletedProcess[str]):
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_login_keeps_the_token_for_the_user_alone_and_logout_ends_it(gateway_url, home):
    logged_in(gateway_url, home)
    saved = home / "config" / "lienhiep" / "credentials.json"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert ADMIN_PASSWORD not in saved.read_text()
    me = as_json(lienhiep(gateway_url, home, "whoami", "--json"))
    assert me == {"username": "admin", "role": "admin", "organization_id": None}
    token = json.loads(saved.read_text())["token"]
    assert lienhiep(gateway_url, home, "logout").returncode == 0
    after = lienhiep(gateway_url, home, "--json", "--lang", "en", "whoami", env={"LIENHIEP_TOKEN": token})
    assert after.returncode == 1 and "Not authenticated" in after.stderr
    vietnamese = lienhiep(gateway_url, home, "whoami", env={"LIENHIEP_TOKEN": token})
    assert vietnamese.returncode == 1 and "Chưa đăng nhập" in vietnamese.stderr


def test_a_refused_request_exits_1_with_the_problem_and_no_traceback(gateway_url, home):
    logged_in(gateway_url, home)
    done = lienhiep(gateway_url, home, "members", "show", "no-such-member")
    assert done.returncode == 1
    assert done.stdout == "" and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[0] in ("Not found", "Không tìm thấy")
    wrong = lienhiep(gateway_url, home, "login", "--username", "admin", "--password", "not-the-password")
    assert wrong.returncode == 1 and "Traceback" not in wrong.stderr
    down = lienhiep("http://127.0.0.1:9", home, "whoami")
    assert down.returncode == 1 and "unreachable" in down.stderr and "Traceback" not in down.stderr


def test_wrong_usage_exits_2(gateway_url, home):
    assert lienhiep(gateway_url, home, "members", "fly").returncode == 2
    assert lienhiep(gateway_url, home, "events", "create", "--kind", "party").returncode == 2


def test_every_command_has_help():
    runner = CliRunner()
    paths: list[list[str]] = [[]]
    seen = []
    while paths:
        path = paths.pop()
        result = runner.invoke(cli, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Usage:" in result.output
        seen.append(" ".join(path))
        command = cli
        for name in path:
            command = command.commands[name]  # type: ignore[attr-defined]
        for name in getattr(command, "commands", {}):
            paths.append([*path, name])
    assert {"members import", "campaigns send", "parked replay", "keys revoke", "staff unlock", "checkin"} <= set(seen)


def test_the_real_command_answers_help(gateway_url, home):
    done = lienhiep(gateway_url, home, "--help")
    assert done.returncode == 0 and "members" in done.stdout and "Exit codes" in " ".join(done.stdout.split())


def test_organisations_and_members_are_imported_with_their_reports(gateway_url, home, tmp_path):
    logged_in(gateway_url, home)
    orgs = as_json(lienhiep(gateway_url, home, "orgs", "import", str(DATA / "organizations_sample.csv"), "--json"))
    assert orgs["rejected"] == 0 and orgs["created"] + orgs["updated"] + orgs["unchanged"] == 11
    listed = as_json(lienhiep(gateway_url, home, "orgs", "list", "--json"))
    codes = {o["code"] for o in listed}
    assert {"LHH-BD", "HOI-TIN-HOC"} <= codes
    tag = name_tag()
    roster = tmp_path / "roster.csv"
    roster.write_text(
        '\ufeffSTT,Họ và tên,Ngày sinh,Giới tính,Email,Điện thoại,"Học hàm, học vị",Chuyên ngành,Mã đơn vị\n'
        f"1,Nguyễn Thị Thu {tag},12/03/1990,Nữ,thu.{tag}@example.vn,0912 345 001,ThS,Tin học,HOI-TIN-HOC\n"
        f"2,Phạm Văn Bình {tag},31/02/1985,Nam,binh.{tag}@example.vn,0912 345 002,KS,Xây dựng,HOI-TIN-HOC\n",
        encoding="utf-8",
    )
    job = as_json(lienhiep(gateway_url, home, "members", "import", str(roster), "--json"))
    assert job["state"] == "done" and job["created"] == 1 and job["rejected"] == 1
    assert job["errors"][0]["line"] == 3 and job["errors"][0]["reason"]
    table = lienhiep(gateway_url, home, "members", "import", str(roster))
    assert table.returncode == 0 and "unchanged 1" in table.stdout and "Rejected rows" in table.stdout
    found = as_json(lienhiep(gateway_url, home, "members", "search", f"nguyen thi thu {tag}", "--json"))
    assert [m["full_name"] for m in found["items"]] == [f"Nguyễn Thị Thu {tag}"]
    member_id = found["items"][0]["id"]
    shown = lienhiep(gateway_url, home, "members", "show", member_id)
    assert shown.returncode == 0 and f"thu.{tag}@example.vn" in shown.stdout
    renewed = as_json(
        lienhiep(
            gateway_url, home, "members", "renew", member_id, "--amount", "200000", "--paid-on", "01/12/2026", "--json"
        )
    )
    assert renewed["dues_state"] == "paid"
    export = tmp_path / "members.csv"
    done = lienhiep(
        gateway_url, home, "members", "export", "--format", "csv", "--query", f"nguyen thi thu {tag}", "-o", str(export)
    )
    assert done.returncode == 0 and f"Nguyễn Thị Thu {tag}" in export.read_text(encoding="utf-8-sig")


def test_an_event_is_created_published_registered_for_and_checked_in(gateway_url, home, admin_token):
    logged_in(gateway_url, home)
    orgs = run(lambda api: api.organizations(), gateway_url, admin_token)
    if not any(o.code == "HOI-TIN-HOC" for o in orgs):
        federation = run(
            lambda api: api.create_organization({"code": "LHH-BD", "name": "Liên hiệp", "kind": "federation"}),
            gateway_url,
            admin_token,
        )
        run(
            lambda api: api.create_organization(
                {"code": "HOI-TIN-HOC", "name": "Hội Tin học tỉnh", "kind": "association", "parent_id": federation.id}
            ),
            gateway_url,
            admin_token,
        )
    created = as_json(
        lienhiep(
            gateway_url,
            home,
            "events",
            "create",
            "--kind",
            "seminar",
            "--title",
            "Hội thảo chuyển đổi số",
            "--organizer",
            "HOI-TIN-HOC",
            "--capacity",
            "2",
            "--venue",
            "Hội trường A",
            "--session",
            "20/12/2030 08:00/20/12/2030 11:30",
            "--json",
        )
    )
    assert created["status"] == "draft"
    event_id = created["id"]
    assert as_json(lienhiep(gateway_url, home, "events", "publish", event_id, "--json"))["status"] == "published"
    listed = as_json(lienhiep(gateway_url, home, "events", "list", "--json"))
    assert event_id in {e["id"] for e in listed["items"]}
    ticket = run(
        lambda api: api.register(event_id, {"guest": {"full_name": "Võ Thị Sáu", "email": "sau.vo@example.vn"}}),
        gateway_url,
        admin_token,
    )
    regs = as_json(lienhiep(gateway_url, home, "registrations", "list", event_id, "--json"))
    assert [r["full_name"] for r in regs["items"]] == ["Võ Thị Sáu"]
    first = lienhiep(gateway_url, home, "checkin", ticket.ticket_code or "", "--json")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["registration"]["full_name"] == "Võ Thị Sáu"
    again = lienhiep(gateway_url, home, "checkin", ticket.ticket_code or "")
    assert again.returncode == 1 and again.stderr.strip() and "Traceback" not in again.stderr
    cancelled = as_json(lienhiep(gateway_url, home, "events", "cancel", event_id, "--reason", "Mưa bão", "--json"))
    assert cancelled["status"] == "cancelled"


def test_keys_and_staff_are_administered_from_the_terminal(gateway_url, home):
    logged_in(gateway_url, home)
    created = as_json(
        lienhiep(gateway_url, home, "keys", "create", "--name", "Cổng tỉnh", "--scope", "members:read", "--json")
    )
    assert created["key"].startswith("lh_")
    listed = lienhiep(gateway_url, home, "keys", "list")
    assert listed.returncode == 0 and created["id"] in listed.stdout and created["key"] not in listed.stdout
    assert as_json(lienhiep(gateway_url, home, "keys", "revoke", created["id"], "--json"))["revoked_at"]
    name = f"cli.{uuid.uuid4().hex[:6]}"
    made = as_json(
        lienhiep(
            gateway_url,
            home,
            "staff",
            "create",
            "--username",
            name,
            "--role",
            "admin",
            "--password",
            "a-long-enough-password",
            "--json",
        )
    )
    assert made["username"] == name and made["locked"] is False
    assert as_json(lienhiep(gateway_url, home, "staff", "unlock", name, "--json"))["locked"] is False
    short = lienhiep(
        gateway_url, home, "staff", "create", "--username", f"{name}x", "--role", "admin", "--password", "short"
    )
    assert short.returncode == 1 and "password" in short.stderr


def test_deliveries_parked_messages_and_campaigns(gateway_url, home):
    logged_in(gateway_url, home)
    deliveries = as_json(lienhiep(gateway_url, home, "deliveries", "list", "--json", "--limit", "5"))
    assert isinstance(deliveries, list)
    parked = as_json(lienhiep(gateway_url, home, "parked", "list", "--json"))
    assert set(parked) == {"services", "notifications_legacy", "dead_deliveries"}
    unknown = lienhiep(gateway_url, home, "parked", "replay", "no_such_consumer")
    assert unknown.returncode == 1 and "Traceback" not in unknown.stderr
    started = as_json(
        lienhiep(
            gateway_url,
            home,
            "campaigns",
            "send",
            "--name",
            "Thư ngỏ",
            "--segment",
            "consented",
            "--channel",
            "email",
            "--subject",
            "Chào",
            "--body",
            "Nội dung",
            "--json",
        )
    )
    campaign_id = started["id"]
    status = as_json(lienhiep(gateway_url, home, "campaigns", "status", campaign_id, "--json"))
    assert status["id"] == campaign_id
    ended = lienhiep(gateway_url, home, "campaigns", "cancel", campaign_id, "--json")
    # Cancelled, or already finished by the time it was asked: either way the API answered, not a traceback.
    assert ended.returncode in (0, 1) and "Traceback" not in ended.stderr
