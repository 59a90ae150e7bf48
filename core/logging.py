"""Structured logging: JSON lines with a correlation id, never message text or secrets."""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, Any

import structlog

if TYPE_CHECKING:
    from core.events import Inbound


def configure_logging(level: str = "INFO", fmt: str = "json") -> None:
    """Route stdlib and structlog output through one JSON (or console) renderer on stderr."""
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(foreign_pre_chain=shared, processor=renderer)
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


def get_logger(name: str) -> structlog.typing.FilteringBoundLogger:
    """A structlog logger bound to a component name.

    The proxy stays lazy (no ``.bind()`` here) so module-level loggers pick up the
    configuration applied later by ``configure_logging``.
    """
    logger: structlog.typing.FilteringBoundLogger = structlog.get_logger(name, component=name)
    return logger


def bind_inbound(inbound: Inbound) -> None:
    """Tie this context's log lines to one inbound message (see ``Inbound.correlation_id``);
    adapters call it before accepting, the worker before running the message's job."""
    bind_correlation_id(inbound.correlation_id, event_id=inbound.event_id)


def bind_correlation_id(correlation_id: str, **context: str) -> None:
    """Attach a correlation id (the job id, or an event id before there is a job) and any
    other ``context`` ids to every log line in this context."""
    structlog.contextvars.bind_contextvars(correlation_id=correlation_id, **context)
