"""`make run` (deploy/local): the settings mean what they mean to the services, it waits
for the processes it started (never another copy on the same port), names the slow
one while it waits, and restarts a process that dies.

These run small stand-in services (a few lines of http.server that answer /healthz
with their pid and /readyz when told), so they take seconds; test_replicas.py runs
the real platform."""

from __future__ import annotations

import json
import os
import signal
import sys
import textwrap
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from deploy.local.embedded_store import free_port
from deploy.local.services import AnotherCopy, ServiceProcesses

STAND_IN = textwrap.dedent(
    """
    import json, os, sys, time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    service = sys.argv[1]
    port = int(os.environ[service.upper() + "_PORT"])
    ready_at = time.monotonic() + float(os.environ.get("STAND_IN_READY_AFTER_" + service.upper(), "0"))
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/healthz":
                status, body = 200, {"status": "alive", "pid": os.getpid()}
            elif time.monotonic() >= ready_at:
                status, body = 200, {"status": "ready", "checks": {}}
            else:
                status, body = 503, {"status": "not ready", "checks": {"store": {"ok": False, "detail": "slow"}}}
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        def log_message(self, *args):
            pass
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
    """
)


@pytest.fixture
def stand_in(tmp_path: Path):
    script = tmp_path / "stand_in.py"
    script.write_text(STAND_IN)
    return lambda service: [sys.executable, str(script), service]


def ports() -> dict[str, str]:
    names = ("GATEWAY", "MEMBERSHIP", "EVENTS", "NOTIFICATIONS", "CONTESTS", "WEBHOOKS")
    return {f"{name}_PORT": str(free_port()) for name in names}


def test_ports_from_the_environment_are_where_make_run_waits_and_points(monkeypatch, tmp_path):
    chosen = ports()
    for variable, port in chosen.items():
        monkeypatch.setenv(variable, port)
    monkeypatch.setenv("service_host", "127.0.0.2")  # the services read settings in any case; so does make run
    platform = ServiceProcesses(env={}, log_folder=tmp_path)
    assert platform.url("gateway") == f"http://127.0.0.1:{chosen['GATEWAY_PORT']}"
    for service in ("membership", "events", "notifications", "contests", "webhooks"):
        assert platform.url(service) == f"http://127.0.0.2:{chosen[service.upper() + '_PORT']}"
    assert {r.port for r in platform.plan()} == {int(p) for p in chosen.values()}


def test_replicas_get_their_own_ports_and_every_gateway_knows_every_replica(tmp_path):
    env = {"MEMBERSHIP_PORT": "9181", "GATEWAY_PORT": "9180", "GATEWAY_METRICS_PORT": "9190", "EVENTS_URL": "http://x"}
    platform = ServiceProcesses(env=env, log_folder=tmp_path, replicas=2)
    plan = {r.name: r for r in platform.plan()}
    assert plan["membership"].port == 9181 and plan["membership-2"].port == 9191
    assert plan["gateway-2"].env["GATEWAY_PORT"] == "9190"
    assert plan["gateway-2"].env["GATEWAY_METRICS_PORT"] == "9200"
    assert plan["gateway"].env["MEMBERSHIP_URL"] == "http://127.0.0.1:9181,http://127.0.0.1:9191"
    assert "EVENTS_URL" not in plan["gateway"].env  # the caller's own setting stays theirs
    with pytest.raises(RuntimeError, match="two processes would listen"):
        ServiceProcesses(env={"MEMBERSHIP_PORT": "9181", "EVENTS_PORT": "9191"}, log_folder=tmp_path, replicas=2).plan()


def test_it_is_never_ready_because_another_copy_answers_on_its_port(stand_in, tmp_path):
    env = ports()

    class Impostor(BaseHTTPRequestHandler):
        def do_GET(self):
            data = json.dumps({"status": "alive", "pid": 1}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    impostor = ThreadingHTTPServer(("127.0.0.1", int(env["GATEWAY_PORT"])), Impostor)
    threading.Thread(target=impostor.serve_forever, daemon=True).start()
    platform = ServiceProcesses(env=env, log_folder=tmp_path, command=stand_in)
    try:
        platform.start(("gateway",))
        with pytest.raises(AnotherCopy, match=r"another process \(pid 1\) answers .* set GATEWAY_PORT"):
            platform.wait_ready(timeout=30)
    finally:
        platform.stop()
        impostor.shutdown()
        impostor.server_close()


def test_waiting_names_the_slow_service_and_outlasts_a_minute_s_worth_of_patience(stand_in, tmp_path, monkeypatch):
    monkeypatch.setattr("deploy.local.services.PROGRESS_EVERY", 0.5)
    env = {**ports(), "STAND_IN_READY_AFTER_EVENTS": "4"}
    said: list[str] = []
    platform = ServiceProcesses(env=env, log_folder=tmp_path, command=stand_in, report=said.append)
    try:
        platform.start()
        platform.wait_ready()
        waiting = [line for line in said if "still waiting" in line]
        # Once the others are up (a loaded machine may take a while to start them), only events is named, with why.
        assert waiting and waiting[-1].endswith("for events (/readyz says store: slow)"), said
        assert platform.wait_ready.__defaults__ is not None and platform.wait_ready.__defaults__[0] > 60
    finally:
        platform.stop()


def test_a_process_that_dies_is_restarted_with_back_off_and_said(stand_in, tmp_path):
    said: list[str] = []
    platform = ServiceProcesses(env=ports(), log_folder=tmp_path, command=stand_in, replicas=2, report=said.append)
    try:
        platform.start(("membership",))
        platform.wait_ready(timeout=60)
        victim = platform.instances["membership-2"]
        first_pid = victim.pid
        assert first_pid is not None
        os.kill(first_pid, signal.SIGKILL)
        victim.process.wait()  # type: ignore[union-attr]
        now = time.monotonic()
        assert platform.supervise(now) == [
            f"membership-2 (pid {first_pid}) was killed by SIGKILL; restarting it in 1 s "
            f"(log: {tmp_path / 'membership-2'}.log)"
        ]
        assert platform.supervise(now + 0.5) == []  # still backing off
        assert platform.supervise(now + 1.0)[0].startswith("membership-2 restarted (pid ")
        assert victim.pid != first_pid and platform.instances["membership"].pid != first_pid
        platform.wait_ready(timeout=60)
        assert platform.supervise()[0].startswith("membership-2 is back: ready ")
        assert platform.supervise() == []
        # It dies again at once: the pause doubles.
        os.kill(victim.pid, signal.SIGKILL)  # type: ignore[arg-type]
        victim.process.wait()  # type: ignore[union-attr]
        assert "restarting it in 2 s" in platform.supervise(time.monotonic())[0]
        assert any(line.startswith("membership-2 (pid ") for line in said)
    finally:
        platform.stop()
    assert platform.supervise() == []  # a platform being stopped is not restarted
