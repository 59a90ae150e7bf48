"""A second worker process: ingest one document through DocumentLibrary, print its id.

    python ingest_process.py MILVUS_URI DATABASE_URL DATA_DIR FILE_NAME TEXT

Run by test_server_mode.py to show two processes sharing one Milvus server.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from core.retrieval.library import DocumentLibrary, open_documents
from core.settings import Settings
from core.storage.db import Database


async def main(uri: str, database_url: str, data_dir: str, name: str, text: str) -> int:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        milvus_uri=uri,
        database_url=database_url,
        data_dir=Path(data_dir),
        embedder="none",
    )
    database = Database(database_url)
    library: DocumentLibrary | None = await open_documents(settings, database)
    if library is None:
        print("unavailable")
        return 3
    done = await library.ingest(
        text.encode(), file_name=name, workspace="test:W1", channel="C1", thread="T1"
    )
    print(done.document_id)
    await library.close()
    await database.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(*sys.argv[1:6])))
