"""A fake OpenAI embeddings endpoint (``POST /v1/embeddings``) on 127.0.0.1, port 0.

Vectors are bags of *concepts*: a few synonyms map to one dimension, so a question
that shares no word with a passage ("automobile hire" / "car rental") is still close
to it — what a real embedding model adds over BM25, in a form a test can reason about.
"""

from __future__ import annotations

import hashlib
import math
import re
from typing import Any

from aiohttp import web

DIMENSION = 1536  # text-embedding-3-small
SYNONYMS = {
    "automobile": "car",
    "vehicle": "car",
    "hire": "rental",
    "rent": "rental",
    "renting": "rental",
    "leasing": "rental",
    "cost": "price",
    "costs": "price",
    "fee": "price",
}


def embed(text: str) -> list[float]:
    vector = [0.0] * DIMENSION
    for word in re.findall(r"[a-z]+", text.lower()):
        concept = SYNONYMS.get(word, word)
        slot = int(hashlib.sha256(concept.encode()).hexdigest(), 16) % DIMENSION
        vector[slot] += 1.0
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


class FakeEmbeddings:
    def __init__(self, api_key: str = "test-embeddings-key") -> None:
        self.api_key = api_key
        self.failures = 0
        """The next this many requests answer 500 (the SDK retries twice by itself)."""
        self.requests: list[dict[str, Any]] = []
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/embeddings", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return web.json_response({"error": {"message": "bad key", "type": "auth"}}, status=401)
        body = await request.json()
        self.requests.append(body)
        if self.failures > 0:
            self.failures -= 1
            error = {"message": "overloaded", "type": "server_error", "code": None}
            return web.json_response({"error": error}, status=500)
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        data = [
            {"object": "embedding", "index": n, "embedding": embed(text)}
            for n, text in enumerate(texts)
        ]
        usage = {"prompt_tokens": sum(len(t.split()) for t in texts)}
        usage["total_tokens"] = usage["prompt_tokens"]
        return web.json_response(
            {"object": "list", "data": data, "model": body["model"], "usage": usage}
        )
