"""What an operator deploys, checked offline: the Kubernetes manifests (deploy/k8s) rendered
for both overlays, and docker-compose.yml.

- `kubectl kustomize` renders deploy/k8s/overlays/dev and prod;
- every object validates against the Kubernetes schemas kubernetes-validate ships (strict:
  an unknown field fails), for the oldest Kubernetes the manifests need and the newest it
  knows; the operators' custom resources, which those schemas do not cover, against the
  schemas in custom_resources.py;
- checkov finds nothing that is not waived in place with its reason;
- the rules we care about: probes on /readyz and /healthz, resources, a drain longer than a
  service's shutdown, a disruption budget and an autoscaler per Deployment, only the gateway
  reachable from outside, network policies that deny by default, settings and secrets where
  the services read them, prod bigger than dev;
- `docker-compose config` accepts docker-compose.yml (with stand-in secrets) and refuses it
  without them; MongoDB runs as a replica set there.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from shared.settings import Settings
from tests.deploy.custom_resources import SCHEMAS

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("dev", "prod")
# The oldest Kubernetes the manifests need (the preStop `sleep` action is on by default from
# 1.30) and the newest whose schemas kubernetes-validate carries.
KUBERNETES_VERSIONS = ("1.30.0", kubernetes_validate.latest_version())
# A service drains for up to 20 s (aiohttp shutdown_timeout) plus the bus close: about 30 s.
DRAIN_SECONDS = 30
CHECKOV_CONSTRAINTS = Path(__file__).with_name("checkov-constraints.txt")
# Checks waived in the manifests, each with its reason beside it (checkov.io/skip annotations).
WAIVED = {"CKV_K8S_15", "CKV_K8S_35", "CKV_K8S_43"}
SECRET_PLACEHOLDER = "REPLACE_ME"

Manifest = dict[str, Any]


# --- rendering -------------------------------------------------------------------------------


def kubectl() -> str:
    found = shutil.which("kubectl")
    if found is None:
        pytest.fail("kubectl (with kustomize v5) is needed to render deploy/k8s: install it")
    version = json.loads(
        subprocess.run([found, "version", "--client", "-o", "json"], capture_output=True, text=True, check=True).stdout
    ).get("kustomizeVersion", "")
    if not re.match(r"v([5-9]|\d{2,})\.", version):
        pytest.fail(f"kubectl carries kustomize {version or 'unknown'}; deploy/k8s needs v5 (kubectl 1.27 or later)")
    return found


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[Manifest]]:
    """Each overlay's objects, as `kubectl kustomize` renders them."""
    binary = kubectl()
    out = {}
    for overlay in OVERLAYS:
        run = subprocess.run(
            [binary, "kustomize", str(K8S / "overlays" / overlay)], capture_output=True, text=True, timeout=60
        )
        assert run.returncode == 0, f"kubectl kustomize overlays/{overlay}:\n{run.stderr}"
        out[overlay] = [doc for doc in yaml.safe_load_all(run.stdout) if doc]
    return out


def of_kind(objects: list[Manifest], kind: str) -> list[Manifest]:
    return [o for o in objects if o["kind"] == kind]


def named(objects: list[Manifest], kind: str, name: str) -> Manifest:
    found = [o for o in of_kind(objects, kind) if o["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]


def deployments(rendered: dict[str, list[Manifest]]) -> Iterator[tuple[str, Manifest]]:
    for overlay, objects in rendered.items():
        for deployment in of_kind(objects, "Deployment"):
            yield overlay, deployment


def container(deployment: Manifest) -> Manifest:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1, f"{deployment['metadata']['name']}: one container a pod"
    return containers[0]


def matches(selector: Manifest | None, labels: dict[str, str]) -> bool:
    """Whether a label selector (matchLabels and matchExpressions) selects these labels."""
    selector = selector or {}
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        key, op, values = expression["key"], expression["operator"], expression.get("values", [])
        if (
            (op == "In" and labels.get(key) not in values)
            or (op == "NotIn" and labels.get(key) in values)
            or (op == "Exists" and key not in labels)
            or (op == "DoesNotExist" and key in labels)
        ):
            return False
    return True


UNITS = {"m": 1e-3, "": 1, "k": 1e3, "M": 1e6, "G": 1e9, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}


def quantity(value: str | int) -> float:
    number, unit = re.fullmatch(r"([0-9.]+)([a-zA-Z]*)", str(value)).groups()  # type: ignore[union-attr]
    return float(number) * UNITS[unit]


# --- schemas ---------------------------------------------------------------------------------


def test_every_object_validates_against_the_kubernetes_schemas(rendered):
    problems, core = [], 0
    for overlay, objects in rendered.items():
        for obj in objects:
            if (obj["apiVersion"], obj["kind"]) in SCHEMAS:
                continue  # an operator's kind: see the next test
            core += 1
            for version in KUBERNETES_VERSIONS:
                try:
                    kubernetes_validate.validate(obj, version, strict=True)
                except kubernetes_validate.ValidationError as exc:
                    where = "/".join(str(p) for p in exc.path)
                    problems.append(
                        f"{overlay} {obj['kind']}/{obj['metadata']['name']} ({version}) {where}: {exc.message}"
                    )
                except kubernetes_validate.SchemaNotFoundError:
                    problems.append(f"{overlay} {obj['apiVersion']} {obj['kind']}: no schema in Kubernetes {version}")
    assert not problems, "\n".join(problems)
    assert core > 40  # both overlays' Deployments, Services, policies… were checked


def test_custom_resources_have_the_shape_their_operators_define(rendered):
    """RabbitmqCluster, MongoDBCommunity, ServiceMonitor and ExternalSecret are not in the
    Kubernetes schemas (their operators define them); they are checked against ours."""
    seen, problems = set(), []
    for overlay, objects in rendered.items():
        for obj in objects:
            schema = SCHEMAS.get((obj["apiVersion"], obj["kind"]))
            if schema is None:
                continue
            seen.add(obj["kind"])
            for error in jsonschema.Draft202012Validator(schema).iter_errors(obj):
                where = "/".join(str(p) for p in error.absolute_path)
                problems.append(f"{overlay} {obj['kind']}/{obj['metadata']['name']} {where}: {error.message}")
    assert not problems, "\n".join(problems)
    assert seen == {"RabbitmqCluster", "MongoDBCommunity", "ServiceMonitor", "ExternalSecret"}


def test_checkov_finds_nothing_that_is_not_waived_with_its_reason(rendered, tmp_path):
    for overlay, objects in rendered.items():
        (tmp_path / f"{overlay}.yaml").write_text(yaml.safe_dump_all(objects, sort_keys=False), encoding="utf-8")
    report = checkov(tmp_path)
    results, summary = report["results"], report["summary"]
    failed = [
        f"{c['check_id']} {c['check_name']}: {c['resource']} ({c['file_path']})" for c in results["failed_checks"]
    ]
    advice = "fix them, or waive one in place with a checkov.io/skip annotation and its reason"
    assert not failed, f"checkov findings ({advice}):\n" + "\n".join(failed)
    assert summary["parsing_errors"] == 0
    assert summary["passed"] > 500  # it did look at every object
    for skipped in results["skipped_checks"]:
        reason = skipped["check_result"].get("suppress_comment", "")
        assert len(reason) > 20, f"{skipped['check_id']} on {skipped['resource']} is waived without a reason"
    assert {s["check_id"] for s in results["skipped_checks"]} == WAIVED, "a waiver was added or removed: review it"


def checkov(folder: Path) -> dict[str, Any]:
    """checkov's JSON report on the manifests in `folder`, run in its own tool environment
    (its pins conflict with the project's): from uv's cache when it holds it, else from PyPI."""
    uv = shutil.which("uv")
    if uv is None:
        pytest.fail("uv is needed to run checkov in its own environment (`make install` installs uv)")
    pin = next(line for line in CHECKOV_CONSTRAINTS.read_text().splitlines() if line.startswith("checkov=="))
    tool = ["--python", sys.executable, "--from", pin, "--constraints", str(CHECKOV_CONSTRAINTS), "checkov"]
    scan = [
        "--directory",
        str(folder),
        "--framework",
        "kubernetes",
        "--skip-download",
        "--compact",
        "--soft-fail",
        "--output",
        "json",
    ]
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    for network in (["--offline"], []):
        run = subprocess.run(
            [uv, "tool", "run", *network, *tool, *scan],
            capture_output=True,
            text=True,
            timeout=600,
            env=env,
            cwd=folder,
        )
        if run.returncode == 0:
            report = json.loads(run.stdout)
            return report[0] if isinstance(report, list) else report
    pytest.fail(f"checkov did not run:\n{run.stderr[-3000:]}")


# --- the rules we care about -------------------------------------------------------------------


def test_every_deployment_is_probed_sized_locked_down_and_drained(rendered):
    for overlay, deployment in deployments(rendered):
        name, pod = deployment["metadata"]["name"], deployment["spec"]["template"]["spec"]
        app = container(deployment)
        where = f"{overlay}/{name}"
        assert app["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}, where
        assert app["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}, where
        assert app["ports"][0]["name"] == "http", where
        resources = app["resources"]
        for kind in ("cpu", "memory"):
            assert quantity(resources["requests"][kind]) <= quantity(resources["limits"][kind]), f"{where} {kind}"
        # SIGTERM comes after the preStop pause; the drain must fit in what is left.
        pause = app.get("lifecycle", {}).get("preStop", {}).get("sleep", {}).get("seconds", 0)
        assert pod["terminationGracePeriodSeconds"] > DRAIN_SECONDS + pause, where
        security = app["securityContext"]
        assert security["runAsNonRoot"] and pod["securityContext"]["runAsNonRoot"], where
        assert security["readOnlyRootFilesystem"] is True, where
        assert security["allowPrivilegeEscalation"] is False, where
        assert security["capabilities"]["drop"] == ["ALL"] and not security["capabilities"].get("add"), where
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", where
        tmp = next(m for m in app["volumeMounts"] if m["mountPath"] == "/tmp")
        assert "emptyDir" in next(v for v in pod["volumes"] if v["name"] == tmp["name"]), where
        assert pod["automountServiceAccountToken"] is False, where
        # Service links would set <SERVICE>_PORT=tcp://… and break the port settings of the same names.
        assert pod["enableServiceLinks"] is False, where
        assert app["command"] == ["python", "-m", f"services.{name}"], where
        assert "replicas" not in deployment["spec"], f"{where}: the autoscaler owns the replica count"


def test_every_deployment_has_a_disruption_budget_and_an_autoscaler(rendered):
    for overlay, deployment in deployments(rendered):
        objects, name = rendered[overlay], deployment["metadata"]["name"]
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        budgets = [b for b in of_kind(objects, "PodDisruptionBudget") if matches(b["spec"]["selector"], labels)]
        assert len(budgets) == 1, f"{overlay}/{name}: {len(budgets)} disruption budgets"
        scalers = [
            h
            for h in of_kind(objects, "HorizontalPodAutoscaler")
            if h["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
        ]
        assert len(scalers) == 1, f"{overlay}/{name}: {len(scalers)} autoscalers"
        assert 1 <= scalers[0]["spec"]["minReplicas"] <= scalers[0]["spec"]["maxReplicas"]
        assert matches(deployment["spec"]["selector"], labels)


def test_only_the_gateway_is_reachable_from_outside(rendered):
    for overlay, objects in rendered.items():
        (ingress,) = of_kind(objects, "Ingress")
        backends = [
            (path["path"], path["backend"]["service"]["name"])
            for rule in ingress["spec"]["rules"]
            for path in rule["http"]["paths"]
        ]
        assert backends == [("/api/", "gateway")], overlay  # /metrics, /healthz, /readyz stay inside
        assert ingress["spec"]["tls"], overlay
        for service in of_kind(objects, "Service"):
            assert service["spec"].get("type", "ClusterIP") == "ClusterIP", f"{overlay}/{service['metadata']['name']}"
        for _, deployment in deployments({overlay: objects}):
            pod = deployment["spec"]["template"]["spec"]
            assert not pod.get("hostNetwork") and not any(p.get("hostPort") for p in container(deployment)["ports"])


def test_network_policies_deny_by_default_and_let_through_only_what_each_service_needs(rendered):
    for overlay, objects in rendered.items():
        policies = of_kind(objects, "NetworkPolicy")
        deny = [
            p
            for p in policies
            if p["spec"]["podSelector"] == {}
            and set(p["spec"]["policyTypes"]) == {"Ingress", "Egress"}
            and not p["spec"].get("ingress")
            and not p["spec"].get("egress")
        ]
        assert deny, f"{overlay}: no default-deny policy"
        dns = {
            port["port"]
            for p in policies
            if p["spec"]["podSelector"] == {}
            for rule in p["spec"].get("egress", [])
            for port in rule.get("ports", [])
        }
        assert dns == {53}, f"{overlay}: every pod may ask DNS, and nothing more for all pods"
        gateway_pods = named(objects, "Deployment", "gateway")["spec"]["template"]["metadata"]["labels"]
        for _, deployment in deployments({overlay: objects}):
            name = deployment["metadata"]["name"]
            labels = deployment["spec"]["template"]["metadata"]["labels"]
            mine = [p for p in policies if p["spec"]["podSelector"] != {} and matches(p["spec"]["podSelector"], labels)]
            sources = [peer for p in mine for rule in p["spec"].get("ingress", []) for peer in rule.get("from", [{}])]
            if name == "gateway":
                assert {} in sources, "the gateway takes the Ingress controller's traffic, wherever that comes from"
                continue
            for peer in sources:  # a back service: the gateway, or the monitoring namespace for /metrics
                if "podSelector" in peer:
                    assert "namespaceSelector" not in peer and matches(peer["podSelector"], gateway_pods), (name, peer)
                    assert not matches(peer["podSelector"], labels), f"{overlay}/{name} is reachable from its own kind"
                else:
                    assert matches(peer["namespaceSelector"], {"kubernetes.io/metadata.name": "monitoring"}), (
                        name,
                        peer,
                    )
                    assert not matches(peer["namespaceSelector"], {"kubernetes.io/metadata.name": "default"})
            egress = [rule for p in mine for rule in p["spec"].get("egress", [])]
            in_cluster = {
                port["port"]
                for rule in egress
                if rule.get("to") and all("podSelector" in peer for peer in rule["to"])
                for port in rule.get("ports", [])
            }
            assert {27017, 5672} <= in_cluster, f"{overlay}/{name} cannot reach MongoDB and RabbitMQ"
            outside = [rule for rule in egress if not rule.get("to") or any("ipBlock" in peer for peer in rule["to"])]
            assert not outside or name in ("notifications", "webhooks"), f"{overlay}/{name} may reach outside"


def test_settings_and_secrets_reach_the_services_that_read_them(rendered):
    readable = {name.upper() for name in Settings.model_fields}
    for overlay, objects in rendered.items():
        (config,) = of_kind(objects, "ConfigMap")
        settings = config["data"]
        services = [d["metadata"]["name"] for d in of_kind(objects, "Deployment")]
        for name in services:
            deployment, service = named(objects, "Deployment", name), named(objects, "Service", name)
            port = container(deployment)["ports"][0]["containerPort"]
            assert settings[f"{name.upper()}_PORT"] == str(port) == str(service["spec"]["ports"][0]["port"]), name
            if name != "gateway":
                assert settings[f"{name.upper()}_URL"] == f"http://{name}:{port}", name
        own = {f"{s.upper()}_{what}" for s in services for what in ("PORT", "URL")}
        assert set(settings) <= readable | own, f"settings nobody reads: {set(settings) - readable - own}"

        mongodb = of_kind(objects, "MongoDBCommunity")[0]["spec"]
        rabbitmq = of_kind(objects, "RabbitmqCluster")[0]
        assert mongodb["members"] == 3 and rabbitmq["spec"]["replicas"] == 3
        assert mongodb["additionalConnectionStringConfig"]["w"] == "majority"
        (user,) = mongodb["users"]
        databases = {r["db"] for r in user["roles"] if r["name"] == "readWrite"}
        assert databases == {f"{settings['MONGO_DB_PREFIX']}_{name}" for name in services}
        secrets = {s["metadata"]["name"]: s for s in of_kind(objects, "Secret")}
        external = {e["spec"]["target"]["name"] for e in of_kind(objects, "ExternalSecret")}
        assert user["passwordSecretRef"]["name"] in set(secrets) | external

        for name in services:
            app = container(named(objects, "Deployment", name))
            env = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in app["env"] if "valueFrom" in e}
            assert env["MONGO_URL"] == {"name": user["connectionStringSecretName"], "key": "connectionString.standard"}
            assert env["AMQP_URL"] == {
                "name": f"{rabbitmq['metadata']['name']}-default-user",
                "key": "connection_string",
            }
            sources = [next(iter(source.values()))["name"] for source in app["envFrom"]]
            assert sources[0] == config["metadata"]["name"], name
            given = {re.sub(r"-[a-z0-9]{10}$", "", s) for s in sources[1:]}  # generated names end in a hash
            needs = {"lienhiep-identity"} | {
                "gateway": {"lienhiep-bootstrap"},
                "notifications": {"lienhiep-smtp", "lienhiep-sms"},
            }.get(name, set())
            assert given == needs, f"{overlay}/{name} is given {given}"
            for secret in sources[1:]:
                assert secret in secrets or secret in external, f"{overlay}: nothing makes the Secret {secret}"
                for key in secrets.get(secret, {}).get("data", {}):
                    assert key in readable, f"{secret}: {key} is not a setting"


def test_no_secret_value_is_in_the_repository(rendered):
    import base64

    for secret in of_kind(rendered["dev"], "Secret"):
        for key, value in secret["data"].items():
            assert SECRET_PLACEHOLDER in base64.b64decode(value).decode(), f"{secret['metadata']['name']}/{key}"
    assert not of_kind(rendered["prod"], "Secret"), "prod's secrets come from the secret store (ExternalSecret)"
    for external in of_kind(rendered["prod"], "ExternalSecret"):
        assert external["spec"]["secretStoreRef"]["kind"] == "ClusterSecretStore"


def test_prod_runs_more_replicas_with_more_resources_than_dev(rendered):
    def by_name(overlay: str, kind: str) -> dict[str, Manifest]:
        return {o["metadata"]["name"]: o for o in of_kind(rendered[overlay], kind)}

    dev, prod = by_name("dev", "Deployment"), by_name("prod", "Deployment")
    assert set(dev) == set(prod) == {"gateway", "membership", "events", "notifications", "contests", "webhooks"}
    dev_scalers, prod_scalers = by_name("dev", "HorizontalPodAutoscaler"), by_name("prod", "HorizontalPodAutoscaler")
    for name in dev:
        small, big = container(dev[name])["resources"], container(prod[name])["resources"]
        for kind in ("cpu", "memory"):
            assert quantity(big["requests"][kind]) > quantity(small["requests"][kind]), f"{name} {kind} request"
            assert quantity(big["limits"][kind]) >= quantity(small["limits"][kind]), f"{name} {kind} limit"
        assert prod_scalers[name]["spec"]["minReplicas"] >= 2 > dev_scalers[name]["spec"]["minReplicas"], name
        assert prod_scalers[name]["spec"]["maxReplicas"] > dev_scalers[name]["spec"]["maxReplicas"], name
    for kind in ("RabbitmqCluster", "MongoDBCommunity"):
        (small,), (big,) = by_name("dev", kind).values(), by_name("prod", kind).values()
        assert json.dumps(small) != json.dumps(big)
    rabbit = [of_kind(rendered[o], "RabbitmqCluster")[0]["spec"]["resources"]["requests"]["memory"] for o in OVERLAYS]
    assert quantity(rabbit[1]) > quantity(rabbit[0])


def test_one_image_and_one_tag_per_overlay(rendered):
    for overlay, objects in rendered.items():
        images = {container(d)["image"] for d in of_kind(objects, "Deployment")}
        assert len(images) == 1, f"{overlay}: {images}"
        tag = images.pop().rsplit(":", 1)[-1]
        assert re.fullmatch(r"[0-9]+\.[0-9]+\.[0-9]+.*", tag), f"{overlay}: a release tag, not {tag}"
        kustomization = yaml.safe_load((K8S / "overlays" / overlay / "kustomization.yaml").read_text())
        assert len(kustomization["images"]) == 1


def test_labels_are_the_recommended_ones_everywhere(rendered):
    for overlay, objects in rendered.items():
        instance = {"dev": "lienhiep-dev", "prod": "lienhiep"}[overlay]
        for obj in objects:
            labels = obj["metadata"].get("labels", {})
            where = f"{overlay} {obj['kind']}/{obj['metadata']['name']}"
            assert labels.get("app.kubernetes.io/part-of") == "lienhiep", where
            assert labels.get("app.kubernetes.io/managed-by") == "kustomize", where
            assert labels.get("app.kubernetes.io/instance") == instance, where
        for _, deployment in deployments({overlay: objects}):
            name = deployment["metadata"]["name"]
            pod = deployment["spec"]["template"]["metadata"]["labels"]
            assert pod["app.kubernetes.io/name"] == name and pod["app.kubernetes.io/instance"] == instance
            assert pod["app.kubernetes.io/component"] == ("gateway" if name == "gateway" else "backend")
            # Selectors cannot change after the first apply: they hold the name only.
            assert deployment["spec"]["selector"] == {"matchLabels": {"app.kubernetes.io/name": name}}


# --- docker-compose.yml ----------------------------------------------------------------------

STAND_INS = {"INTERNAL_IDENTITY_SECRET": "compose-check-secret", "RABBITMQ_PASSWORD": "composecheck"}


@pytest.fixture
def compose(tmp_path):
    """`docker-compose <args>` on docker-compose.yml with exactly the environment given (no .env file)."""
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.fail("docker-compose is needed to check docker-compose.yml (Debian: apt-get install docker-compose)")
    no_env_file = tmp_path / "empty.env"
    no_env_file.write_text("")

    def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        clean = {k: v for k, v in os.environ.items() if k not in STAND_INS}
        return subprocess.run(
            [binary, "--env-file", str(no_env_file), "-f", str(ROOT / "docker-compose.yml"), *args],
            capture_output=True,
            text=True,
            timeout=60,
            env={**clean, **env},
            cwd=ROOT,
        )

    return run


def test_docker_compose_is_valid_and_has_no_default_secret(compose):
    run = compose("config", "--quiet", env=STAND_INS)
    assert run.returncode == 0, run.stderr
    for missing in STAND_INS:
        run = compose("config", "--quiet", env={k: v for k, v in STAND_INS.items() if k != missing})
        assert run.returncode != 0 and missing in run.stderr, f"docker-compose.yml runs without {missing}"


def test_docker_compose_runs_mongodb_as_a_replica_set_and_every_service(compose):
    run = compose("config", env=STAND_INS)
    assert run.returncode == 0, run.stderr
    services = yaml.safe_load(run.stdout)["services"]
    assert services["mongo"]["command"][:2] == ["--replSet", "rs0"]
    init = services["mongo-init"]
    assert init["restart"] == "no" and "replSetInitiate" in init["entrypoint"][-1]
    apps = {name: s for name, s in services.items() if "services." in " ".join(s.get("command", []))}
    assert set(apps) == {"gateway", "membership", "events", "notifications", "contests", "webhooks"}
    for name, service in apps.items():
        env = service["environment"]
        assert "replicaSet=rs0" in env["MONGO_URL"] and "w=majority" in env["MONGO_URL"], name
        assert env["INTERNAL_IDENTITY_SECRET"] == STAND_INS["INTERNAL_IDENTITY_SECRET"], name
        if name != "gateway":
            assert service["depends_on"]["mongo-init"] == {"condition": "service_completed_successfully"}, name
            assert env[f"{name.upper()}_URL"] == f"http://{name}:{env['PORT']}", name
    assert {services["contests"]["environment"]["PORT"], services["webhooks"]["environment"]["PORT"]} == {
        "8084",
        "8085",
    }
    for ui in ("rabbitmq", "mailpit"):
        for port in services[ui]["ports"]:
            host = port.get("host_ip") if isinstance(port, dict) else port.split(":")[0]
            assert host == "127.0.0.1", f"{ui}'s UI must answer on this machine only"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_gateways_metrics_are_scraped_on_its_internal_port(overlay, rendered):
    """On its public port the gateway's /metrics wants credentials (issue 10): scrapers read
    the internal port, which only the monitoring namespace reaches."""
    objects = rendered[overlay]
    gateway = container(named(objects, "Deployment", "gateway"))
    port = next(p for p in gateway["ports"] if p["name"] == "metrics")["containerPort"]
    env = {e["name"]: e.get("value") for e in gateway["env"]}
    assert env["GATEWAY_METRICS_PORT"] == str(port) and env["GATEWAY_METRICS_HOST"] == "0.0.0.0"
    assert any(p["name"] == "metrics" for p in named(objects, "Service", "gateway")["spec"]["ports"])
    monitor = named(objects, "ServiceMonitor", "lienhiep-gateway")
    assert [e["port"] for e in monitor["spec"]["endpoints"]] == ["metrics"]
    policy = named(objects, "NetworkPolicy", "gateway-front-door")
    metrics_rule = next(r for r in policy["spec"]["ingress"] if r["ports"][0]["port"] == "metrics")
    namespaces = metrics_rule["from"][0]["namespaceSelector"]["matchExpressions"][0]["values"]
    assert namespaces == ["monitoring"]
