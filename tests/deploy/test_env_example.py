"""``.env.example`` documents every variable Nexus reads.

The names come from the settings classes themselves (``Settings`` and the nested
limit settings), so a field added to ``core/settings.py`` without a line in
``.env.example`` fails here.
"""

from __future__ import annotations

import re

import pytest
from deploy_support import ROOT, documented_env_names, env_names
from pydantic_settings import BaseSettings

from core.settings import IngestLimits, SandboxLimits, Settings

EXAMPLE = ROOT / ".env.example"
SETTINGS_CLASSES: list[type[BaseSettings]] = [Settings, IngestLimits, SandboxLimits]
# Read by libraries Nexus configures, not by a settings class.
LIBRARY_VARIABLES = {"BROWSER_PATH", "E2B_API_URL", "E2B_SANDBOX_URL", "E2B_DEBUG"}


@pytest.mark.parametrize("settings_class", SETTINGS_CLASSES, ids=lambda c: c.__name__)
def test_every_setting_is_documented(settings_class: type[BaseSettings]) -> None:
    names = set(env_names(settings_class))
    assert names, settings_class
    missing = sorted(names - documented_env_names(EXAMPLE))
    assert not missing, f"add these to .env.example: {missing}"


def test_nested_limits_are_reached_through_settings() -> None:
    """``Settings`` reads the sandbox limits itself, so its names include them."""
    assert set(env_names(SandboxLimits)) <= set(env_names(Settings))


def test_library_variables_are_documented() -> None:
    assert documented_env_names(EXAMPLE) >= LIBRARY_VARIABLES


def test_documented_names_are_real() -> None:
    """No stale entries: every name is a setting, a library's, or marked compose-only."""
    known = set().union(*(set(env_names(c)) for c in SETTINGS_CLASSES)) | LIBRARY_VARIABLES
    compose_only = {
        "NEXUS_IMAGE",
        "NEXUS_PUBLISH_PORT",
        "NEXUS_WORKERS",
        "REDIS_PASSWORD",
        "POSTGRES_PASSWORD",
        "NEXUS_PUBLIC_URL",
        "NEXUS_PUBLIC_HOST",
    }
    assert documented_env_names(EXAMPLE) - known == compose_only


def test_example_values_load_into_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every documented value, commented out or not, is accepted by Settings."""
    line = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=(.*)$", re.MULTILINE)
    values = {name: value.strip() for name, value in line.findall(EXAMPLE.read_text())}
    for name in set(env_names(Settings)) | set(env_names(IngestLimits)):
        monkeypatch.delenv(name, raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    limits = IngestLimits()
    assert settings.port == 3000
    assert settings.sandbox_limits.preload[0] == "pandas"
    assert settings.llm_prices["gpt-4.1-mini"] == (0.4, 1.6)
    assert settings.queue_name == "nexus:queue"
    assert limits.max_file_bytes == 52_428_800
