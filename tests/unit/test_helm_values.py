"""deploy/helm/values.yaml (Dagster's Helm chart) agrees with the code, docker-compose.yml and dagster.yaml.

There is no cluster or helm binary here, so the chart is not rendered; these tests pin what a
values file can get wrong without anyone noticing until a deploy: the code location's module and
port, the image, the secrets the code reads, and the instance settings that keep runs safe
(warehouse builds one at a time, API pools, no automatic run retries).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from resources.notion.client import TOKEN_ENV as NOTION_TOKEN_ENV
from resources.stockx.resource import ENV_API_KEY, ENV_CLIENT_SECRET
from resources.token_store import FERNET_KEY_ENV
from soleflipper.settings import PROJECT_ROOT

HELM_DIR = PROJECT_ROOT / "deploy" / "helm"


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def values() -> dict[str, Any]:
    return _load(HELM_DIR / "values.yaml")


@pytest.fixture(scope="module")
def compose_services() -> dict[str, Any]:
    return _load(PROJECT_ROOT / "docker-compose.yml")["services"]


@pytest.fixture(scope="module")
def dagster_yaml() -> dict[str, Any]:
    return _load(PROJECT_ROOT / "dagster.yaml")


@pytest.fixture(scope="module")
def secrets() -> dict[str, dict[str, Any]]:
    docs = list(yaml.safe_load_all((HELM_DIR / "secrets.example.yaml").read_text(encoding="utf-8")))
    return {doc["metadata"]["name"]: doc for doc in docs}


def _deployment(values: dict[str, Any]) -> dict[str, Any]:
    user = values["dagster-user-deployments"]
    assert user["enabled"] is True
    (deployment,) = user["deployments"]
    return deployment


def test_the_code_location_runs_the_compose_code_server(values, compose_services):
    deployment = _deployment(values)
    compose_argv = compose_services["code"]["command"]
    assert compose_argv[:3] == ["dagster", "code-server", "start"]
    module = compose_argv[compose_argv.index("-m") + 1]
    assert deployment["codeServerArgs"] == ["-m", module]
    assert deployment["port"] == int(compose_argv[compose_argv.index("-p") + 1])
    # The location name the UI shows is the compose workspace's (pyproject's tool.dagster).
    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert deployment["name"] == pyproject["tool"]["dagster"]["code_location_name"] == "soleflipper"
    assert deployment["includeConfigInLaunchedRuns"] == {"enabled": True}


def test_the_image_is_the_one_deploy_dockerfile_builds(values, compose_services):
    compose_image = compose_services["code"]["image"]
    repository = compose_image.split(":", 1)[0]
    assert _deployment(values)["image"]["repository"] == repository


def test_runs_are_kubernetes_jobs_with_the_code_secrets(values):
    launcher = values["runLauncher"]
    assert launcher["type"] == "K8sRunLauncher"
    assert {"name": "soleflipper-secrets"} in launcher["config"]["k8sRunLauncher"]["envSecrets"]
    for component in (_deployment(values), values["dagsterWebserver"], values["dagsterDaemon"]):
        assert {"name": "soleflipper-secrets"} in component["envSecrets"]


def test_the_secret_names_every_variable_the_code_needs(secrets):
    data = secrets["soleflipper-secrets"]["stringData"]
    needed = {"SOLEFLIPPER_DATABASE_URL", "SOLEFLIPPER_DAGSTER_DATABASE_URL", FERNET_KEY_ENV, ENV_API_KEY,
              ENV_CLIENT_SECRET, NOTION_TOKEN_ENV}
    assert needed <= set(data), f"secrets.example.yaml lacks {sorted(needed - set(data))}"
    # Placeholders only: a real secret must never be committed.
    for name, value in data.items():
        assert "CHANGE-ME" in str(value), f"{name} holds something other than a placeholder"
    # Both URLs name databases on the same server, Dagster's its own.
    assert data["SOLEFLIPPER_DATABASE_URL"].rsplit("/", 1)[1] == "soleflipper"
    assert data["SOLEFLIPPER_DAGSTER_DATABASE_URL"].rsplit("/", 1)[1] == "soleflipper_dagster"


def test_dagster_storage_is_the_external_database_with_a_secret_password(values, secrets):
    pg = values["postgresql"]
    assert pg["enabled"] is False and values["generatePostgresqlPasswordSecret"] is False
    assert pg["postgresqlPassword"] == "", "the storage password belongs in the secret, not in values"
    assert pg["postgresqlDatabase"] == "soleflipper_dagster"
    secret_name = values["global"]["postgresqlSecretName"]
    assert "postgresql-password" in secrets[secret_name]["stringData"]
    url = secrets["soleflipper-secrets"]["stringData"]["SOLEFLIPPER_DAGSTER_DATABASE_URL"]
    host_port = re.search(r"@([^/]+)/", url).group(1)
    assert host_port == f"{pg['postgresqlHost']}:{pg['service']['port']}"


def test_instance_settings_mirror_dagster_yaml(values, dagster_yaml):
    queued = values["dagsterDaemon"]["runCoordinator"]
    assert queued["enabled"] is True and queued["type"] == "QueuedRunCoordinator"
    config = queued["config"]["queuedRunCoordinator"]
    runs = dagster_yaml["concurrency"]["runs"]
    assert config["maxConcurrentRuns"] == runs["max_concurrent_runs"]
    assert config["tagConcurrencyLimits"] == runs["tag_concurrency_limits"]
    assert values["concurrency"]["enabled"] is True
    assert values["concurrency"]["pools"]["defaultLimit"] == dagster_yaml["concurrency"]["pools"]["default_limit"] == 1
    assert values["dagsterDaemon"]["runRetries"]["enabled"] is dagster_yaml["run_retries"]["enabled"] is False
    assert values["telemetry"]["enabled"] is dagster_yaml["telemetry"]["enabled"] is False
    assert values["pythonLogs"]["dagsterHandlerConfig"] == dagster_yaml["python_logs"]["dagster_handler_config"]


def test_the_state_volume_is_mounted_where_soleflipper_home_points(values):
    env = {item["name"]: item["value"] for item in _deployment(values)["env"]}
    launcher = values["runLauncher"]["config"]["k8sRunLauncher"]
    mounts = {m["name"]: m["mountPath"] for m in launcher["volumeMounts"]}
    volumes = {v["name"] for v in launcher["volumes"]}
    assert mounts == {"soleflipper-state": env["SOLEFLIPPER_HOME"]}
    assert volumes == set(mounts)
