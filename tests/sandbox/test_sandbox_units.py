"""Pure pieces: the AST courtesy check, serialisation, the notebook-style runtime,
the isolation report and the backend factory. (Benign code only runs in-process.)"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.express as px
import pytest
from pydantic import SecretStr

from core.errors import CodeRejectedError, ConfigurationError
from core.sandbox import ast_check, runtime
from core.sandbox.e2b import E2BSandbox
from core.sandbox.factory import create_sandbox
from core.sandbox.isolation import FEATURES, describe
from core.sandbox.local import LocalSandbox
from core.sandbox.serialize import to_item
from core.settings import Settings


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("import subprocess", "start other programs"),
        ("from socket import socket", "open network connections"),
        ("import urllib.request", "use the network"),
        ("import ctypes", "call native code"),
        ("import os\nos.system('id')", "use os.system"),
        ("from os import fork", "use os.fork"),
        ("eval('1')", "call eval()"),
        ("__import__('os')", "call __import__()"),
        ("().__class__.__bases__[0].__subclasses__()", "interpreter internals"),
        ("f = lambda: 0\nf.__globals__", "interpreter internals"),
        ("import sys\nsys._getframe().f_back", "inspect interpreter frames"),
        ("x = __builtins__", "interpreter internals"),
        ("import importlib\nimportlib.import_module('os')", "import modules dynamically"),
    ],
)
def test_ast_check_refuses_out_of_scope_code(code: str, reason: str) -> None:
    with pytest.raises(CodeRejectedError) as info:
        ast_check.check(code)
    assert reason in info.value.user_message


@pytest.mark.parametrize(
    "code",
    [
        "import os\nfiles = os.listdir('.')\npath = os.path.join('a', 'b')",
        "import pandas as pd\ndf = pd.read_csv('x.csv')\ndf.__len__()",
        "from scipy import stats\nstats.f_oneway([1, 2], [3, 4])",
        "import plotly.express as px\nfig = px.bar(x=[1], y=[2])\nfig.show()",
        "class A:\n    def __init__(self):\n        self.x = 1\n",
    ],
)
def test_ast_check_lets_analysis_code_through(code: str) -> None:
    assert ast_check.check(code) is None


def test_ast_check_returns_syntax_errors_as_data() -> None:
    err = ast_check.check("for x in\n")
    assert err is not None and err.type == "SyntaxError" and "line 1" in err.message


def test_tables_flatten_index_and_sanitise_values() -> None:
    df = pd.DataFrame(
        {
            "a": [1.5, math.nan, math.inf],
            "t": pd.to_datetime(pd.Series(["2024-01-02", None, "2024-03-04"])),
        }
    )
    item = to_item(df)
    assert item["columns"] == ["a", "t"]
    assert item["records"][0] == {"a": 1.5, "t": "2024-01-02T00:00:00.000"}
    assert item["records"][1] == {"a": None, "t": None} and item["records"][2]["a"] is None
    grouped = to_item(px.data.tips().groupby(["day", "time"])["tip"].agg(["mean", "count"]))
    assert grouped["columns"] == ["day", "time", "mean", "count"]
    wide = pd.DataFrame([[1, 2, 3]], columns=pd.MultiIndex.from_tuples([("x", "a"), ("x", "b"),
                                                                          ("x", "a")]))  # fmt: skip
    assert to_item(wide)["columns"] == ["x / a", "x / b", "x / a_2"]


def test_table_truncation_and_scalars() -> None:
    item = to_item(pd.Series(range(50), name="n"), max_rows=10)
    assert item["total_rows"] == 50 and item["truncated"] and len(item["records"]) == 10
    assert to_item(np.float64(2.5)) == {"kind": "scalar", "value": 2.5}
    assert to_item(np.int64(7)) == {"kind": "scalar", "value": 7}
    assert to_item(float("nan")) == {"kind": "scalar", "value": None}
    assert to_item(10**30)["kind"] == "text"
    assert to_item({"k": np.int32(3), 1: [1.0, math.inf]}) == {
        "kind": "json", "value": {"k": 3, "1": [1.0, None]},
    }  # fmt: skip
    assert to_item(np.arange(6).reshape(2, 3))["columns"] == ["0", "1", "2"]
    assert to_item(object())["kind"] == "text"


def test_runtime_is_notebook_like() -> None:
    items: list[dict[str, object]] = []
    err = runtime.execute("x = 2\nshow(x, name='two')\nx * 21", items.append)
    assert err is None
    assert items == [
        {"kind": "scalar", "value": 2, "name": "two"},
        {"kind": "scalar", "value": 42, "is_main": True},
    ]
    items.clear()
    assert runtime.execute("import sys\nsys.exit(0)", items.append) is None
    err = runtime.execute("raise SystemExit(3)", items.append)
    assert err is not None and err["type"] == "SystemExit"
    err = runtime.execute("def f():\n    return 1/0\nf()", items.append)
    assert err is not None and err["type"] == "ZeroDivisionError"
    assert err["traceback"].startswith("Traceback") and "runtime.py" not in err["traceback"]


def test_isolation_report_lists_what_is_missing() -> None:
    full = describe({k: k != "userns" for k in FEATURES})
    assert full.missing == [] and full.fully_isolated
    assert "fully isolated" in full.summary_line()
    partial = describe({**{k: True for k in FEATURES}, "netns": False, "seccomp": False},
                       errors={"netns": "EPERM"})  # fmt: skip
    assert len(partial.missing) == 2 and "[EPERM]" in partial.missing[0]
    assert partial.readyz()["isolated"] is False
    assert partial.summary_line().startswith("sandbox local: running WITHOUT network")


def test_factory_picks_the_backend() -> None:
    assert isinstance(create_sandbox(Settings(sandbox="local")), LocalSandbox)
    with pytest.raises(ConfigurationError):
        create_sandbox(Settings(sandbox="e2b", e2b_api_key=None))
    box = create_sandbox(Settings(sandbox="e2b", e2b_api_key=SecretStr("e2b_x")))
    assert isinstance(box, E2BSandbox)
