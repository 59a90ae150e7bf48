"""What the admin API's endpoints do, checked against the stores behind them."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pandas as pd
import plotly.express as px
import pytest
from governance.governance_support import AdminApi, add_workspace, mint, seed_dataset

from bot.admin_api import ENDPOINTS
from core.access import Role
from core.storage.repositories import audit, members, usage, workspaces

DAY0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


async def test_workspace_governance_and_providers_round_trip(api: AdminApi) -> None:
    db = api.deps.database
    ws = await add_workspace(db)
    owner = await mint(db, ws, Role.OWNER)
    status, body = await api.call("GET", f"/workspaces/{ws}/governance", owner)
    assert status == 200 and body["retention"]["datasets"] is None
    assert body["default_retention_days"] == 30
    patch = {"retention": {"datasets": 7, "threads": 0}, "redaction": {"enabled": True,
             "raw_data_providers": ["anthropic"]}}  # fmt: skip
    status, body = await api.call("PATCH", f"/workspaces/{ws}/governance", owner, json=patch)
    assert status == 200
    assert (body["retention"]["datasets"], body["retention"]["threads"]) == (7, 0)
    status, body = await api.call("PUT", f"/workspaces/{ws}/providers", owner,
                                  json={"chain": ["anthropic", "openai"]})  # fmt: skip
    assert status == 200 and body["chain"] == ["anthropic", "openai"]
    assert body["configured"] == ["anthropic", "openai"]
    async with db.session() as session:
        row = await workspaces.get(session, ws)
    assert row is not None
    stored = row.settings["governance"]
    assert stored["retention"]["datasets"] == 7
    assert stored["redaction"] == {"enabled": True, "raw_data_providers": ["anthropic"]}
    assert stored["provider_chain"] == ["anthropic", "openai"]
    status, body = await api.call(
        "PATCH", f"/workspaces/{ws}/governance", owner, json={"retention": {"datasets": -1}}
    )
    assert status == 422 and "retention.datasets" in body["error"]
    listed = await api.call("GET", "/workspaces", owner)
    assert [w["id"] for w in listed[1]["items"]] == [ws]


async def test_members_are_managed_and_caches_told(api: AdminApi) -> None:
    db = api.deps.database
    ws = await add_workspace(db)
    admin_key = await mint(db, ws, Role.ADMIN)
    status, body = await api.call(
        "PUT", f"/workspaces/{ws}/members/U2", admin_key, json={"role": "analyst"}
    )
    assert (status, body["role"]) == (200, "analyst")
    _, listed = await api.call("GET", f"/workspaces/{ws}/members", admin_key)
    assert [(m["user_id"], m["role"]) for m in listed["items"]] == [("U2", "analyst")]
    assert (await api.call("DELETE", f"/workspaces/{ws}/members/U2", admin_key))[0] == 204
    assert (await api.call("DELETE", f"/workspaces/{ws}/members/U2", admin_key))[0] == 404
    async with db.session() as session:
        assert await members.get_role(session, ws, "U2") is None
        actions = [e.action for e in await audit.recent(session, ws) if e.actor_id != "test"]
    assert {"role.set", "role.removed"} <= set(actions)
    assert api.changed == [ws, ws]


async def test_quotas_patch_merges_and_reports_effective_limits(api: AdminApi) -> None:
    db = api.deps.database
    ws = await add_workspace(db)
    key = await mint(db, ws, Role.ADMIN)
    status, body = await api.call(
        "PATCH", f"/workspaces/{ws}/quotas", key, json={"analyses_per_day": 5, "tokens_per_day": 0}
    )
    assert status == 200
    assert body["overrides"] == {"analyses_per_day": 5, "tokens_per_day": 0}
    assert body["effective"]["analyses_per_day"] == 5
    assert body["effective"]["tokens_per_day"] is None  # 0 = unlimited
    _, again = await api.call("GET", f"/workspaces/{ws}/quotas", key)
    assert again == body


@pytest.fixture(scope="module")
def tips() -> pd.DataFrame:
    frame = px.data.tips()
    frame["at"] = [DAY0 + timedelta(days=i % 5) for i in range(len(frame))]
    return frame


async def test_usage_report_json_and_csv_match_pandas(api: AdminApi, tips: pd.DataFrame) -> None:
    db = api.deps.database
    ws = await add_workspace(db)
    async with db.session() as session:
        for row in tips.itertuples():
            await usage.record(session, ws, kind="cost_usd", amount=row.tip, at=row.at)
            await usage.record(session, ws, kind="tokens_in", amount=row.size * 100, at=row.at)
    key = await mint(db, ws, Role.VIEWER)
    window = {"since": "2026-03-01T00:00:00Z", "until": "2026-03-06T00:00:00Z"}
    status, body = await api.call("GET", f"/workspaces/{ws}/usage", key, params=window)
    assert status == 200
    by_day = tips.groupby(tips["at"].map(lambda t: t.date().isoformat()))
    expected_cost = by_day["tip"].sum()
    got_cost = {d["day"]: d["cost_usd"] for d in body["days"]}
    assert got_cost == pytest.approx(expected_cost.to_dict())
    assert body["totals"]["tokens_in"] == pytest.approx(float(tips["size"].sum() * 100))
    status, text = await api.call(
        "GET", f"/workspaces/{ws}/usage", key, params={**window, "format": "csv"}
    )
    rows = list(csv.DictReader(io.StringIO(text)))
    assert status == 200 and [r["day"] for r in rows] == sorted(expected_cost.index)
    assert {r["day"]: float(r["cost_usd"]) for r in rows} == pytest.approx(expected_cost.to_dict())
    bad = await api.call("GET", f"/workspaces/{ws}/usage", key, params={"since": "2026-03-01"})
    assert bad[0] == 400 and "timezone" in bad[1]["error"]


async def test_audit_export_json_and_csv(api: AdminApi) -> None:
    db = api.deps.database
    ws = await add_workspace(db)
    async with db.session() as session:
        for i in range(5):
            await audit.append(session, ws, action="role.set", target=f"U{i}", detail={"n": i})
    key = await mint(db, ws, Role.ADMIN)
    status, body = await api.call(
        "GET", f"/workspaces/{ws}/audit", key, params={"action": "role.set", "limit": "3"}
    )
    assert status == 200
    assert [e["target"] for e in body["items"]] == ["U4", "U3", "U2"]
    status, text = await api.call(
        "GET", f"/workspaces/{ws}/audit", key, params={"action": "role.set", "format": "csv"}
    )
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["target"] for r in rows] == ["U4", "U3", "U2", "U1", "U0"]
    assert rows[0]["detail"] == '{"n": 4}'


async def test_dataset_listing_and_deletion_removes_the_file(api: AdminApi) -> None:
    db = api.deps.database
    ws, other = await add_workspace(db), await add_workspace(db)
    data = px.data.tips().to_csv(index=False).encode()
    mine = await seed_dataset(db, api.deps.blobs, ws, data)
    theirs = await seed_dataset(db, api.deps.blobs, other, data)
    key = await mint(db, ws, Role.ADMIN)
    _, listed = await api.call("GET", f"/workspaces/{ws}/datasets", key)
    assert [(d["id"], d["size_bytes"]) for d in listed["items"]] == [(mine.id, len(data))]
    # Another workspace's dataset id in my path: not found, and untouched.
    assert (await api.call("DELETE", f"/workspaces/{ws}/datasets/{theirs.id}", key))[0] == 404
    assert await api.deps.blobs.exists(theirs.blob_key)
    assert (await api.call("DELETE", f"/workspaces/{ws}/datasets/{mine.id}", key))[0] == 204
    assert not await api.deps.blobs.exists(mine.blob_key)
    _, listed = await api.call("GET", f"/workspaces/{ws}/datasets", key)
    assert listed["items"] == []


async def test_openapi_document_describes_every_endpoint(api: AdminApi) -> None:
    db = api.deps.database
    ws = await add_workspace(db)
    key = await mint(db, ws, Role.VIEWER)
    status, document = await api.call("GET", "/openapi.json", key)
    assert status == 200 and document["openapi"].startswith("3.1")
    operations = {(m.upper(), p) for p, ops in document["paths"].items() for m in ops}
    assert operations == {(e.method, f"/admin/api/v1{e.path}") for e in ENDPOINTS}
    assert (await api.call("GET", "/openapi.json", None))[0] == 401
