"""Uploaded text documents: extract their text, clean it and cut it into chunks.

:func:`core.documents.reading.read_document` turns the bytes of a PDF, Word, Markdown,
plain-text or HTML upload into :class:`~core.documents.models.Block` s (paragraphs and
headings that remember their page and section); :func:`core.documents.chunking.chunk_blocks`
packs them into overlapping :class:`~core.documents.models.Chunk` s for
:mod:`core.retrieval`.
"""
