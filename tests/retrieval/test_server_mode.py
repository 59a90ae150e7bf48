"""Several processes, one Milvus: a `milvus-lite server` process reached by URL.

milvus-lite's embedded mode lets one process open a data directory; the test shows a
second process is refused with an operator-readable reason, and that two processes
sharing a server see each other's documents.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from milvus_server_support import milvus_server
from retrieval_support import settings_for

from core.retrieval.library import DocumentLibrary, open_documents
from core.storage.db import Database

HELPER = Path(__file__).with_name("ingest_process.py")
ROOT = Path(__file__).resolve().parents[2]


async def run_helper(*args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(HELPER),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        cwd=str(ROOT),
    )
    out, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode().strip().splitlines()[-1]


async def test_two_processes_share_a_milvus_server(
    database: Database, sqlite_database_url: str, tmp_path: Path
) -> None:
    async with milvus_server(tmp_path / "milvus-server") as uri:
        settings = settings_for(tmp_path, milvus_uri=uri)
        library = await DocumentLibrary.open(settings, database)
        try:
            code, document_id = await run_helper(
                uri,
                sqlite_database_url,
                str(tmp_path),
                "vpn.md",
                "# VPN\n\nThe VPN gateway address is vpn.example.org on port 443.",
            )
            assert code == 0
            found = await library.ask(
                "which port does the VPN gateway use?",
                workspace="test:W1",
                channel="C1",
                thread="T1",
            )
            assert [p.document_id for p in found.search.passages] == [document_id]
            assert found.answer.citations[0].title == "vpn.md"
        finally:
            await library.close()


async def test_embedded_file_is_refused_to_a_second_process(
    database: Database, sqlite_database_url: str, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path)  # the milvus-lite file, held open by this process
    library = await open_documents(settings, database)
    assert library is not None
    try:
        code, said = await run_helper(
            settings.resolved_milvus_uri, sqlite_database_url, str(tmp_path), "x.md", "x"
        )
        assert (code, said) == (3, "unavailable")
    finally:
        await library.close()
