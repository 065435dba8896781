"""`make run` on a fresh machine: installs RabbitMQ and the certificate font where it may
(Debian, as root or with sudo that asks no password), saying so; elsewhere it prints
the one command to run (issue 11.11)."""

from __future__ import annotations

import pytest

from deploy.local.machine import DEFAULT_FONT, Machine, Setup, carry_out, needed_packages, plan_setup
from shared.settings import Settings

DEBIAN_ROOT = Machine(debian=True, root=True, sudo_without_password=False)
DEBIAN_SUDO = Machine(debian=True, root=False, sudo_without_password=True)
DEBIAN_USER = Machine(debian=True, root=False, sudo_without_password=False)
OTHER_ROOT = Machine(debian=False, root=True, sudo_without_password=False)
BOTH = ["rabbitmq-server", "fonts-dejavu-core"]


def missing(settings: Settings | None = None, *, installed=False, answers=False, font=False) -> list[str]:
    return needed_packages(
        settings or Settings(), broker_installed=installed, broker_answers=answers, font_exists=lambda _: font
    )


def test_what_a_fresh_machine_lacks():
    assert missing() == BOTH
    assert missing(installed=True, font=True) == []
    assert missing(answers=True) == ["fonts-dejavu-core"]  # a broker that answers (docker, say) needs no package
    remote = Settings(amqp_url="amqp://guest:guest@rabbit.internal:5672/")
    assert missing(remote, font=True) == []  # a remote broker is not ours to install
    own_fonts = Settings(events_certificate_font="/opt/f.ttf", contests_font="/opt/f.ttf")
    assert missing(own_fonts, installed=True) == []  # the developer chose their font


@pytest.mark.parametrize(
    ("machine", "prefix"), [(DEBIAN_ROOT, ()), (DEBIAN_SUDO, ("sudo", "-n"))], ids=["root", "sudo-without-password"]
)
def test_where_it_may_it_installs_the_way_ci_does(machine, prefix):
    setup = plan_setup(machine, BOTH)
    assert setup.commands == (
        (*prefix, "apt-get", "update", "-qq"),
        (*prefix, "apt-get", "install", "-y", "-qq", "rabbitmq-server", "fonts-dejavu-core"),
    )
    ran: list[tuple[str, ...]] = []
    said: list[str] = []

    def run(command) -> int:
        ran.append(tuple(command))
        return 0

    carry_out(setup, say=said.append, run=run)
    assert ran == list(setup.commands)
    assert "installing Debian's packages" in said[0] and "rabbitmq-server, fonts-dejavu-core" in said[0]
    assert said[-1] == "Installed rabbitmq-server, fonts-dejavu-core."


def test_a_failed_install_stops_with_what_to_do():
    with pytest.raises(SystemExit, match="failed; install rabbitmq-server"):
        carry_out(plan_setup(DEBIAN_ROOT, ["rabbitmq-server"]), say=lambda _: None, run=lambda _: 100)


def test_without_the_right_it_prints_the_one_command():
    setup = plan_setup(DEBIAN_USER, BOTH)
    assert setup.commands == () and setup.fatal
    assert setup.hint == "sudo apt-get install -y rabbitmq-server fonts-dejavu-core"
    with pytest.raises(SystemExit, match=r"Run `sudo apt-get install -y rabbitmq-server fonts-dejavu-core`, then"):
        carry_out(setup, run=_never)


def test_a_missing_font_alone_is_said_and_make_run_goes_on():
    said: list[str] = []
    carry_out(plan_setup(DEBIAN_USER, ["fonts-dejavu-core"]), say=said.append, run=_never)
    assert said == [
        "This machine lacks fonts-dejavu-core. Certificates need it: run "
        "`sudo apt-get install -y fonts-dejavu-core` (make run goes on without it)."
    ]


def test_off_debian_it_says_what_to_get_and_the_one_command_that_needs_nothing_else():
    setup = plan_setup(OTHER_ROOT, BOTH)
    assert setup.commands == () and setup.hint == "docker-compose up"
    with pytest.raises(SystemExit, match=r"Install RabbitMQ: https://.*or run the whole platform with `docker-compose"):
        carry_out(setup, run=_never)
    said: list[str] = []
    carry_out(plan_setup(OTHER_ROOT, ["fonts-dejavu-core"]), say=said.append, run=_never)
    assert DEFAULT_FONT in said[0] and "goes on without it" in said[0]


def test_nothing_missing_nothing_done():
    assert plan_setup(DEBIAN_USER, []) == Setup()
    carry_out(Setup(), say=_say_nothing, run=_never)


def _never(*_: object) -> int:
    raise AssertionError("nothing to run or say")


def _say_nothing(line: str) -> None:
    raise AssertionError(f"nothing to say, yet: {line}")
