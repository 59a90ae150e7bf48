"""Document retrieval on Milvus: chunks stored per workspace, searched with BM25 full
text (always) and dense vectors (when an embedder is configured), fused with RRF, and
answered with numbered citations.

- :mod:`scopes` — who sees which chunks (the filter every query carries);
- :mod:`store` — the Milvus collection: explicit schema, upsert, delete, search;
- :mod:`terms` — the stemmed words BM25 ranks on (the same on milvus-lite and Milvus);
- :mod:`embedders` — OpenAI or local all-MiniLM-L6-v2 vectors (optional);
- :mod:`fusion` — reciprocal rank fusion of the two result lists;
- :mod:`search` — a question to ranked passages;
- :mod:`citing` — passages to an answer with references (LLM or extractive);
- :mod:`library` — the worker's entry point: ingest, ask, forget;
- :mod:`questions` — a thread's question: for the documents or the analyst, and its reply.
"""
