"""A production ARQ worker (``workers.settings.worker_settings``) whose test platform
talks HTTP to the test's FakeChatServer: ``python worker_process.py SERVER_URL``.

Everything else comes from the environment, as for ``nexus worker``.
"""

from __future__ import annotations

import asyncio
import sys

from adapters.testing_http import http_io
from core.logging import configure_logging
from core.ports import PlatformRegistry
from core.settings import Settings
from workers.settings import run_worker, worker_settings


def main() -> None:
    settings = Settings()
    configure_logging(settings.log_level, "console")
    registry = PlatformRegistry()
    registry.register("test", http_io(sys.argv[1]))
    asyncio.run(run_worker(worker_settings(settings, registry=registry, charts=False)))


if __name__ == "__main__":
    main()
