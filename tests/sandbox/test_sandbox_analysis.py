"""Valid analysis code works in the sandbox and comes back as structured results.

Answers are checked against pandas/scikit-learn computed here, independently.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pandas as pd
import pytest

from core.errors import CodeRejectedError
from core.sandbox.local import LocalSandbox
from core.sandbox.protocol import FigureResult, SandboxRun, ScalarResult, TableResult

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_group_by_matches_pandas(sandbox: LocalSandbox, data_dir: Path) -> None:
    code = (
        "import pandas as pd\n"
        "df = pd.read_csv('tips.csv')\n"
        "print(len(df))\n"
        "df.groupby('day')['tip'].mean().sort_values(ascending=False)\n"
    )
    res = await sandbox.run(SandboxRun(code=code, datasets=[data_dir / "tips.csv"]))
    assert res.ok, res.error
    assert res.stdout == "244\n"
    [table] = res.results
    assert isinstance(table, TableResult) and table.is_main
    assert table.columns == ["day", "tip"]
    expected = pd.read_csv(data_dir / "tips.csv").groupby("day")["tip"].mean()
    got = {r["day"]: r["tip"] for r in table.records}
    assert got == pytest.approx(expected.to_dict())
    assert table.total_rows == 4 and not table.truncated


async def test_scalar_and_named_show(sandbox: LocalSandbox, data_dir: Path) -> None:
    code = (
        "import pandas as pd\n"
        "df = pd.read_csv('tips.csv')\n"
        "show(df.total_bill.max(), name='max bill')\n"
        "show(df.head(3), name='sample')\n"
        "df.tip.mean()\n"
    )
    res = await sandbox.run(SandboxRun(code=code, datasets=[data_dir / "tips.csv"]))
    assert res.ok, res.error
    first, sample, main = res.results
    tips = pd.read_csv(data_dir / "tips.csv")
    assert isinstance(first, ScalarResult) and first.name == "max bill"
    assert first.value == pytest.approx(tips.total_bill.max())
    assert isinstance(sample, TableResult) and len(sample.records) == 3
    assert sample.columns == list(tips.columns)
    assert isinstance(main, ScalarResult) and main.is_main
    assert main.value == pytest.approx(tips.tip.mean())


async def test_kmeans_from_scikit_learn(sandbox: LocalSandbox, data_dir: Path) -> None:
    code = (
        "import pandas as pd\n"
        "from sklearn.cluster import KMeans\n"
        "df = pd.read_csv('iris.csv')\n"
        "X = df[['sepal_length','sepal_width','petal_length','petal_width']]\n"
        "km = KMeans(n_clusters=3, n_init=10, random_state=0).fit(X)\n"
        "show(float(km.inertia_), name='inertia')\n"
        "df.assign(cluster=km.labels_)[['species', 'cluster']]\n"
    )
    res = await sandbox.run(SandboxRun(code=code, datasets=[data_dir / "iris.csv"]))
    assert res.ok, res.error
    inertia, labelled = res.results
    assert isinstance(inertia, ScalarResult) and isinstance(labelled, TableResult)
    # Check the clustering independently: inertia recomputed from the labels, and
    # setosa (linearly separable) in a cluster of its own.
    iris = pd.read_csv(data_dir / "iris.csv")
    features = iris[["sepal_length", "sepal_width", "petal_length", "petal_width"]]
    labels = pd.Series([r["cluster"] for r in labelled.records])
    centroids = features.groupby(labels).transform("mean")
    assert inertia.value == pytest.approx(((features - centroids) ** 2).sum().sum(), rel=1e-6)
    by_species = pd.DataFrame(labelled.records).groupby("species")["cluster"].nunique()
    assert by_species["setosa"] == 1 and labels.nunique() == 3


async def test_plotly_figure_comes_back_as_json(sandbox: LocalSandbox, data_dir: Path) -> None:
    code = (
        "import pandas as pd, plotly.express as px\n"
        "df = pd.read_csv('tips.csv')\n"
        "fig = px.bar(df.groupby('day', as_index=False)['tip'].sum(), x='day', y='tip',"
        " title='Tips by day')\n"
        "fig.show()\n"
    )
    res = await sandbox.run(SandboxRun(code=code, datasets=[data_dir / "tips.csv"]))
    assert res.ok, res.error
    [fig] = res.results
    assert isinstance(fig, FigureResult)
    assert fig.figure["layout"]["title"]["text"] == "Tips by day"
    assert fig.figure["data"][0]["type"] == "bar"
    assert sorted(fig.figure["data"][0]["x"]) == ["Fri", "Sat", "Sun", "Thur"]


async def test_statsmodels_and_scipy(sandbox: LocalSandbox, data_dir: Path) -> None:
    code = (
        "import pandas as pd\n"
        "import statsmodels.formula.api as smf\n"
        "from scipy import stats\n"
        "df = pd.read_csv('tips.csv')\n"
        "model = smf.ols('tip ~ total_bill', data=df).fit()\n"
        "show(model.params['total_bill'], name='slope')\n"
        "groups = [g.tip.values for _, g in df.groupby('day')]\n"
        "stats.f_oneway(*groups).pvalue\n"
    )
    res = await sandbox.run(SandboxRun(code=code, datasets=[data_dir / "tips.csv"], timeout=60))
    assert res.ok, res.error
    slope, pvalue = res.results
    tips = pd.read_csv(data_dir / "tips.csv")
    import numpy as np
    from scipy import stats

    expected_slope = np.polyfit(tips.total_bill, tips.tip, 1)[0]
    assert isinstance(slope, ScalarResult) and slope.value == pytest.approx(expected_slope)
    groups = [g.tip.values for _, g in tips.groupby("day")]
    assert isinstance(pvalue, ScalarResult)
    assert pvalue.value == pytest.approx(stats.f_oneway(*groups).pvalue)


async def test_files_written_by_the_code(sandbox: LocalSandbox, data_dir: Path) -> None:
    code = (
        "import pandas as pd, os\n"
        "df = pd.read_csv('tips.csv')\n"
        "os.makedirs('out', exist_ok=True)\n"
        "df.groupby('sex')['tip'].sum().to_csv('out/by_sex.csv')\n"
        "open('note.txt','w').write('hello')\n"
    )
    res = await sandbox.run(SandboxRun(code=code, datasets=[data_dir / "tips.csv"]))
    assert res.ok, res.error
    assert set(res.files) == {"out/by_sex.csv", "note.txt"}  # not the unchanged dataset
    assert res.files["note.txt"] == b"hello"
    expected = pd.read_csv(data_dir / "tips.csv").groupby("sex")["tip"].sum().to_csv()
    assert res.files["out/by_sex.csv"].decode() == expected


async def test_user_error_is_returned_with_user_traceback(sandbox: LocalSandbox) -> None:
    code = "def f(x):\n    return x['missing']\n\nf({'a': 1})\n"
    res = await sandbox.run(SandboxRun(code=code))
    assert res.error is not None and res.error.type == "KeyError"
    assert res.error.message == "'missing'"
    assert 'File "<analysis>", line 2, in f' in res.error.traceback
    assert "return x['missing']" in res.error.traceback
    assert "core/sandbox" not in res.error.traceback  # the runtime's frames are hidden


async def test_syntax_error_is_returned_without_running(sandbox: LocalSandbox) -> None:
    res = await sandbox.run(SandboxRun(code="x = (1,\nprint(x)"))
    assert res.error is not None and res.error.type == "SyntaxError"
    assert res.duration == 0.0


async def test_out_of_scope_code_is_refused_early(sandbox: LocalSandbox) -> None:
    with pytest.raises(CodeRejectedError) as info:
        await sandbox.run(SandboxRun(code="import subprocess\nsubprocess.run(['ls'])"))
    assert "start other programs" in info.value.user_message


async def test_same_dataset_name_twice_is_renamed(sandbox: LocalSandbox, tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "d.csv").write_text("x\n1\n")
    (tmp_path / "b" / "d.csv").write_text("x\n2\n")
    code = "import pandas as pd, os\nsorted(os.listdir('.'))"
    res = await sandbox.run(
        SandboxRun(code=code, datasets=[tmp_path / "a" / "d.csv", tmp_path / "b" / "d.csv"])
    )
    assert res.ok, res.error
    assert res.results[0].value == ["d.csv", "d_2.csv"]  # type: ignore[union-attr]


async def test_children_do_not_share_random_state(sandbox: LocalSandbox) -> None:
    code = "import numpy as np\nfloat(np.random.rand())"
    first, second = await asyncio.gather(
        sandbox.run(SandboxRun(code=code)), sandbox.run(SandboxRun(code=code))
    )
    assert first.results[0].value != second.results[0].value  # type: ignore[union-attr]


async def test_concurrent_runs(sandbox: LocalSandbox, data_dir: Path) -> None:
    code = "import pandas as pd\nint(pd.read_csv('ten_k.csv').v.sum())"
    runs = [SandboxRun(code=code, datasets=[data_dir / "ten_k.csv"]) for _ in range(10)]
    results = await asyncio.gather(*(sandbox.run(r) for r in runs))
    assert [r.results[0].value for r in results] == [sum(range(10_000))] * 10  # type: ignore[union-attr]
