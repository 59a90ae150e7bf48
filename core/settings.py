"""Settings for every Nexus process, read from the environment and a ``.env`` file.

Names are the fixed public interface from the design document. Secrets are
``SecretStr`` so they never appear in reprs or logs. Code receives a ``Settings``
instance through its constructor; nothing reads the environment elsewhere.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class IngestLimits(BaseSettings):
    """Limits applied to every uploaded data file."""

    model_config = SettingsConfigDict(env_prefix="NEXUS_", extra="ignore")

    max_file_bytes: int = 50 * 1024 * 1024
    max_rows: int = 2_000_000
    max_columns: int = 500
    max_excel_uncompressed_bytes: int = 500 * 1024 * 1024
    max_excel_sheets: int = 50


class SandboxLimits(BaseSettings):
    """Limits for every sandboxed code run (``NEXUS_SANDBOX_*``); both backends use them."""

    model_config = SettingsConfigDict(
        env_prefix="NEXUS_SANDBOX_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    timeout_seconds: float = 30.0
    """Wall-clock limit of one run; the whole process tree is killed when it passes."""
    cpu_seconds: int = 30
    memory_mb: int = 1024
    max_processes: int = 32
    max_open_files: int = 128
    max_file_mb: int = 64
    """Largest single file the code may write."""
    disk_mb: int = 256
    """Size of the run's private scratch filesystem (work dir and /tmp)."""
    max_output_bytes: int = 1024 * 1024
    """stdout and stderr, each; more than this kills the run."""
    max_result_bytes: int = 32 * 1024 * 1024
    max_table_rows: int = 10_000
    concurrency: int = 4
    """Runs executing at once in one worker process (the local backend)."""
    preload: list[str] = [
        "pandas",
        "numpy",
        "plotly.express",
        "plotly.graph_objects",
        "scipy.stats",
        "sklearn.cluster",
        "sklearn.linear_model",
        "sklearn.preprocessing",
        "statsmodels.api",
        "statsmodels.formula.api",
    ]
    """Modules the local fork server imports once, so runs start warm instead of each
    paying seconds (and CPU-time limit) to import scipy, scikit-learn or statsmodels."""
    uid_base: int = 200_000
    """First host uid used for sandboxed processes (one per concurrent run)."""
    e2b_idle_seconds: float = 300.0
    """An E2B sandbox unused this long is closed; the next question creates a new one."""


class DocumentLimits(BaseSettings):
    """Limits and chunking of uploaded text documents (``NEXUS_DOC_*``, core/documents)."""

    model_config = SettingsConfigDict(
        env_prefix="NEXUS_DOC_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    max_bytes: int = 25 * 1024 * 1024
    max_pages: int = 1000
    max_chunks: int = 5000
    """A document cutting into more chunks than this is refused as too large."""
    chunk_chars: int = 1200
    chunk_overlap_chars: int = 200
    """Text repeated from the end of one chunk at the start of the next."""


class Settings(BaseSettings):
    """Process-wide configuration; see ``.env.example`` for every variable."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    # HTTP
    host: str = Field(default="127.0.0.1", validation_alias=AliasChoices("NEXUS_HOST"))
    port: int = Field(default=3000, validation_alias=AliasChoices("NEXUS_PORT"))
    log_level: str = Field(default="INFO", validation_alias=AliasChoices("NEXUS_LOG_LEVEL"))
    log_format: Literal["json", "console"] = Field(
        default="json", validation_alias=AliasChoices("NEXUS_LOG_FORMAT")
    )

    # Slack
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    # Bot scopes requested by the multi-workspace install (/slack/install); the names
    # are bolt's own (SLACK_SCOPES, SLACK_REDIRECT_URI).
    slack_scopes: str = (
        "app_mentions:read,channels:history,groups:history,im:history,mpim:history,"
        "chat:write,files:read,files:write,reactions:write,commands"
    )
    slack_redirect_uri: str | None = None

    # Discord
    discord_bot_token: SecretStr | None = None
    discord_application_id: str | None = None
    discord_public_key: str | None = None
    discord_api_url: str = "https://discord.com/api/v10"
    # Privileged intent (enable it in the Developer Portal): lets Nexus read replies in
    # its own threads that do not @mention it. Off: only mentions, DMs and commands.
    discord_message_content: bool = True
    # Upload /ask, /upload, /nexus at gateway start; to one guild (instant) if set.
    discord_sync_commands: bool = True
    discord_command_guild_id: str | None = None

    # Teams
    teams_app_id: str | None = None
    teams_app_password: SecretStr | None = None
    teams_tenant_id: str | None = None
    teams_openid_metadata_url: str | None = None
    teams_token_issuer: str | None = None
    # Development only: with no TEAMS_APP_ID, accept unsigned activities (Bot Framework
    # Emulator). Auth can never be turned off by leaving a credential empty.
    teams_dev_mode: bool = False

    # LLM providers (base URLs are read by the SDKs themselves as well)
    openai_api_key: SecretStr | None = None
    anthropic_api_key: SecretStr | None = None
    groq_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    anthropic_base_url: str | None = None
    groq_base_url: str | None = None
    # Provider order when a workspace sets none; providers without a key are dropped.
    llm_provider_chain: str = Field(
        default="openai,anthropic,groq", validation_alias=AliasChoices("NEXUS_LLM_CHAIN")
    )
    openai_model: str = Field(
        default="gpt-4.1-mini", validation_alias=AliasChoices("NEXUS_OPENAI_MODEL")
    )
    anthropic_model: str = Field(
        default="claude-haiku-4-5", validation_alias=AliasChoices("NEXUS_ANTHROPIC_MODEL")
    )
    groq_model: str = Field(
        default="openai/gpt-oss-120b", validation_alias=AliasChoices("NEXUS_GROQ_MODEL")
    )
    # Per provider call (the SDKs default to 60-600 s); the deadline bounds one call
    # of the router when the caller passes no analysis-wide deadline.
    llm_timeout_seconds: float = Field(
        default=20.0, validation_alias=AliasChoices("NEXUS_LLM_TIMEOUT")
    )
    llm_deadline_seconds: float = Field(
        default=60.0, validation_alias=AliasChoices("NEXUS_LLM_DEADLINE")
    )
    llm_cache_ttl_seconds: int = Field(
        default=7 * 24 * 3600, validation_alias=AliasChoices("NEXUS_LLM_CACHE_TTL")
    )
    llm_breaker_failures: int = Field(
        default=3, validation_alias=AliasChoices("NEXUS_LLM_BREAKER_FAILURES")
    )
    llm_breaker_cooldown_seconds: float = Field(
        default=30.0, validation_alias=AliasChoices("NEXUS_LLM_BREAKER_COOLDOWN")
    )
    # JSON {"model": [input_usd_per_1M, output_usd_per_1M]} merged over the built-in table.
    llm_prices: dict[str, tuple[float, float]] = Field(
        default_factory=dict, validation_alias=AliasChoices("NEXUS_LLM_PRICES")
    )

    # Sandbox
    sandbox: Literal["local", "e2b"] = Field(
        default="local", validation_alias=AliasChoices("NEXUS_SANDBOX")
    )
    e2b_api_key: SecretStr | None = None
    sandbox_limits: SandboxLimits = Field(default_factory=SandboxLimits)

    # Documents and retrieval (core/documents, core/retrieval)
    document_limits: DocumentLimits = Field(default_factory=DocumentLimits)
    # auto: OpenAI embeddings with OPENAI_API_KEY, else none (BM25 full-text search
    # alone); local: all-MiniLM-L6-v2 on the CPU (the `embeddings` extra).
    embedder: Literal["auto", "openai", "local", "none"] = Field(
        default="auto", validation_alias=AliasChoices("NEXUS_EMBEDDER")
    )
    openai_embedding_model: str = Field(
        default="text-embedding-3-small",
        validation_alias=AliasChoices("NEXUS_OPENAI_EMBEDDING_MODEL"),
    )
    milvus_collection: str = Field(
        default="nexus_chunks", validation_alias=AliasChoices("NEXUS_MILVUS_COLLECTION")
    )

    # State
    redis_url: str | None = None
    database_url: str | None = None
    milvus_uri: str | None = None
    data_dir: Path = Field(default=Path(".nexus"), validation_alias=AliasChoices("NEXUS_DATA_DIR"))

    # Conversation and queue (core/conversation.py, core/queue.py, workers/)
    # Comma list of "platform:user" ids made owners when their workspace is first seen.
    bootstrap_owners: str = Field(
        default="", validation_alias=AliasChoices("NEXUS_BOOTSTRAP_OWNERS")
    )
    redis_prefix: str = Field(default="nexus", validation_alias=AliasChoices("NEXUS_REDIS_PREFIX"))
    queue_name: str = Field(
        default="nexus:queue", validation_alias=AliasChoices("NEXUS_QUEUE_NAME")
    )
    dedupe_ttl_seconds: int = Field(
        default=24 * 3600, validation_alias=AliasChoices("NEXUS_DEDUPE_TTL")
    )
    # ARQ re-runs a crashed worker's job only after job_timeout + 10 s (facts.md).
    job_timeout_seconds: float = Field(
        default=300.0, validation_alias=AliasChoices("NEXUS_JOB_TIMEOUT")
    )
    job_max_tries: int = Field(default=3, validation_alias=AliasChoices("NEXUS_JOB_MAX_TRIES"))
    job_retry_backoff_seconds: float = Field(
        default=2.0, validation_alias=AliasChoices("NEXUS_JOB_RETRY_BACKOFF")
    )
    job_keep_result_seconds: int = Field(
        default=3600, validation_alias=AliasChoices("NEXUS_JOB_KEEP_RESULT")
    )
    reply_marker_ttl_seconds: int = Field(
        default=7 * 24 * 3600, validation_alias=AliasChoices("NEXUS_REPLY_MARKER_TTL")
    )
    worker_max_jobs: int = Field(default=10, validation_alias=AliasChoices("NEXUS_WORKER_MAX_JOBS"))
    # Each `nexus worker` serves its own /metrics here (0 = off); scrape every worker.
    worker_metrics_port: int = Field(
        default=9464, ge=0, le=65535, validation_alias=AliasChoices("NEXUS_WORKER_METRICS_PORT")
    )
    worker_metrics_host: str = Field(
        default="0.0.0.0", validation_alias=AliasChoices("NEXUS_WORKER_METRICS_HOST")
    )
    # Seconds a member's role is reused without asking the database (0: always ask);
    # role changes invalidate it at once through a Redis version (core/member_cache.py).
    member_cache_seconds: float = Field(
        default=300.0, validation_alias=AliasChoices("NEXUS_MEMBER_CACHE")
    )
    worker_poll_delay_seconds: float = Field(
        default=0.2, validation_alias=AliasChoices("NEXUS_WORKER_POLL_DELAY")
    )
    worker_health_check_seconds: float = Field(
        default=10.0, validation_alias=AliasChoices("NEXUS_WORKER_HEALTH_CHECK")
    )

    # Charts
    chart_timeout_seconds: float = Field(
        default=20.0, validation_alias=AliasChoices("NEXUS_CHART_TIMEOUT")
    )

    # Local web chat at / (adapters/playground). It has no login, so it is off unless
    # set, except that `nexus dev` on loopback turns it on when unset (bot/server_cli.py).
    playground: bool | None = Field(default=None, validation_alias=AliasChoices("NEXUS_PLAYGROUND"))

    # Governance (core/governance, docs/governance.md)
    # Comma list of Fernet keys: the first encrypts, all decrypt (rotation). Unset:
    # uploads, results and platform tokens are stored in plaintext, and /readyz says so.
    encryption_keys: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("NEXUS_ENCRYPTION_KEYS")
    )
    # Bearer token /metrics requires when set; unset: /metrics is open.
    metrics_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("NEXUS_METRICS_TOKEN")
    )
    # Requests per minute one admin API key may make (a key may carry its own limit).
    admin_api_rate_limit: int = Field(
        default=120, validation_alias=AliasChoices("NEXUS_ADMIN_API_RATE_LIMIT")
    )
    # Days uploads, datasets, documents, thread history and results are kept when a
    # workspace sets nothing else (0 = keep forever).
    retention_days: int = Field(default=30, validation_alias=AliasChoices("NEXUS_RETENTION_DAYS"))
    # Region for national-format phone numbers in PII redaction (ISO 3166 code).
    redaction_phone_region: str = Field(
        default="US", validation_alias=AliasChoices("NEXUS_REDACTION_PHONE_REGION")
    )

    # Optional error reporting
    sentry_dsn: SecretStr | None = None

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file in the data dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'nexus.db').resolve()}"

    @property
    def resolved_milvus_uri(self) -> str:
        """The Milvus URI, defaulting to a milvus-lite file in the data dir."""
        if self.milvus_uri:
            return self.milvus_uri
        return str((self.data_dir / "milvus.db").resolve())

    @property
    def bootstrap_owner_ids(self) -> frozenset[str]:
        """``NEXUS_BOOTSTRAP_OWNERS`` parsed: ``{"slack:U1", "discord:42"}``."""
        return frozenset(p.strip() for p in self.bootstrap_owners.split(",") if p.strip())

    @property
    def running_job_ttl(self) -> timedelta:
        """How long a job may stay listed as running in its thread (``stop``)."""
        tries = max(1, self.job_max_tries)
        return timedelta(seconds=self.job_timeout_seconds * tries + 600)
