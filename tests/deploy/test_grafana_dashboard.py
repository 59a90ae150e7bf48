"""The Grafana dashboard and the metric catalogue in docs/operations.md agree with each
other and with the series ``core/metrics.py`` really defines."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from deploy_support import ROOT
from prometheus_client import CollectorRegistry

from core.llm.router import LLMRouter
from core.metrics import NexusMetrics
from core.metrics_collectors import BreakerStates, QueueDepth
from core.queue import InProcessQueue

DASHBOARD = ROOT / "manifests" / "grafana-dashboard.json"
CATALOGUE_ROW = re.compile(
    r"^\| `(nexus_[a-z_]+)` \| (counter|gauge|histogram) \|[^|]*\|[^|]*\| "
    r"(exported|proposed) \|",
    re.MULTILINE,
)


def _catalogue() -> dict[str, str]:
    rows = CATALOGUE_ROW.findall((ROOT / "docs" / "operations.md").read_text())
    assert rows, "no metric table in docs/operations.md"
    return {name: status for name, _, status in rows}


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return loaded


def _panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in dashboard["panels"] if p["type"] != "row"]


def _metric_names(expr: str) -> set[str]:
    return {re.sub(r"_(bucket|count|sum)$", "", m) for m in re.findall(r"nexus_[a-z_]+", expr)}


def test_dashboard_structure(dashboard: dict[str, Any]) -> None:
    assert dashboard["uid"] and dashboard["title"] == "Nexus"
    assert isinstance(dashboard["schemaVersion"], int)
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    for panel in _panels(dashboard):
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["expr"].count("(") == target["expr"].count(")"), target["expr"]


def test_panels_do_not_overlap(dashboard: dict[str, Any]) -> None:
    taken: set[tuple[int, int]] = set()
    for panel in dashboard["panels"]:
        g = panel["gridPos"]
        assert g["x"] >= 0 and g["x"] + g["w"] <= 24, panel["title"]
        xs, ys = range(g["x"], g["x"] + g["w"]), range(g["y"], g["y"] + g["h"])
        cells = {(x, y) for x in xs for y in ys}
        assert not cells & taken, panel["title"]
        taken |= cells


def test_dashboard_uses_exactly_the_catalogue(dashboard: dict[str, Any]) -> None:
    used = set().union(
        *(_metric_names(t["expr"]) for p in _panels(dashboard) for t in p["targets"])
    )
    assert used == set(_catalogue())


def test_histogram_quantiles_use_buckets(dashboard: dict[str, Any]) -> None:
    for panel in _panels(dashboard):
        for target in panel["targets"]:
            if "histogram_quantile" in target["expr"]:
                assert "_bucket[" in target["expr"] and "by (le" in target["expr"], target


def test_catalogue_status_matches_core_metrics() -> None:
    """``exported`` rows are defined by NexusMetrics, ``proposed`` rows are not: when a
    proposed series is implemented, this fails until the table says so."""
    registry = CollectorRegistry()
    NexusMetrics(registry)
    # The scrape-time collectors (queue depth, circuit breakers) on the same registry.
    QueueDepth(InProcessQueue({}, job_timeout=1, max_tries=1), "q", registry)
    registry.register(BreakerStates(LLMRouter([])))
    families = {family.name for family in registry.collect()}  # counters: without _total
    assert "nexus_jobs" in families
    for name, status in _catalogue().items():
        family = re.sub(r"_total$", "", name)
        assert (family in families) == (status == "exported"), (name, status)
