"""A courtesy pre-check: refuse obviously out-of-scope code with a friendly reason.

This is *not* the security boundary (string tricks get past any AST check; the
sandbox is what contains code). It saves a run, and gives the LLM loop a clear
message, when generated code reaches for the network, processes or introspection
tricks that analysis code never needs.
"""

from __future__ import annotations

import ast

from core.errors import CodeRejectedError
from core.sandbox.protocol import SandboxErrorInfo

MAX_CODE_CHARS = 200_000

_BLOCKED_MODULES = {
    "subprocess": "start other programs",
    "socket": "open network connections",
    "ssl": "open network connections",
    "requests": "use the network",
    "httpx": "use the network",
    "aiohttp": "use the network",
    "urllib": "use the network",
    "http": "use the network",
    "ftplib": "use the network",
    "smtplib": "use the network",
    "telnetlib": "use the network",
    "ctypes": "call native code",
    "cffi": "call native code",
    "pty": "open a terminal",
    "multiprocessing": "start other processes",
    "signal": "send signals",
    "resource": "change resource limits",
    "importlib": "import modules dynamically",
    "code": "start an interpreter",
    "pickle": "load pickled objects",
    "marshal": "load code objects",
}
_BLOCKED_CALLS = {"eval", "exec", "compile", "__import__", "breakpoint", "input"}
_BLOCKED_OS_ATTRS = {
    "system", "popen", "fork", "forkpty", "kill", "killpg", "setuid", "setgid",
    "execv", "execve", "execl", "execle", "execlp", "execvp", "execvpe", "execlpe",
    "spawnl", "spawnle", "spawnv", "spawnve", "spawnlp", "spawnvp", "posix_spawn",
    "posix_spawnp", "chroot", "unshare", "setns",
}  # fmt: skip
_FRAME_ATTRS = {
    "f_back", "f_globals", "f_locals", "f_builtins", "f_code", "gi_frame", "gi_code",
    "cr_frame", "cr_code", "ag_frame", "tb_frame", "tb_next", "co_code", "co_consts",
}  # fmt: skip
_ALLOWED_DUNDERS = {"__name__", "__doc__", "__len__", "__init__", "__class__", "__dict__"}


def _reject(what: str) -> CodeRejectedError:
    return CodeRejectedError(
        f"The generated code tried to {what}, which analysis code in the sandbox may not do. "
        "It should only read the provided files and use pandas, numpy, scipy, "
        "scikit-learn, statsmodels or plotly.",
        detail=what,
    )


def check(code: str) -> SandboxErrorInfo | None:
    """Raise :class:`CodeRejectedError` for out-of-scope code; return a SyntaxError
    as error info (it is the code's error, not a refusal); None when fine."""
    if len(code) > MAX_CODE_CHARS:
        raise _reject(f"run {len(code)} characters of code (limit {MAX_CODE_CHARS})")
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        where = f" (line {exc.lineno})" if exc.lineno else ""
        return SandboxErrorInfo(type="SyntaxError", message=f"{exc.msg}{where}")
    except ValueError as exc:  # e.g. null bytes
        return SandboxErrorInfo(type="SyntaxError", message=str(exc))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                _check_module(alias.name)
        elif isinstance(node, ast.ImportFrom):
            _check_module(node.module or "")
            if node.module == "os":
                for alias in node.names:
                    if alias.name in _BLOCKED_OS_ATTRS:
                        raise _reject(f"use os.{alias.name}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in _BLOCKED_CALLS:
                raise _reject(f"call {node.func.id}()")
        elif isinstance(node, ast.Attribute):
            if node.attr in _BLOCKED_OS_ATTRS and _is_name(node.value, "os"):
                raise _reject(f"use os.{node.attr}")
            if node.attr.startswith("__") and node.attr not in _ALLOWED_DUNDERS:
                raise _reject(f"reach into interpreter internals ({node.attr})")
            if node.attr in _FRAME_ATTRS:
                raise _reject(f"inspect interpreter frames ({node.attr})")
        elif isinstance(node, ast.Name) and node.id in {"__builtins__", "__loader__", "__spec__"}:
            raise _reject(f"reach into interpreter internals ({node.id})")
    return None


def _check_module(name: str) -> None:
    top = name.split(".")[0]
    if top in _BLOCKED_MODULES:
        raise _reject(f"{_BLOCKED_MODULES[top]} (import {name})")


def _is_name(node: ast.expr, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name
