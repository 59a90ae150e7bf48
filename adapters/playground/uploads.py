"""Reading the page's multipart form: the message fields and its files.

Files are streamed into the blob store under ``<workspace>/uploads/<id>`` and become
``FileRef``s the worker's fetcher reads, exactly as a platform's file links would.
A file over ``NEXUS_MAX_FILE_BYTES`` is read to its end (to learn its size) but not
kept: its ``FileRef`` carries the size and no blob, so the worker refuses it with the
same message as on the other platforms, in the thread, through the usual reply path.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import PurePath

from aiohttp import BodyPartReader, MultipartReader, web

from core.blobs import BlobStore
from core.errors import InputError
from core.events import FileRef
from core.settings import IngestLimits

_CHUNK = 256 * 1024
_MAX_FIELD_BYTES = 64 * 1024
MAX_FILES = 10


@dataclass
class MessageForm:
    fields: dict[str, str] = field(default_factory=dict)
    files: list[FileRef] = field(default_factory=list)


def _display_name(filename: str | None) -> str:
    # Browsers send a bare name; keep only the last component of anything else.
    name = PurePath((filename or "").replace("\\", "/")).name.strip()
    return name[:200] or "upload"


async def _read_file(
    part: BodyPartReader, blobs: BlobStore, workspace: str, limits: IngestLimits
) -> FileRef:
    name = _display_name(part.filename)
    data, size = bytearray(), 0
    while chunk := await part.read_chunk(_CHUNK):
        size += len(chunk)
        if size <= limits.max_file_bytes:
            data += chunk
    upload_id = uuid.uuid4().hex
    mime = part.headers.get("Content-Type")
    if size > limits.max_file_bytes:
        return FileRef(id=upload_id, name=name, size=size, mime=mime)
    key = await blobs.put(workspace, "uploads", upload_id, data=bytes(data))
    return FileRef(id=upload_id, name=name, size=size, mime=mime, extra={"blob_key": key})


async def read_message_form(
    request: web.Request, blobs: BlobStore, workspace: str, limits: IngestLimits
) -> MessageForm:
    """Text fields and stored files of one message (``multipart/form-data``)."""
    form = MessageForm()
    if request.content_type == "application/x-www-form-urlencoded":  # text only (curl -d)
        posted = await request.post()
        form.fields = {name: value for name, value in posted.items() if isinstance(value, str)}
        return form
    if not request.content_type.startswith("multipart/"):
        raise InputError("Send messages as multipart/form-data.")
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if isinstance(part, MultipartReader):
            raise InputError("Nested multipart bodies are not accepted.")
        if part.filename is not None:
            if len(form.files) >= MAX_FILES:
                raise InputError(f"At most {MAX_FILES} files per message.")
            form.files.append(await _read_file(part, blobs, workspace, limits))
            continue
        raw = await part.read()
        if len(raw) > _MAX_FIELD_BYTES:
            raise InputError("That message is too long.")
        form.fields[part.name or ""] = raw.decode("utf-8", errors="replace")
    return form
