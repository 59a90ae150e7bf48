"""Multi-workspace install: bolt's OAuth flow with installations in our database.

``GET /slack/install`` sends the installer to Slack's consent page (with a one-time
``state``); ``GET /slack/oauth_redirect`` exchanges the code (``oauth.v2.access``)
and bolt hands the result to :class:`DatabaseInstallationStore`, which stores it
through ``core.storage.repositories.installations`` (keyed by the Nexus workspace
``slack:<team>``) and makes the installing user the workspace's owner: at once for
a known workspace, or at first contact, through the core's bootstrap, for a new
one. Each incoming event is then authorized with its own team's bot token, so one
deployment serves many Slack workspaces without mixing them.
"""

from __future__ import annotations

import inspect
import logging
import secrets
from typing import Any

from redis.asyncio import Redis
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

from core.access import Role
from core.events import workspace_key
from core.governance.encryption import SecretBox
from core.logging import get_logger
from core.storage.db import Database
from core.storage.repositories import audit, installations, members, workspaces

_log = get_logger("adapters.slack.install")

_FIELDS = frozenset(inspect.signature(Installation.__init__).parameters) - {"self"}


def installation_key(
    enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None
) -> str:
    """The Nexus workspace an installation belongs to (``slack:T123``); an org-wide
    Enterprise Grid install is keyed by its enterprise id."""
    platform_id = enterprise_id if is_enterprise_install else team_id
    if not platform_id:
        raise ValueError("a Slack installation needs a team id (or an enterprise id)")
    return workspace_key("slack", platform_id)


def installation_data(installation: Installation) -> dict[str, Any]:
    """JSON-safe attributes that rebuild the installation (timestamps as numbers)."""
    return {k: v for k, v in vars(installation).items() if k in _FIELDS}


class DatabaseInstallationStore(AsyncInstallationStore):
    """Bot installations, one per Slack team, in the ``installations`` table."""

    def __init__(self, database: Database, *, box: SecretBox | None = None) -> None:
        self._db = database
        self._box = box
        """Encrypts the bot token at rest (``NEXUS_ENCRYPTION_KEYS``); None: plaintext."""
        self._logger = logging.getLogger("adapters.slack.install")

    @property
    def logger(self) -> logging.Logger:
        return self._logger

    async def async_save(self, installation: Installation) -> None:
        key = installation_key(
            installation.enterprise_id, installation.team_id, installation.is_enterprise_install
        )
        async with self._db.session() as session:
            await installations.save(
                session,
                key,
                platform="slack",
                data=installation_data(installation),
                installed_by=installation.user_id,
                box=self._box,
            )
            # A new workspace is provisioned by the core on first contact, which makes
            # ``installed_by`` an owner (core.membership). On a reinstall into a known
            # workspace that bootstrap has passed, so the installer is made owner here:
            # whoever may install an app into a Slack workspace administers it there.
            if await workspaces.get(session, key) is not None:
                await members.set_role(session, key, installation.user_id, Role.OWNER)
                await audit.append(
                    session,
                    key,
                    action="slack.installed",
                    actor_id=installation.user_id,
                    target=installation.user_id,
                    detail={"role": Role.OWNER.value},
                )
        _log.info("slack.installed", workspace=key)

    async def async_save_bot(self, bot: Bot) -> None:
        # Only called after token rotation; the full installation row is the record.
        installation = await self._find(bot.enterprise_id, bot.team_id, bot.is_enterprise_install)
        if installation is not None:
            installation.bot_token = bot.bot_token
            installation.bot_refresh_token = bot.bot_refresh_token
            installation.bot_token_expires_at = bot.bot_token_expires_at
            await self.async_save(installation)

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        return await self._find(enterprise_id, team_id, is_enterprise_install)

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        installation = await self._find(enterprise_id, team_id, is_enterprise_install)
        if installation is None or installation.bot_token is None:
            return None
        return installation.to_bot()

    async def bot_token(self, enterprise_id: str | None, team_id: str) -> str | None:
        """For the sender and fetcher (:class:`adapters.slack.clients.InstalledBotTokens`)."""
        bot = await self.async_find_bot(enterprise_id=enterprise_id, team_id=team_id)
        if bot is None and enterprise_id:
            bot = await self.async_find_bot(
                enterprise_id=enterprise_id, team_id=team_id, is_enterprise_install=True
            )
        return None if bot is None else bot.bot_token

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self._delete(enterprise_id, team_id)

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        await self._delete(enterprise_id, team_id)

    async def _find(
        self, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None
    ) -> Installation | None:
        try:
            key = installation_key(enterprise_id, team_id, is_enterprise_install)
        except ValueError:
            return None
        async with self._db.session() as session:
            row = await installations.get(session, key, box=self._box)
        if row is None or row.platform != "slack":
            return None
        return Installation(**{k: v for k, v in row.data.items() if k in _FIELDS})

    async def _delete(self, enterprise_id: str | None, team_id: str | None) -> None:
        for enterprise_wide in (False, True):
            try:
                key = installation_key(enterprise_id, team_id, enterprise_wide)
            except ValueError:
                continue
            async with self._db.session() as session:
                if await installations.remove(session, key):
                    _log.info("slack.uninstalled", workspace=key)


class RedisOAuthStateStore(AsyncOAuthStateStore):
    """One-time OAuth ``state`` values shared by every web process (GETDEL consumes)."""

    def __init__(
        self, redis: Redis, *, expiration_seconds: int = 600, prefix: str = "nexus"
    ) -> None:
        self._redis = redis
        self._ttl = expiration_seconds
        self._prefix = f"{prefix}:slack:oauth-state:"
        self._logger = logging.getLogger("adapters.slack.install")

    @property
    def logger(self) -> logging.Logger:
        return self._logger

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        state = secrets.token_urlsafe(24)
        await self._redis.set(self._prefix + state, "1", ex=self._ttl)
        return state

    async def async_consume(self, state: str) -> bool:
        return await self._redis.getdel(self._prefix + state) is not None
