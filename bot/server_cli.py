"""``nexus serve``, ``nexus worker`` and ``nexus dev``: start the processes, nothing else."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Coroutine
from typing import Annotated, Any

import typer

from core.errors import ConfigurationError
from core.logging import configure_logging
from core.settings import Settings

Host = Annotated[
    str | None, typer.Option("--host", envvar="NEXUS_HOST", help="Bind address [127.0.0.1].")
]
Port = Annotated[int | None, typer.Option("--port", envvar="NEXUS_PORT", help="HTTP port [3000].")]
LogLevel = Annotated[
    str | None, typer.Option("--log-level", envvar="NEXUS_LOG_LEVEL", help="Log level [INFO].")
]


def run_loop(main: Coroutine[Any, Any, None]) -> None:
    """Run a long-lived process on uvloop where it is installed (Linux, macOS).

    Measured on the Slack ack path: about half the CPU per event of the default loop
    (bench/README.md), which is the web process's whole budget at 200 events/s.
    """
    try:
        import uvloop
    except ImportError:  # Windows: the standard loop
        asyncio.run(main)
        return
    uvloop.run(main)


def _settings(log_level: str | None) -> Settings:
    settings = Settings()
    configure_logging(log_level or settings.log_level, settings.log_format)
    return settings


def dev_defaults(settings: Settings, host: str) -> Settings:
    """``nexus dev`` on ``host``: the playground (no login) is on unless set, on loopback."""
    if settings.playground is not None:
        return settings
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: assume it is reachable from elsewhere
        loopback = False
    return settings.model_copy(update={"playground": loopback})


def _serve(mode: str, host: str | None, port: int | None, log_level: str | None) -> None:
    from bot.platforms import load_plugins
    from bot.serving import serve

    settings = _settings(log_level)
    if mode == "dev":
        settings = dev_defaults(settings, host or settings.host)
    try:
        run_loop(
            serve(
                settings,
                plugins=load_plugins(settings),
                mode="dev" if mode == "dev" else "serve",
                host=host or settings.host,
                port=port if port is not None else settings.port,
            )
        )
    except ConfigurationError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


def serve_command(host: Host = None, port: Port = None, log_level: LogLevel = None) -> None:
    """The HTTP app (adapters, /healthz, /readyz, /metrics); needs REDIS_URL.

    Questions are answered by `nexus worker` processes.
    """
    _serve("serve", host, port, log_level)


def dev_command(host: Host = None, port: Port = None, log_level: LogLevel = None) -> None:
    """Web app and worker in one process with embedded defaults (no Redis needed).

    SQLite in the data dir and an in-process worker; Redis is used if REDIS_URL is set.
    """
    _serve("dev", host, port, log_level)


def worker_command(log_level: LogLevel = None) -> None:
    """An ARQ worker: runs questions from the queue and posts the answers. Needs REDIS_URL."""
    from bot.platforms import load_plugins
    from bot.serving import work

    settings = _settings(log_level)
    try:
        run_loop(work(settings, plugins=load_plugins(settings)))
    except ConfigurationError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
