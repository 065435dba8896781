"""What `make run` needs from the machine, and installing it where it may.

The README promises two commands on a fresh machine (`make install`, `make run`).
`make run` needs RabbitMQ (when AMQP_URL points at this machine) and a Unicode font
for certificate PDFs. Where it may — a Debian-family system, as root or with sudo
that asks no password — it installs them with apt-get the way `.ci/run` does, and
says so; elsewhere it prints the one command to run. The decision (`plan_setup`) is
pure, so it is unit-tested for every kind of machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from deploy.local.embedded_store import port_open
from shared.settings import Settings

BROKER_PACKAGE = "rabbitmq-server"
FONT_PACKAGE = "fonts-dejavu-core"
DEFAULT_FONT = Settings.model_fields["events_certificate_font"].default
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class Machine:
    debian: bool  # apt-get and dpkg: a Debian-family system
    root: bool
    sudo_without_password: bool

    @property
    def privileged(self) -> tuple[str, ...] | None:
        """The prefix that runs a command as root here, or None if we may not."""
        if self.root:
            return ()
        if self.sudo_without_password:
            return ("sudo", "-n")
        return None

    @classmethod
    def this(cls) -> Machine:
        debian = Path("/etc/debian_version").exists() and shutil.which("apt-get") is not None
        root = os.geteuid() == 0
        sudo = False
        if not root and shutil.which("sudo"):
            sudo = subprocess.run(["sudo", "-n", "true"], capture_output=True, check=False).returncode == 0
        return cls(debian=debian, root=root, sudo_without_password=sudo)


@dataclass(frozen=True)
class Setup:
    """What to do about what is missing."""

    missing: tuple[str, ...] = ()  # Debian package names
    commands: tuple[tuple[str, ...], ...] = ()  # run them, in order, saying so
    hint: str = ""  # the one command for the developer, when we may not
    fatal: bool = False  # can `make run` go on without it?
    notes: tuple[str, ...] = field(default=())


def needed_packages(
    settings: Settings, *, broker_installed: bool, broker_answers: bool, font_exists: Callable[[str], bool]
) -> list[str]:
    """The Debian packages `make run` needs and does not have (a broker that answers needs none)."""
    packages = []
    host = urlparse(settings.amqp_url).hostname or "127.0.0.1"
    if host in LOCAL_HOSTS and not broker_installed and not broker_answers:
        packages.append(BROKER_PACKAGE)
    fonts = {settings.events_certificate_font, settings.contests_font}
    if DEFAULT_FONT in fonts and not font_exists(DEFAULT_FONT):
        packages.append(FONT_PACKAGE)
    return packages


def plan_setup(machine: Machine, missing: Sequence[str]) -> Setup:
    """Install what is missing where we may; otherwise the one command to run."""
    missing = tuple(missing)
    if not missing:
        return Setup()
    fatal = BROKER_PACKAGE in missing  # without a font only certificates fail
    install = ("apt-get", "install", "-y", "-qq", *missing)
    prefix = machine.privileged
    if machine.debian and prefix is not None:
        return Setup(
            missing,
            commands=((*prefix, "apt-get", "update", "-qq"), (*prefix, *install)),
            fatal=fatal,
        )
    if machine.debian:
        return Setup(missing, hint="sudo " + " ".join(install[:3] + install[4:]), fatal=fatal)
    notes = []
    if BROKER_PACKAGE in missing:
        notes.append("RabbitMQ: https://www.rabbitmq.com/docs/download (or point AMQP_URL at a running broker)")
    if FONT_PACKAGE in missing:
        notes.append(f"a Unicode TrueType font at {DEFAULT_FONT} (or set EVENTS_CERTIFICATE_FONT and CONTESTS_FONT)")
    hint = "docker-compose up" if fatal else ""
    return Setup(missing, hint=hint, fatal=fatal, notes=tuple(notes))


Runner = Callable[[Sequence[str]], int]


def _run(command: Sequence[str]) -> int:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    return subprocess.run(list(command), check=False, env=env, stdout=subprocess.DEVNULL).returncode


def carry_out(setup: Setup, say: Callable[[str], None] = print, run: Runner = _run) -> None:
    """Do what the plan says, telling the developer; stop `make run` when it cannot go on."""
    if not setup.missing:
        return
    what = ", ".join(setup.missing)
    if setup.commands:
        say(f"This machine lacks {what}: installing Debian's packages (as root: {' '.join(setup.commands[-1])})…")
        for command in setup.commands:
            if run(command) != 0:
                raise SystemExit(f"`{' '.join(command)}` failed; install {what} yourself and run `make run` again")
        say(f"Installed {what}.")
        return
    lines = [f"This machine lacks {what}."]
    if setup.hint and not setup.fatal:
        lines.append(f"Certificates need it: run `{setup.hint}` (make run goes on without it).")
    elif setup.hint and setup.notes:
        lines.append(f"Install {'; '.join(setup.notes)} — or run the whole platform with `{setup.hint}`.")
    elif setup.hint:
        lines.append(f"Run `{setup.hint}`, then `make run` again.")
    else:
        lines.append(f"Install {'; '.join(setup.notes)} (make run goes on without it).")
    if setup.fatal:
        raise SystemExit(" ".join(lines))
    say(" ".join(lines))


def prepare_machine(settings: Settings, machine: Machine | None = None) -> None:
    """Install (or tell how to install) what `make run` needs and this machine lacks."""
    parsed = urlparse(settings.amqp_url)
    missing = needed_packages(
        settings,
        broker_installed=shutil.which("rabbitmq-server") is not None,
        broker_answers=port_open(parsed.hostname or "127.0.0.1", parsed.port or 5672),
        font_exists=os.path.exists,
    )
    if missing:
        carry_out(plan_setup(machine or Machine.this(), missing))
