"""Governance: what Nexus keeps, who may manage it outside chat, and what leaves it.

- :mod:`~core.governance.encryption` — Fernet encryption at rest (blobs, tokens), rotation.
- :mod:`~core.governance.policy` — a workspace's retention, redaction and provider settings.
- :mod:`~core.governance.redaction` — finding and masking PII in text.
- :mod:`~core.governance.redacting_provider` — the LLM provider wrapper that redacts.
- :mod:`~core.governance.api_keys` — admin API keys: minting, hashing, verifying.
- :mod:`~core.governance.rate_limit` — per-key request limits (the ``limits`` library).
- :mod:`~core.governance.purge` — deleting datasets and documents from every store.
- :mod:`~core.governance.milvus_index` — the Milvus side of document deletion.
- :mod:`~core.governance.retention` — the periodic sweep that deletes expired data.
- :mod:`~core.governance.exports` — audit log and usage as JSON rows or CSV.
- :mod:`~core.governance.rotation` — re-encrypting everything under the newest key.

The admin HTTP API that exposes these lives in :mod:`bot.admin_api`; see
``docs/governance.md``.
"""
