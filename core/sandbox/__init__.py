"""Sandboxed execution of generated code: one protocol, a local and an E2B backend.

``create_sandbox(settings)`` returns the configured backend; ``SandboxRun`` goes
in, ``SandboxResult`` comes out (see ``protocol.py``).

Exports load lazily: the fork server imports ``core.sandbox.forkserver`` and must
not drag settings or pydantic into the memory every sandboxed child inherits.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.sandbox.factory import create_sandbox
    from core.sandbox.isolation import IsolationReport
    from core.sandbox.protocol import (
        FigureResult,
        JsonResult,
        Sandbox,
        SandboxErrorInfo,
        SandboxResult,
        SandboxRun,
        ScalarResult,
        StructuredResult,
        TableResult,
        TextResult,
    )

_EXPORTS = {
    "create_sandbox": "core.sandbox.factory",
    "IsolationReport": "core.sandbox.isolation",
    **{
        name: "core.sandbox.protocol"
        for name in (
            "FigureResult", "JsonResult", "Sandbox", "SandboxErrorInfo", "SandboxResult",
            "SandboxRun", "ScalarResult", "StructuredResult", "TableResult", "TextResult",
        )
    },
}  # fmt: skip

__all__ = [
    "FigureResult",
    "IsolationReport",
    "JsonResult",
    "Sandbox",
    "SandboxErrorInfo",
    "SandboxResult",
    "SandboxRun",
    "ScalarResult",
    "StructuredResult",
    "TableResult",
    "TextResult",
    "create_sandbox",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'core.sandbox' has no attribute {name!r}")
