"""Pick the sandbox backend from settings: ``NEXUS_SANDBOX=local`` (default) or ``e2b``."""

from __future__ import annotations

from core.errors import ConfigurationError
from core.sandbox.protocol import Sandbox
from core.settings import Settings


def create_sandbox(settings: Settings) -> Sandbox:
    """The backend every worker uses; E2B needs ``E2B_API_KEY`` (no silent fallback)."""
    if settings.sandbox == "e2b":
        if settings.e2b_api_key is None:
            raise ConfigurationError("NEXUS_SANDBOX=e2b needs E2B_API_KEY")
        from core.sandbox.e2b import E2BSandbox

        return E2BSandbox(settings.e2b_api_key.get_secret_value(), settings.sandbox_limits)
    from core.sandbox.local import LocalSandbox

    return LocalSandbox(settings.sandbox_limits)
