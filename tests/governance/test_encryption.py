"""Encryption at rest: blobs and platform tokens are unreadable without the key,
readable with it, and still readable after the key is rotated."""

from __future__ import annotations

from pathlib import Path

import plotly.express as px
import pytest
from cryptography.fernet import Fernet
from governance.governance_support import add_workspace, seed_dataset
from sqlalchemy import text

from core.blobs import BlobStore
from core.errors import StorageError
from core.governance.encryption import SecretBox, encryption_status, secret_box
from core.governance.rotation import rotate_all
from core.settings import Settings
from core.storage.db import Database
from core.storage.repositories import installations

TIPS = px.data.tips().to_csv(index=False).encode()
BOT_TOKEN = "xoxb-1234-5678-" + "s3cr3t" * 4


def _files(root: Path) -> list[Path]:
    return [p for p in (root / "blobs").rglob("*") if p.is_file()]


async def test_blob_is_ciphertext_on_disk_and_needs_the_key(tmp_path: Path) -> None:
    old = Fernet.generate_key().decode()
    store = BlobStore.for_data_dir(tmp_path, box=SecretBox([old]))
    key = await store.put("ws1", "datasets", "d1", data=TIPS)
    (on_disk,) = _files(tmp_path)
    raw = on_disk.read_bytes()
    assert b"total_bill" not in raw and raw.startswith(b"NXENC1:")
    assert await store.get(key) == TIPS

    with pytest.raises(StorageError, match="NEXUS_ENCRYPTION_KEYS is not set"):
        await BlobStore.for_data_dir(tmp_path).get(key)
    stranger = BlobStore.for_data_dir(tmp_path, box=SecretBox([Fernet.generate_key().decode()]))
    with pytest.raises(StorageError, match="does not open"):
        await stranger.get(key)


async def test_rotation_keeps_data_readable_and_retires_the_old_key(
    tmp_path: Path, sqlite_database_url: str
) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    database = Database(sqlite_database_url)
    await database.migrate()
    try:
        workspace = await add_workspace(database)
        before = BlobStore.for_data_dir(tmp_path, box=SecretBox([old]))
        dataset = await seed_dataset(database, before, workspace, TIPS)
        async with database.session() as session:
            await installations.save(
                session, workspace, platform="slack", data={"bot_token": BOT_TOKEN},
                box=SecretBox([old]),
            )  # fmt: skip

        # Step 1: the new key goes first; everything written earlier still opens.
        both = SecretBox([new, old])
        during = BlobStore.for_data_dir(tmp_path, box=both)
        assert await during.get(dataset.blob_key) == TIPS
        # Step 2: rotate; step 3: the old key is dropped.
        report = await rotate_all(database=database, blobs=during, box=both)
        assert (report.blobs, report.installations) == (1, 1)
        only_new = SecretBox([new])
        after = BlobStore.for_data_dir(tmp_path, box=only_new)
        assert await after.get(dataset.blob_key) == TIPS
        async with database.session() as session:
            row = await installations.get(session, workspace, box=only_new)
        assert row is not None and row.data == {"bot_token": BOT_TOKEN}
        with pytest.raises(StorageError):
            await BlobStore.for_data_dir(tmp_path, box=SecretBox([old])).get(dataset.blob_key)
    finally:
        await database.dispose()


async def test_platform_tokens_are_never_plaintext_in_the_database(any_database: Database) -> None:
    box = SecretBox([Fernet.generate_key().decode()])
    workspace = await add_workspace(any_database)
    async with any_database.session() as session:
        await installations.save(
            session, workspace, platform="slack", data={"bot_token": BOT_TOKEN}, box=box
        )
    async with any_database.engine.connect() as conn:
        stored = (await conn.execute(text("SELECT data FROM installations"))).scalar_one()
    assert BOT_TOKEN not in str(stored) and "s3cr3t" not in str(stored)
    async with any_database.session() as session:
        row = await installations.get(session, workspace, box=box)
        assert row is not None and row.data == {"bot_token": BOT_TOKEN}
    # The decrypted copy is detached: a later commit cannot write plaintext back.
    async with any_database.engine.connect() as conn:
        again = (await conn.execute(text("SELECT data FROM installations"))).scalar_one()
    assert BOT_TOKEN not in str(again)


async def test_data_written_before_encryption_is_encrypted_by_rotation(
    tmp_path: Path, sqlite_database_url: str
) -> None:
    database = Database(sqlite_database_url)
    await database.migrate()
    try:
        workspace = await add_workspace(database)
        plain = BlobStore.for_data_dir(tmp_path)
        dataset = await seed_dataset(database, plain, workspace, TIPS)
        box = SecretBox([Fernet.generate_key().decode()])
        encrypted = BlobStore.for_data_dir(tmp_path, box=box)
        assert await encrypted.get(dataset.blob_key) == TIPS  # legacy plaintext still reads
        await rotate_all(database=database, blobs=encrypted, box=box)
        assert b"total_bill" not in _files(tmp_path)[0].read_bytes()
        assert await encrypted.get(dataset.blob_key) == TIPS
    finally:
        await database.dispose()


def test_missing_key_is_reported_not_hidden() -> None:
    off = Settings(_env_file=None, encryption_keys=None)  # type: ignore[call-arg]
    assert secret_box(off) is None
    assert encryption_status(None).startswith("encryption: OFF")
    keys = f"{Fernet.generate_key().decode()},{Fernet.generate_key().decode()}"
    on = Settings(_env_file=None, encryption_keys=keys)  # type: ignore[call-arg]
    assert encryption_status(secret_box(on)) == "encryption: on (2 keys)"
