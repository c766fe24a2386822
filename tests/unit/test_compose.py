"""infra/docker-compose.yml: valid Compose, the same stack `data-factory serve` starts, every variable documented.

No container engine runs here, so the file is checked the way `docker compose config` would
check it (variables interpolated, then validated against the Compose specification's JSON
schema, vendored in tests/fixtures/compose/), plus the structure this project relies on.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from orchestration import serve
from tests.conftest import PROJECT_ROOT

INFRA = PROJECT_ROOT / "infra"
COMPOSE = INFRA / "docker-compose.yml"
ENV_EXAMPLE = INFRA / "env" / ".env.example"
SPEC = Path(__file__).resolve().parents[1] / "fixtures" / "compose" / "compose-spec.json"
DAGSTER_HOME = "/opt/dagster/home"
FACTORY_SERVICES = {"code-server", "webserver", "daemon", "dbt-docs"}
# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}; $$ escapes a dollar.
VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


def _documented() -> dict[str, str]:
    """KEY -> example value of every variable .env.example names, set or commented out."""
    keys: dict[str, str] = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        for match in re.finditer(r"(?:^|[\s#])([A-Z][A-Z0-9_]*)=(\S*)", line):
            keys.setdefault(match[1], match[2])
    return keys


def _strings(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for key, value in node.items() for s in (*_strings(key), *_strings(value))]
    if isinstance(node, list):
        return [s for item in node for s in _strings(item)]
    return []


def _variables(document: Any) -> set[str]:
    return {m[1] for text in _strings(document) for m in VARIABLE.finditer(text.replace("$$", ""))}


def _interpolate(node: Any, env: dict[str, str]) -> Any:
    """Compose interpolates the parsed values (comments never, and a value stays a string)."""
    if isinstance(node, dict):
        return {key: _interpolate(value, env) for key, value in node.items()}
    if isinstance(node, list):
        return [_interpolate(item, env) for item in node]
    return _interpolate_text(node, env) if isinstance(node, str) else node


def _interpolate_text(text: str, env: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name, operator, argument = match[1], match[2], match[3]
        current = env.get(name)
        if operator in (":-", "-") and (current is None or (operator == ":-" and current == "")):
            return str(argument)
        if operator in (":?", "?") and (current is None or (operator == ":?" and current == "")):
            raise KeyError(f"{name}: {argument}")
        return current or ""

    return VARIABLE.sub(value, text).replace("$$", "$")


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    """The parsed file, variables not yet interpolated."""
    return dict(yaml.safe_load(COMPOSE.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def compose(raw: dict[str, Any]) -> dict[str, Any]:
    """The file as `docker compose config` sees it, with .env.example's values (placeholders for secrets)."""
    env = {key: value or "example" for key, value in _documented().items()}
    return dict(_interpolate(raw, env))


def test_the_vendored_specification_is_the_one_recorded() -> None:
    import hashlib

    readme = (SPEC.parent / "README.md").read_text(encoding="utf-8")
    assert hashlib.sha256(SPEC.read_bytes()).hexdigest() in readme


def test_the_file_validates_against_the_compose_specification(compose: dict[str, Any]) -> None:
    schema = json.loads(SPEC.read_text(encoding="utf-8"))
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(compose), key=lambda e: list(e.absolute_path))
    assert [f"{list(e.absolute_path)}: {e.message}" for e in errors] == []


def test_the_specification_check_can_fail(compose: dict[str, Any]) -> None:
    schema = json.loads(SPEC.read_text(encoding="utf-8"))
    broken = json.loads(json.dumps(compose))
    broken["services"]["webserver"]["healthcheck"]["every"] = "10s"  # not a healthcheck field
    assert list(jsonschema.Draft7Validator(schema).iter_errors(broken))


def test_required_secrets_refuse_to_default(raw: dict[str, Any]) -> None:
    env = {key: value or "example" for key, value in _documented().items()}
    for secret in ("POSTGRES_PASSWORD", "MINIO_ACCESS_KEY", "MINIO_SECRET_KEY"):
        with pytest.raises(KeyError, match=secret):
            _interpolate(raw, {k: v for k, v in env.items() if k != secret})


def test_every_variable_the_file_uses_is_documented(raw: dict[str, Any], compose: dict[str, Any]) -> None:
    documented = set(_documented())
    assert _variables(raw), "the scan found no variable: it would prove nothing"
    assert sorted(_variables(raw) - documented) == [], "interpolated but missing from infra/env/.env.example"
    # The factory's own processes: every variable set for them is one a user can look up.
    for name in FACTORY_SERVICES:
        keys = set(compose["services"][name]["environment"])
        assert sorted(keys - documented) == [], f"{name} sets variables missing from .env.example"


def test_services_and_health_checks(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"postgres", "minio", *FACTORY_SERVICES}
    for name, service in services.items():
        test = service.get("healthcheck", {}).get("test")
        assert test and test[0] in ("CMD", "CMD-SHELL"), f"{name} has no health check"
    for name in ("webserver", "daemon"):
        assert services[name]["depends_on"]["code-server"] == {"condition": "service_healthy"}
    for name in FACTORY_SERVICES:
        assert services[name]["depends_on"]["postgres"] == {"condition": "service_healthy"}
    for service in services.values():  # published ports stay on the loopback interface
        assert all(str(port).startswith("127.0.0.1:") for port in service.get("ports", []))


def test_the_stack_is_the_one_serve_starts(compose: dict[str, Any]) -> None:
    """Same instance and workspace files, same processes, same code location, same storage layout."""
    services = compose["services"]
    for name in FACTORY_SERVICES:
        service = services[name]
        assert service["environment"]["DAGSTER_HOME"] == DAGSTER_HOME
        assert f"./dagster.yaml:{DAGSTER_HOME}/dagster.yaml:ro" in service["volumes"]
        assert f"./workspace.yaml:{DAGSTER_HOME}/workspace.yaml:ro" in service["volumes"]

    options = serve.ServeOptions(code_server_port=4000, webserver_port=3000)
    local = {c.name: [Path(c.argv[0]).name, *c.argv[1:]] for c in serve.components(options)}
    in_container = {"127.0.0.1": "0.0.0.0", str(serve.WORKSPACE_YAML): f"{DAGSTER_HOME}/workspace.yaml"}
    assert set(local) == {"code-server", "webserver", "daemon"}
    for name, argv in local.items():  # only the listening address and the workspace path differ
        assert services[name]["command"] == [in_container.get(a, a) for a in argv], name

    env = services["code-server"]["environment"]
    assert (env["DAGSTER_CODE_SERVER_HOST"], env["DAGSTER_CODE_SERVER_PORT"]) == ("code-server", "4000")
    assert env["DAGSTER_PG_URL"].startswith("postgresql+psycopg2://")
    assert env["DAGSTER_PG_URL"].endswith("?options=-c%20search_path%3D" + serve.DEFAULT_SCHEMA)
    assert ":" not in env["DAGSTER_PG_URL"].split("://", 1)[1].split("@", 1)[0], "no password in the URL"
    initdb = "\n".join(p.read_text() for p in sorted((INFRA / "initdb").glob("*.sql")))
    assert f"create schema if not exists {serve.DEFAULT_SCHEMA}" in initdb


def test_instance_and_workspace_read_what_both_stacks_set() -> None:
    instance = yaml.safe_load((INFRA / "dagster.yaml").read_text())
    assert instance["storage"]["postgres"]["postgres_url"] == {"env": "DAGSTER_PG_URL"}
    assert instance["run_coordinator"]["class"] == "QueuedRunCoordinator"
    assert instance["run_coordinator"]["config"]["max_concurrent_runs"] == {"env": "DAGSTER_MAX_CONCURRENT_RUNS"}
    (location,) = yaml.safe_load((INFRA / "workspace.yaml").read_text())["load_from"]
    assert location["grpc_server"] == {
        "host": {"env": "DAGSTER_CODE_SERVER_HOST"},
        "port": {"env": "DAGSTER_CODE_SERVER_PORT"},
        "location_name": serve.LOCATION_NAME,
    }


def test_storage_url_keeps_the_server_and_adds_the_schema() -> None:
    tcp = serve.storage_url("postgresql://factory:s3cr%40t@db.example:6543/support_factory?sslmode=require")
    assert tcp == (
        "postgresql+psycopg2://factory:s3cr%40t@db.example:6543/support_factory"
        "?sslmode=require&options=-c%20search_path%3Ddagster"
    )
    socket = serve.storage_url("postgresql://postgres:@/factory_test?host=/tmp/sdf-x/pg")
    assert socket == (
        "postgresql+psycopg2://postgres@/factory_test?host=%2Ftmp%2Fsdf-x%2Fpg&options=-c%20search_path%3Ddagster"
    )
