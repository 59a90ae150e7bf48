"""docker-compose.yml: valid against the Compose Specification schema, and it runs what
an operator expects (web, scalable worker, Redis with AOF, PostgreSQL, Milvus, health
checks, volumes).

The schema is the compose-spec JSON schema vendored by the pinned ``check-jsonschema``
package (``check_jsonschema/builtin_schemas/vendor/compose-spec.json``): no network.
Like ``docker compose config``, the file is validated after variable interpolation,
with the values of ``.env.example``.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import jsonschema
import pytest
import yaml
from deploy_support import ROOT, MissingVariable, interpolate, parse_env_file

COMPOSE = ROOT / "docker-compose.yml"


def _compose_schema() -> dict[str, Any]:
    vendor = resources.files("check_jsonschema.builtin_schemas.vendor")
    schema: dict[str, Any] = json.loads(vendor.joinpath("compose-spec.json").read_text())
    return schema


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    env = parse_env_file(ROOT / ".env.example")
    loaded: dict[str, Any] = yaml.safe_load(interpolate(COMPOSE.read_text(), env))
    return loaded


def test_compose_file_is_valid_against_the_compose_spec(compose: dict[str, Any]) -> None:
    schema = _compose_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    errors = sorted(
        jsonschema.Draft202012Validator(schema).iter_errors(compose), key=lambda e: e.json_path
    )
    assert not errors, "\n".join(f"{e.json_path}: {e.message}" for e in errors)


def test_the_schema_rejects_a_broken_compose_file(compose: dict[str, Any]) -> None:
    """The validation above can fail: a misspelled key and a wrong type are caught."""
    validator = jsonschema.Draft202012Validator(_compose_schema())
    broken = json.loads(json.dumps(compose))
    broken["services"]["web"]["helthcheck"] = broken["services"]["web"].pop("healthcheck")
    broken["services"]["worker"]["deploy"]["replicas"] = {"count": 2}
    paths = {e.json_path for e in validator.iter_errors(broken)}
    assert "$.services.web" in paths
    assert any(p.startswith("$.services.worker.deploy") for p in paths)


def test_required_passwords_must_be_set() -> None:
    env = parse_env_file(ROOT / ".env.example")
    env.pop("REDIS_PASSWORD")
    with pytest.raises(MissingVariable, match="REDIS_PASSWORD"):
        interpolate(COMPOSE.read_text(), env)


def test_services_commands_and_dependencies(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"web", "worker", "redis", "postgres", "milvus"}
    assert services["web"]["command"] == ["serve"]
    assert services["worker"]["command"] == ["worker"]
    # one image for web, worker and the milvus-lite server
    assert services["web"]["image"] == services["worker"]["image"] == services["milvus"]["image"]
    for name in ("web", "worker"):
        depends = services[name]["depends_on"]
        assert {dep: cond["condition"] for dep, cond in depends.items()} == {
            "redis": "service_healthy",
            "postgres": "service_healthy",
            "milvus": "service_healthy",
        }
        env = services[name]["environment"]
        assert env["REDIS_URL"].startswith("redis://:change-me-redis@redis:6379/")
        assert env["DATABASE_URL"].startswith("postgresql://nexus:change-me-postgres@postgres:")
        assert env["MILVUS_URI"] == "http://milvus:19530"
        # web and workers share the uploaded files
        assert "nexus-data:/data" in services[name]["volumes"]
    assert services["milvus"]["command"][:3] == ["server", "--data-dir", "/data/milvus"]
    assert services["milvus"]["entrypoint"][-1] == "milvus-lite"


def test_every_service_has_a_health_check(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        test = service.get("healthcheck", {}).get("test")
        assert test and test[0] in ("CMD", "CMD-SHELL"), name
    assert "/healthz" in " ".join(compose["services"]["web"]["healthcheck"]["test"])
    assert ":health-check" in " ".join(compose["services"]["worker"]["healthcheck"]["test"])


def test_worker_scales_and_state_persists(compose: dict[str, Any]) -> None:
    services = compose["services"]
    worker = services["worker"]
    assert worker["deploy"]["replicas"] == 2  # NEXUS_WORKERS in .env.example
    assert "container_name" not in worker and "ports" not in worker  # --scale works
    redis_cmd = services["redis"]["command"]
    assert redis_cmd[redis_cmd.index("--appendonly") + 1] == "yes"
    assert "redis-data:/data" in services["redis"]["volumes"]
    assert "postgres-data:/var/lib/postgresql/data" in services["postgres"]["volumes"]
    assert "milvus-data:/data" in services["milvus"]["volumes"]
    assert set(compose["volumes"]) == {"nexus-data", "redis-data", "postgres-data", "milvus-data"}


def test_only_the_web_port_is_published(compose: dict[str, Any]) -> None:
    published = {name for name, svc in compose["services"].items() if svc.get("ports")}
    assert published == {"web"}
