"""The code path: the LLM says a spec can't do it, writes a program, the sandbox runs it.

Real sandbox (local fork server), real SDKs against the fake providers; answers are
checked against numpy/pandas computed here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.agents import Analyst
from core.agents.datafiles import write_tables
from core.datasets.models import Table
from core.engine import AnalysisEngine
from core.errors import QuestionNotUnderstoodError, SandboxError, SandboxTimeoutError
from core.sandbox.local import LocalSandbox

from .conftest import Fakes, RouterFactory, bodies, user_content

session_loop = pytest.mark.asyncio(loop_scope="session")

QUESTION = "fit a linear regression of tip on total_bill and give the slope"
NEEDS_CODE = {"reason": "a regression is a model, not an aggregate"}
SLOPE = """import numpy as np
import pandas as pd
df = pd.read_parquet('tips.parquet')
slope, intercept = np.polyfit(df['total_bill'], df['tip'], 1)
show(float(slope), name='slope of tip on total_bill')
"""
BROKEN = SLOPE.replace("df['total_bill']", "df['totalbill']")
COEFFICIENTS = """import numpy as np
import pandas as pd
df = pd.read_parquet('tips.parquet')
rows = []
for day, part in df.groupby('day'):
    slope, intercept = np.polyfit(part['total_bill'], part['tip'], 1)
    rows.append({'day': day, 'slope': slope, 'intercept': intercept})
show(pd.DataFrame(rows), name='fit per day')
show(len(df), name='rows fitted')
"""

FOREVER = "import time\nwhile True:\n    time.sleep(0.05)\n"


def expected_slope(frame: pd.DataFrame) -> float:
    return float(np.polyfit(frame["total_bill"], frame["tip"], 1)[0])


@session_loop
async def test_code_answer_matches_numpy(
    fakes: Fakes,
    make_router: RouterFactory,
    engine: AnalysisEngine,
    tips: list[Table],
    tips_frame: pd.DataFrame,
    sandbox: LocalSandbox,
) -> None:
    openai = fakes["openai"]
    openai.script(
        openai.tool_call("needs_code", NEEDS_CODE),
        openai.tool_call("run_python", {"code": SLOPE, "explanation": "least squares fit"}),
    )
    analyst = Analyst(engine=engine, router=make_router(), sandbox=sandbox)

    answer = await analyst.answer(tips, QUESTION, workspace="w1", user="u1")

    assert answer.result.kind == "scalar"
    assert answer.result.value == pytest.approx(expected_slope(tips_frame))
    assert answer.text.startswith("Slope of tip on total_bill: 0.11")
    receipt = answer.receipt
    assert (receipt.method, receipt.planner, receipt.code) == ("code", "llm", SLOPE)
    assert [c.purpose for c in receipt.llm_calls] == ["spec", "code"]
    assert receipt.tokens_in == 80 and receipt.tokens_out == 24
    assert receipt.cost_usd == pytest.approx(sum(c.cost_usd for c in receipt.llm_calls))
    code_request = bodies(fakes)[1]
    assert [t["function"]["name"] for t in code_request["tools"]] == ["run_python"]
    assert "pd.read_parquet('tips.parquet')" in user_content(code_request)


@session_loop
async def test_repair_loop_fixes_a_broken_first_program(
    fakes: Fakes,
    make_router: RouterFactory,
    engine: AnalysisEngine,
    tips: list[Table],
    tips_frame: pd.DataFrame,
    sandbox: LocalSandbox,
) -> None:
    openai = fakes["openai"]
    openai.script(
        openai.tool_call("needs_code", NEEDS_CODE),
        openai.tool_call("run_python", {"code": BROKEN}),
        openai.tool_call("run_python", {"code": SLOPE}),
    )
    analyst = Analyst(engine=engine, router=make_router(), sandbox=sandbox)

    answer = await analyst.answer(tips, QUESTION, workspace="w1")

    assert answer.result.value == pytest.approx(expected_slope(tips_frame))
    first_code, repair = bodies(fakes)[1:]
    feedback = user_content(repair, 1)
    assert "KeyError" in feedback and "totalbill" in feedback and "<analysis>" in feedback
    # The traceback sits inside a data block, after the replayed broken program.
    assert feedback.index("<<DATA") < feedback.index("KeyError") < feedback.index("<<END DATA")
    assert repair["messages"][-2]["role"] == "assistant"
    assert "totalbill" in repair["messages"][-2]["content"]
    assert len(repair["messages"]) == len(first_code["messages"]) + 2
    assert [c.purpose for c in answer.receipt.llm_calls] == ["spec", "code", "code_repair"]
    assert answer.receipt.code == SLOPE


@session_loop
async def test_repairs_are_bounded(
    fakes: Fakes,
    make_router: RouterFactory,
    engine: AnalysisEngine,
    tips: list[Table],
    sandbox: LocalSandbox,
) -> None:
    openai = fakes["openai"]
    openai.script(
        openai.tool_call("needs_code", NEEDS_CODE),
        *[openai.tool_call("run_python", {"code": BROKEN}) for _ in range(5)],
    )
    analyst = Analyst(engine=engine, router=make_router(), sandbox=sandbox, max_repairs=2)

    with pytest.raises(SandboxError) as caught:
        await analyst.answer(tips, QUESTION, workspace="w1")

    assert openai.request_count == 1 + 3  # the spec call, then 1 try + 2 repairs
    message = caught.value.user_message
    assert message.startswith("I wrote 3 programs for this question and each one failed")
    assert "KeyError" in message


@session_loop
async def test_table_results_and_extra_numbers(
    fakes: Fakes,
    make_router: RouterFactory,
    engine: AnalysisEngine,
    tips: list[Table],
    tips_frame: pd.DataFrame,
    sandbox: LocalSandbox,
) -> None:
    openai = fakes["openai"]
    openai.script(
        openai.tool_call("needs_code", NEEDS_CODE),
        openai.tool_call("run_python", {"code": COEFFICIENTS}),
    )
    analyst = Analyst(engine=engine, router=make_router(), sandbox=sandbox)

    answer = await analyst.answer(tips, "regress tip on total_bill per day", workspace="w1")

    assert answer.result.kind == "table"
    assert answer.result.columns == ["day", "slope", "intercept"]
    for day, slope, _ in answer.result.rows:
        part = tips_frame[tips_frame["day"] == day]
        assert slope == pytest.approx(expected_slope(part))
    assert "rows fitted 244" in answer.text
    assert answer.receipt.rows_total == 4


@session_loop
async def test_program_with_no_result_is_sent_back(
    fakes: Fakes,
    make_router: RouterFactory,
    engine: AnalysisEngine,
    tips: list[Table],
    tips_frame: pd.DataFrame,
    sandbox: LocalSandbox,
) -> None:
    silent = "import pandas as pd\ndf = pd.read_parquet('tips.parquet')\nx = df.tip.sum()\n"
    openai = fakes["openai"]
    openai.script(
        openai.tool_call("needs_code", NEEDS_CODE),
        openai.tool_call("run_python", {"code": silent}),
        openai.tool_call("run_python", {"code": SLOPE}),
    )
    analyst = Analyst(engine=engine, router=make_router(), sandbox=sandbox)

    answer = await analyst.answer(tips, QUESTION, workspace="w1")

    assert answer.result.value == pytest.approx(expected_slope(tips_frame))
    assert "NoResult" in user_content(bodies(fakes)[-1], 1)


@session_loop
async def test_timeout_is_reported_at_once_not_retried(
    fakes: Fakes,
    make_router: RouterFactory,
    engine: AnalysisEngine,
    tips: list[Table],
    sandbox: LocalSandbox,
) -> None:
    openai = fakes["openai"]
    openai.script(
        openai.tool_call("needs_code", NEEDS_CODE),
        openai.tool_call("run_python", {"code": FOREVER}),
    )
    analyst = Analyst(
        engine=engine, router=make_router(), sandbox=sandbox, code_timeout_seconds=1.5
    )

    with pytest.raises(SandboxTimeoutError) as caught:
        await analyst.answer(tips, QUESTION, workspace="w1")

    assert "time limit" in caught.value.user_message
    assert openai.request_count == 2


@session_loop
async def test_code_path_off_without_a_sandbox(
    fakes: Fakes, make_router: RouterFactory, engine: AnalysisEngine, tips: list[Table]
) -> None:
    fakes["openai"].script(fakes["openai"].tool_call("needs_code", NEEDS_CODE))
    analyst = Analyst(engine=engine, router=make_router())

    with pytest.raises(QuestionNotUnderstoodError) as caught:
        await analyst.answer(tips, QUESTION, workspace="w1")

    assert "generated program, which is not enabled" in caught.value.user_message


def test_tables_parquet_cannot_hold_fall_back_to_csv(tmp_path: Path) -> None:
    mixed = pd.DataFrame({"id": [1, 2], "value": [1.5, "n/a"]}).astype({"value": object})
    tables = [
        Table("sales.xlsx [Q1]", pd.DataFrame({"x": [1]}), "sales.xlsx", "Q1", "h1"),
        Table("odd data.csv", mixed, "odd data.csv", None, "h2"),
        Table("sales.xlsx [Q1]", pd.DataFrame({"x": [2]}), "sales.xlsx", "Q1", "h3"),
    ]
    files = write_tables(tables, tmp_path)
    assert [f.name for f in files] == ["sales_q1.parquet", "odd_data.csv", "sales_q1_2.parquet"]
    assert files[1].reader == "pd.read_csv('odd_data.csv')"
    assert pd.read_parquet(files[2].path)["x"].tolist() == [2]
