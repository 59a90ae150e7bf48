"""Helpers of the deployment tests: the repository's files, compose interpolation, env names.

Everything here works offline: schemas come from pinned packages
(``kubernetes-validate``, ``check-jsonschema``) or from ``tests/deploy/schemas/``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import AliasChoices
from pydantic_settings import BaseSettings

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = Path(__file__).resolve().parent / "schemas"
K8S_DIR = ROOT / "manifests" / "kubernetes"

_INNERMOST = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^${}]*))?\}")


class MissingVariable(ValueError):
    pass


def interpolate(text: str, env: Mapping[str, str]) -> str:
    """Compose-style ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``, ``${VAR:?error}``
    (nested defaults too), resolved innermost first like ``docker compose config``."""

    def resolve(match: re.Match[str]) -> str:
        name, op, arg = match.group(1), match.group(2), match.group(3) or ""
        value = env.get(name)
        if op is None:
            return value or ""
        # ":-" / ":?" treat an empty value like an unset one; "-" / "?" do not.
        present = bool(value) if op.startswith(":") else value is not None
        if not present:
            if op.endswith("?"):
                raise MissingVariable(f"{name}: {arg}")
            return arg
        return value or ""

    previous = None
    while previous != text:
        previous, text = text, _INNERMOST.sub(resolve, text)
    return text


def parse_env_file(path: Path) -> dict[str, str]:
    """``NAME=value`` lines of a dotenv file (comments and blank lines skipped)."""
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, value = line.partition("=")
        values[name.strip()] = value.strip()
    return values


def documented_env_names(path: Path) -> set[str]:
    """Names of ``NAME=`` lines, set or commented out (``# NAME=default``)."""
    pattern = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=", re.MULTILINE)
    return set(pattern.findall(path.read_text()))


def env_names(settings_class: type[BaseSettings]) -> Iterator[str]:
    """Every environment variable a settings class reads, nested settings included."""
    prefix = str(settings_class.model_config.get("env_prefix", ""))
    for name, field in settings_class.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseSettings):
            yield from env_names(annotation)
            continue
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            yield from (str(choice) for choice in alias.choices)
        elif isinstance(alias, str):
            yield alias
        else:
            yield (prefix + name).upper()


def load_yaml_documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def kubernetes_documents() -> list[tuple[Path, dict[str, Any]]]:
    """Every object in ``manifests/kubernetes/*.yaml``, with the file it came from."""
    return [
        (path, doc)
        for path in sorted(K8S_DIR.glob("*.yaml"))
        if path.name != "kustomization.yaml"
        for doc in load_yaml_documents(path)
    ]


def load_schema(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((SCHEMAS / name).read_text())
    return schema
