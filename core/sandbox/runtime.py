"""Running user code like a notebook cell, inside the sandbox.

The code gets ``show(obj, name=None)`` (also ``result`` and ``display``) to return
tables, figures and values; the value of its last expression is returned too, and
``fig.show()`` is routed to ``show``. Errors come back as data with a traceback
trimmed to the user's own frames. Files created or changed in the work dir are
collected at the end.

Standard library only at import time: the local child imports this module, and the
E2B backend ships its source (with :mod:`core.sandbox.serialize`) to the kernel.
"""

from __future__ import annotations

import ast
import base64
import builtins
import linecache
import os
import stat
import sys
import traceback
from collections.abc import Callable
from typing import Any

from core.sandbox.serialize import to_item

USER_FILENAME = "<analysis>"
MAX_FILES = 20
MAX_FILE_BYTES = 16 * 1024 * 1024
_MAX_SCAN = 2000


class CPUTimeExceeded(BaseException):
    """Raised in the user code when its CPU-time limit is reached.

    A BaseException so a bare ``except Exception`` in generated code cannot swallow it.
    """


def _error(exc: BaseException) -> dict[str, str]:
    if isinstance(exc, SyntaxError):
        where = f" (line {exc.lineno})" if exc.lineno else ""
        return {
            "type": "SyntaxError",
            "message": f"{exc.msg}{where}",
            "traceback": "".join(traceback.format_exception_only(type(exc), exc)),
        }
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != USER_FILENAME:
        tb = tb.tb_next  # hide the runtime's own frames
    lines = traceback.format_exception(type(exc), exc, tb or exc.__traceback__)
    # numpy raises a private MemoryError subclass; report the public name.
    name = "MemoryError" if isinstance(exc, MemoryError) else type(exc).__name__
    return {"type": name, "message": str(exc)[:2000], "traceback": "".join(lines)}


def execute(
    code: str, emit: Callable[[dict[str, Any]], None], *, max_rows: int = 10_000
) -> dict[str, str] | None:
    """Run ``code``; return the error it raised (as data) or None."""

    def show(obj: Any, name: str | None = None) -> None:
        try:
            item = to_item(obj, name=name, max_rows=max_rows)
        except Exception as exc:  # a value we cannot serialise is still worth a line
            item = {"kind": "text", "value": f"<unserialisable {type(obj).__name__}: {exc}>"}
        emit(item)

    namespace: dict[str, Any] = {
        "__name__": "__main__",
        "__builtins__": builtins,
        "show": show,
        "result": show,
        "display": show,
    }
    basedatatypes = sys.modules.get("plotly.basedatatypes")
    if basedatatypes is not None:
        basedatatypes.BaseFigure.show = lambda self, *a, **k: show(self)
    linecache.cache[USER_FILENAME] = (len(code), None, code.splitlines(True), USER_FILENAME)
    try:
        tree = ast.parse(code, USER_FILENAME, "exec")
        last: ast.Expression | None = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            last = ast.Expression(tree.body[-1].value)
            tree.body.pop()
        exec(compile(tree, USER_FILENAME, "exec"), namespace)
        if last is not None:
            value = eval(compile(last, USER_FILENAME, "eval"), namespace)
            if value is not None:
                item = to_item(value, max_rows=max_rows)
                item["is_main"] = True
                emit(item)
    except SystemExit as exc:
        if exc.code not in (None, 0):
            return {"type": "SystemExit", "message": f"exit({exc.code!r})", "traceback": ""}
    except BaseException as exc:
        return _error(exc)
    return None


def snapshot(root: str = ".") -> dict[str, tuple[int, int]]:
    """Regular files under ``root`` (no symlinks followed): name → (size, mtime_ns)."""
    found: dict[str, tuple[int, int]] = {}
    stack = [""]
    while stack and len(found) < _MAX_SCAN:
        rel = stack.pop()
        try:
            entries = list(os.scandir(os.path.join(root, rel) if rel else root))
        except OSError:
            continue
        for entry in entries[:_MAX_SCAN]:
            name = os.path.join(rel, entry.name) if rel else entry.name
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISDIR(st.st_mode):
                stack.append(name)
            elif stat.S_ISREG(st.st_mode):
                found[name] = (st.st_size, st.st_mtime_ns)
    return found


def collect_files(
    before: dict[str, tuple[int, int]],
    root: str = ".",
    *,
    max_files: int = MAX_FILES,
    max_bytes: int = MAX_FILE_BYTES,
) -> tuple[list[dict[str, str]], list[str]]:
    """Files created or changed since ``before`` (base64) within the caps, and the
    names of those left out for being over them."""
    files: list[dict[str, str]] = []
    skipped: list[str] = []
    budget = max_bytes
    for name, sig in sorted(snapshot(root).items()):
        if before.get(name) == sig:
            continue
        if len(files) >= max_files or sig[0] > budget:
            skipped.append(name)
            continue
        try:
            fd = os.open(os.path.join(root, name), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            continue
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                continue
            data = fh.read(budget + 1)
        if len(data) > budget:
            skipped.append(name)
            continue
        budget -= len(data)
        files.append({"name": name, "data": base64.b64encode(data).decode()})
    return files, skipped


def nexus_main(code: str, max_rows: int = 10_000) -> None:
    """Entry point in a Jupyter kernel (E2B): results go out as display data."""
    from IPython.display import display as publish

    def emit(item: dict[str, Any]) -> None:
        publish({"application/json": {"nexus": item}}, raw=True)

    before = snapshot(".")
    error = execute(code, emit, max_rows=max_rows)
    files, skipped = collect_files(before, ".")
    final = {"error": error, "files": files, "skipped_files": skipped}
    publish({"application/json": {"nexus_final": final}}, raw=True)
