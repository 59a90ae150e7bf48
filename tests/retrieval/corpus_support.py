"""The retrieval evaluation set: documents and labelled questions, shared with
``bench/retrieval.py``.

Two sources: the policy documents written as fixtures (``core/samples/docs``: Markdown,
HTML and text), and real public-domain text shipped by a package — the descriptions of
statsmodels' public-domain datasets (their ``COPYRIGHT`` says so), one text document
each. ``questions.json`` labels each question with its document and a phrase the
relevant passage contains, so relevance is checked, not assumed.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import statsmodels.datasets

DOCS = Path(__file__).resolve().parents[2] / "core" / "samples" / "docs"


@dataclass(frozen=True)
class Labelled:
    question: str
    document: str
    answer: str


@dataclass(frozen=True)
class Scores:
    recall_at_5: float
    mrr: float
    misses: list[str]


def public_domain_texts() -> dict[str, bytes]:
    """``{"longley.txt": b"Longley dataset ..."}`` for every public-domain statsmodels set."""
    texts: dict[str, bytes] = {}
    for info in pkgutil.iter_modules(statsmodels.datasets.__path__):
        module = importlib.import_module(f"statsmodels.datasets.{info.name}")
        if "public domain" not in str(getattr(module, "COPYRIGHT", "")).lower():
            continue
        if info.name == "template_data":
            continue
        parts = [getattr(module, key, "") for key in ("TITLE", "DESCRLONG", "NOTE", "SOURCE")]
        body = "\n\n".join(str(part).strip() for part in parts if str(part).strip())
        texts[f"{info.name}.txt"] = body.encode()
    return texts


def corpus() -> dict[str, bytes]:
    """Every document of the set by file name."""
    files = {path.name: path.read_bytes() for path in sorted(DOCS.iterdir())}
    files.pop("questions.json")
    return {**files, **public_domain_texts()}


def questions() -> list[Labelled]:
    raw = json.loads((DOCS / "questions.json").read_text())
    return [Labelled(item["q"], item["doc"], item["answer"]) for item in raw]


def relevant(label: Labelled, file_name: str, text: str) -> bool:
    squashed = " ".join(text.split()).lower()
    return file_name == label.document and label.answer.lower() in squashed


def score(label_results: Sequence[tuple[Labelled, Sequence[tuple[str, str]]]]) -> Scores:
    """recall@5 and MRR from (question, [(file name, passage text), ...] best first)."""
    hits, reciprocal, misses = 0, 0.0, []
    for label, ranked in label_results:
        rank = next(
            (n for n, (name, text) in enumerate(ranked[:5], 1) if relevant(label, name, text)),
            None,
        )
        if rank is None:
            misses.append(label.question)
            continue
        hits += 1
        reciprocal += 1 / rank
    total = max(len(label_results), 1)
    return Scores(hits / total, reciprocal / total, misses)
