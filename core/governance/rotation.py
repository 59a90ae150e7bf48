"""Re-encrypt everything stored at rest under the first configured key.

Used after a new key is put first in ``NEXUS_ENCRYPTION_KEYS`` (and to encrypt data
written before encryption was turned on). Afterwards the older keys can be removed.
Each blob is read (decrypted by whichever key opens it) and written back (encrypted by
the first key); the write is atomic on local disk, so an interrupted rotation can
simply be run again.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.blobs import BlobStore
from core.governance.encryption import SecretBox
from core.logging import get_logger
from core.storage.db import Database
from core.storage.repositories import installations

log = get_logger("governance.rotation")


@dataclass(frozen=True)
class RotationReport:
    blobs: int
    installations: int


async def rotate_all(*, database: Database, blobs: BlobStore, box: SecretBox) -> RotationReport:
    if blobs.box is not box:
        blobs = BlobStore(blobs.url, box=box)
    keys = await blobs.list_keys()
    for key in keys:
        data = await blobs.get(key)
        workspace, *parts = key.split("/")
        await blobs.put(workspace, *parts, data=data)
    async with database.session() as session:
        rows = await installations.reseal_all(session, box)
    log.info("encryption.rotated", blobs=len(keys), installations=rows)
    return RotationReport(blobs=len(keys), installations=rows)
