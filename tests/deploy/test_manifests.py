"""The container image and the manifests: schema-valid, linted, and saying what the runbook says.

No Docker engine or cluster runs here: the Kubernetes files are checked against the API schemas
of the Kubernetes release kubernetes-validate ships (strict: an unknown field is an error), the
Dockerfile with hadolint, and both for the properties a safe rollout depends on.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from server.settings import PROJECT_ROOT

DEPLOY = PROJECT_ROOT / "deploy"
K8S = DEPLOY / "k8s"


def _tool(name: str) -> str:
    """The console script from the test extras, beside this interpreter (or on PATH); a clear failure when absent."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: it is in pyproject.toml's test extras (pip install -e '.[test]')")
    return found


def _documents(path: Path) -> list[dict]:
    return [document for document in yaml.safe_load_all(path.read_text()) if document]


def _resources() -> dict[str, dict]:
    return {document["kind"]: document for path in sorted(K8S.glob("*.yaml")) for document in _documents(path) if "kind" in document}


def test_every_kubernetes_manifest_is_valid_against_the_api_schema():
    import kubernetes_validate

    checked = []
    for path in sorted(K8S.glob("*.yaml")):
        for document in _documents(path):
            if document.get("kind") == "Kustomization":
                continue  # kustomize's own file, not an API object
            kubernetes_validate.validate(document, kubernetes_validate.latest_version(), strict=True)
            checked.append(document["kind"])
    assert sorted(checked) == sorted(
        ["ConfigMap", "Deployment", "HorizontalPodAutoscaler", "Job", "PodDisruptionBudget", "Service", "ServiceAccount"]
    )


def test_the_schema_check_refuses_a_misspelt_field():
    import kubernetes_validate

    deployment = _resources()["Deployment"]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    broken = {**deployment, "spec": {**deployment["spec"], "template": {**deployment["spec"]["template"], "spec": {
        **deployment["spec"]["template"]["spec"], "containers": [{**container, "readynessProbe": container["readinessProbe"]}]}}}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, kubernetes_validate.latest_version(), strict=True)


def test_kustomization_lists_every_manifest_but_the_migration_job():
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    files = {path.name for path in K8S.glob("*.yaml")} - {"kustomization.yaml", "migrate-job.yaml"}
    assert set(kustomization["resources"]) == files


def test_replicas_are_probed_on_the_health_routes_with_resources_and_no_privileges():
    # The routes as server/web/routes.py declares them (read, not imported: the probes need no app).
    paths = set(re.findall(r'Route\("(/\w+)", (?:healthz|readyz)', (PROJECT_ROOT / "server" / "web" / "routes.py").read_text()))
    resources = _resources()
    pod = resources["Deployment"]["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz" and "/readyz" in paths
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz" and "/healthz" in paths
    assert container["resources"]["requests"]["cpu"] and container["resources"]["limits"]["memory"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    strategy = resources["Deployment"]["spec"]["strategy"]["rollingUpdate"]
    assert strategy["maxUnavailable"] == 0, "an old replica must serve until a new one is ready"


def test_secrets_come_from_the_platform_never_from_the_files():
    resources = _resources()
    for kind in ("Deployment", "Job"):
        template = resources[kind]["spec"]["template"]["spec"]
        for container in template["containers"]:
            for variable in container.get("env", []):
                if re.search(r"URL|KEY|TOKEN|PASSWORD", variable["name"]):
                    assert "secretKeyRef" in variable.get("valueFrom", {}), f"{kind} sets {variable['name']} as a literal"
    config = resources["ConfigMap"]["data"]
    assert not [name for name in config if re.search(r"URL$|KEY|TOKEN|PASSWORD", name)]
    assert "Secret" not in resources


def test_the_migration_job_migrates_and_replicas_do_not():
    resources = _resources()
    [job_container] = resources["Job"]["spec"]["template"]["spec"]["containers"]
    assert job_container["args"] == ["migrate"]
    assert resources["Job"]["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    assert resources["ConfigMap"]["data"]["ACCORD_MIGRATE_ON_START"] == "false"
    deployment_image = yaml.safe_load((K8S / "kustomization.yaml").read_text())["images"][0]
    assert job_container["image"] == f"{deployment_image['newName']}:{deployment_image['newTag']}", "the job migrates to the release being deployed"


def test_the_disruption_budget_covers_the_replicas_it_protects():
    resources = _resources()
    budget = resources["PodDisruptionBudget"]["spec"]
    labels = resources["Deployment"]["spec"]["template"]["metadata"]["labels"]
    assert budget["selector"]["matchLabels"].items() <= labels.items()
    assert resources["Service"]["spec"]["selector"].items() <= labels.items()
    assert budget["maxUnavailable"] < resources["HorizontalPodAutoscaler"]["spec"]["minReplicas"]


def test_compose_runs_migrations_before_the_app_with_postgresql():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert services["db"]["image"].startswith("postgres:")
    assert services["migrate"]["command"] == ["migrate"]
    assert services["app"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["app"]["environment"]["ACCORD_MIGRATE_ON_START"] == "false"


def test_the_dockerfile_passes_hadolint():
    result = subprocess.run([_tool("hadolint"), "--failure-threshold", "info", str(DEPLOY / "Dockerfile")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_does_find_problems():
    """The lint is real: a Dockerfile with an unpinned base and root user fails it."""
    bad = "FROM python:latest\nRUN apt-get install curl\nCMD python app.py\n"
    result = subprocess.run([_tool("hadolint"), "-"], input=bad, capture_output=True, text=True)
    assert result.returncode != 0 and "DL3007" in result.stdout


def test_the_image_is_pinned_multi_stage_non_root_fetches_assets_and_checks_health():
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", dockerfile, re.M).group(1)
    assert re.fullmatch(r"python:\d+\.\d+\.\d+-slim-\w+(@sha256:[0-9a-f]{64})?", base), base
    assert len(re.findall(r"^FROM ", dockerfile, re.M)) == 2
    assert re.search(r"^USER 10001", dockerfile, re.M)
    assert "accord fetch-assets" in dockerfile
    assert re.search(r"^HEALTHCHECK .*\n.*/healthz", dockerfile, re.M)
