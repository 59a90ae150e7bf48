"""Governance in the real app (``open_runtime`` + ``runtime_app`` as ``nexus dev`` wires
them): /metrics behind its token, /readyz reporting encryption, the admin API mounted,
and an uploaded file stored encrypted by the in-process worker."""

from __future__ import annotations

from pathlib import Path

import plotly.express as px
from aiohttp import ClientSession
from cryptography.fernet import Fernet
from governance.governance_support import mint, served

from adapters.testing import make_inbound
from core.events import FileRef
from core.settings import Settings

METRICS_TOKEN = "metrics-" + Fernet.generate_key().decode()[:20]


def _settings(tmp_path: Path, **extra: object) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'nexus.db'}",
        data_dir=tmp_path / "data",
        redis_prefix="nexus-test-gov",
        embedder="none",  # BM25 alone: no model to load
        **extra,
    )


async def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    async with ClientSession() as http, http.get(url, headers=headers or {}) as response:
        return response.status, await response.text()


async def test_metrics_token_readyz_admin_api_and_encrypted_uploads(tmp_path: Path) -> None:
    key = Fernet.generate_key().decode()
    settings = _settings(tmp_path, metrics_token=METRICS_TOKEN, encryption_keys=key)
    async with served(settings) as (runtime, url, fetcher, adapter):
        assert (await _get(f"{url}/metrics"))[0] == 401
        wrong = await _get(f"{url}/metrics", {"Authorization": "Bearer nope"})
        assert wrong[0] == 401
        status, text = await _get(f"{url}/metrics", {"Authorization": f"Bearer {METRICS_TOKEN}"})
        assert status == 200 and "# TYPE" in text
        _, ready = await _get(f"{url}/readyz")
        assert "encryption: on (1 key)" in ready

        data = px.data.tips().to_csv(index=False).encode()
        fetcher.files["F1"] = data  # type: ignore[attr-defined]
        ref = FileRef(id="F1", name="tips.csv", size=len(data))
        inbound = make_inbound("<@UBOT> average tip by day", workspace="W", files=[ref])
        accepted = await adapter.deliver(inbound)  # type: ignore[attr-defined]
        assert accepted.kind == "enqueued", accepted
        await adapter.sender.wait_replies(1, within=60)  # type: ignore[attr-defined]
        workspace = inbound.workspace
        stored = [p for p in (tmp_path / "data" / "blobs").rglob("*") if p.is_file()]
        assert stored, "the upload was stored"
        assert all(b"total_bill" not in p.read_bytes() for p in stored)

        token = await mint(runtime.database, workspace)
        status, body = await _get(
            f"{url}/admin/api/v1/workspaces/{workspace}/datasets",
            {"Authorization": f"Bearer {token}"},
        )
        assert status == 200 and "tips.csv" in body
        assert (await _get(f"{url}/admin/api/v1/workspaces/{workspace}/datasets"))[0] == 401


async def test_readyz_says_when_encryption_is_off(tmp_path: Path) -> None:
    async with served(_settings(tmp_path)) as (_runtime, url, _fetcher, _adapter):
        _, ready = await _get(f"{url}/readyz")
        assert "encryption: OFF (NEXUS_ENCRYPTION_KEYS not set" in ready
        assert (await _get(f"{url}/metrics"))[0] == 200  # no token configured: open
