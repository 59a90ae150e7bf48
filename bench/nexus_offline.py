"""``nexus`` for the load bench: the installed command line, except where Teams gets its
outbound Bot Connector tokens — the fake connector's static token, not Azure AD.

There is no network here, and MSAL refuses the ``http://`` authority a local fake of
Azure AD would have (``platforms.md`` §0.15). So, as the in-process Teams tests do,
the plugin gets ``StaticTokenCredentials`` (``tests/teams/fake_bot_framework.py``)
through its ``credentials`` argument, the hook meant for deployments with their own
token source; the SDK's app-id checks stay real. Inbound channel tokens are
validated for real against the fake channel's OpenID metadata and keys (the
``TEAMS_*`` settings). Everything else is ``bot.cli`` as installed.

Run: ``python bench/nexus_offline.py serve|worker ...`` with ``NEXUS_BENCH_TEAMS_TOKEN``
set to the bearer token the fake connector accepts.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from adapters.teams import TeamsPlugin
    from core.settings import Settings

TOKEN_VARIABLE = "NEXUS_BENCH_TEAMS_TOKEN"


def platform_plugin(settings: Settings) -> TeamsPlugin:
    from fake_bot_framework import StaticTokenCredentials

    from adapters.teams import TeamsPlugin

    token = os.environ[TOKEN_VARIABLE]
    credentials = StaticTokenCredentials(settings.teams_app_id or "", token)
    return TeamsPlugin(settings, credentials=credentials)


def main() -> None:
    # Imported here, not at the top: the bench driver imports this module for
    # TOKEN_VARIABLE alone and has no use for the command line.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "teams"))
    import adapters.teams
    from bot.cli import app

    # What ``bot.platforms.load_plugins`` calls for the Teams adapter module.
    adapters.teams.platform_plugin = platform_plugin
    app()


if __name__ == "__main__":
    main()
