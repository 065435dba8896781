"""Schemathesis against the running platform's OpenAPI document, as an administrator:
no answer is a 5xx, and every answer matches the document (status code and body).

Three ways in: valid requests (positive), requests the document says are wrong
(negative: wrong types, missing fields, values out of range — each must be refused
with a 4xx, never a 5xx), and sequences of calls that feed one answer's ids to the
next operation (stateful: links inferred from the document).

The four services run as real processes. Bounded: a few examples per operation.
Left out: the operations that end the caller's own access (logout, refreshing the token,
disabling a staff account), which would turn every later example into a 401.
"""

from __future__ import annotations

import json
import urllib.request

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from hypothesis.stateful import run_state_machine_as_test
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error, response_schema_conformance, status_code_conformance

from deploy.local.services import ServiceProcesses
from tests.smtp_server import SmtpServer
from tests.support.platform import platform_env

pytestmark = pytest.mark.e2e
ADMIN_PASSWORD = "schemathesis-admin-password"


@pytest.fixture(scope="module")
def running(mongo_url, amqp_url, tmp_path_factory):
    with SmtpServer() as smtp:
        env = platform_env(
            "st",
            mongo_url,
            amqp_url,
            smtp.port,
            LIENHIEP_BOOTSTRAP_ADMIN_PASSWORD=ADMIN_PASSWORD,
            GATEWAY_RATE_BURST="100000",
            GATEWAY_LOGIN_BURST="100000",
            GATEWAY_LOCKOUT_ATTEMPTS="100000",
            LOG_LEVEL="WARNING",
        )
        processes = ServiceProcesses(env=env, log_folder=tmp_path_factory.mktemp("schemathesis-logs"))
        processes.start()
        try:
            processes.wait_ready()
            yield processes.url("gateway")
        finally:
            processes.stop()


@pytest.fixture(scope="module")
def staff_headers(running) -> dict[str, str]:
    request = urllib.request.Request(
        f"{running}/api/v1/auth/login",
        method="POST",
        headers={"Content-Type": "application/json"},
        data=json.dumps({"username": "admin", "password": ADMIN_PASSWORD}).encode(),
    )
    with urllib.request.urlopen(request, timeout=10) as resp:
        return {"Authorization": f"Bearer {json.load(resp)['access_token']}"}


EXCLUDED = {
    ("POST", "/api/v1/auth/logout"),
    ("POST", "/api/v1/auth/refresh"),
    ("DELETE", "/api/v1/admin/staff/{username}"),
}
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


def _exercise_every_operation(running, staff_headers, mode: GenerationMode, checks) -> list[str]:
    schema = schemathesis.openapi.from_url(f"{running}/api/v1/openapi.json")
    failures: list[str] = []
    tried = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in EXCLUDED:
            continue
        tried += 1

        @given(case=operation.as_strategy(generation_mode=mode))
        @hypothesis_settings(
            max_examples=3,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def exercise(case):
            case.call_and_validate(base_url=running, headers=staff_headers, timeout=30, checks=checks)

        try:
            exercise()
        except Unsatisfiable:  # nothing in this operation can be made wrong (no parameters, no body)
            continue
        except (Exception, BaseExceptionGroup) as exc:  # gather every operation's failure, then report them together
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:1500]}")
    assert tried >= 10
    return failures


def test_no_server_errors_and_answers_match_the_document(running, staff_headers):
    failures = _exercise_every_operation(running, staff_headers, GenerationMode.POSITIVE, CHECKS)
    assert not failures, "\n\n".join(failures)


def test_requests_the_document_calls_wrong_are_refused_with_a_4xx_never_a_5xx(running, staff_headers):
    failures = _exercise_every_operation(running, staff_headers, GenerationMode.NEGATIVE, [not_a_server_error])
    assert not failures, "\n\n".join(failures)


def test_sequences_of_calls_feeding_ids_to_each_other_never_make_a_5xx(running, staff_headers):
    schema = schemathesis.openapi.from_url(f"{running}/api/v1/openapi.json")
    schema = schema.exclude(
        func=lambda ctx: (ctx.operation.method.upper(), ctx.operation.path) in EXCLUDED  # type: ignore[union-attr]
    )
    schema.apply_stateful_inference(None)
    machine = schema.as_state_machine()

    class Platform(machine):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case):
            return {"base_url": running, "headers": staff_headers, "timeout": 30}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=[not_a_server_error])

    run_state_machine_as_test(
        Platform,
        settings=hypothesis_settings(
            max_examples=15,
            stateful_step_count=6,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        ),
    )
