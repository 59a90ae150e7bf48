"""Bot Framework authentication for Teams, from settings.

Inbound, every activity carries a JWT signed by the Bot Framework channel; botbuilder
validates its signature (keys from the OpenID metadata's JWKS), issuer, audience
(``TEAMS_APP_ID``), expiry (5 min leeway), ``serviceurl`` claim and endorsements.
Outbound, the connector client gets a token for ``TEAMS_APP_ID`` /
``TEAMS_APP_PASSWORD`` (from ``TEAMS_TENANT_ID``'s authority for single-tenant apps).

The public-cloud endpoints are the defaults; ``TEAMS_OPENID_METADATA_URL`` and
``TEAMS_TOKEN_ISSUER`` replace them for sovereign and private clouds.

Auth is off only when ``TEAMS_DEV_MODE`` is set *and* there is no ``TEAMS_APP_ID``
(the Bot Framework Emulator). A missing app id or password without that switch means
"Teams is not configured", never "accept anything".
"""

from __future__ import annotations

from dataclasses import dataclass

from botframework.connector.auth import (
    AuthenticationConstants,
    BotFrameworkAuthentication,
    BotFrameworkAuthenticationFactory,
    PasswordServiceClientCredentialFactory,
    ServiceClientCredentialsFactory,
)

from adapters.teams.client_cache import CachingAuthentication
from core.settings import Settings


@dataclass(frozen=True)
class TeamsAuth:
    """What the adapter needs to check requests and to call the connector."""

    app_id: str
    """Empty only in development mode (auth disabled)."""
    enabled: bool
    authentication: BotFrameworkAuthentication
    credentials: ServiceClientCredentialsFactory
    oauth_scope: str
    login_url: str


def missing_credentials(settings: Settings) -> str | None:
    """Why Teams cannot start (None: it can, with auth or in explicit dev mode)."""
    if settings.teams_app_id and settings.teams_app_password:
        return None
    if settings.teams_dev_mode and not settings.teams_app_id:
        return None
    if settings.teams_app_id:
        return "TEAMS_APP_PASSWORD is missing"
    return "set TEAMS_APP_ID and TEAMS_APP_PASSWORD, or TEAMS_DEV_MODE=true for the Emulator"


def auth_enabled(settings: Settings) -> bool:
    """False only in explicit development mode without an app id."""
    return bool(settings.teams_app_id) or not settings.teams_dev_mode


def build_auth(
    settings: Settings, *, credentials: ServiceClientCredentialsFactory | None = None
) -> TeamsAuth:
    """The SDK's authentication; ``credentials`` replaces how outbound tokens are made
    (the default asks Azure AD for a token with the app id and password)."""
    if not auth_enabled(settings):
        factory = credentials or PasswordServiceClientCredentialFactory("", "")
        authentication = CachingAuthentication(
            BotFrameworkAuthenticationFactory.create(credential_factory=factory)
        )
        return TeamsAuth(
            "",
            False,
            authentication,
            factory,
            AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE,
            "",
        )
    if missing_credentials(settings) is not None or not settings.teams_app_id:
        raise ValueError("Teams auth needs TEAMS_APP_ID and TEAMS_APP_PASSWORD")
    password = settings.teams_app_password
    app_id = settings.teams_app_id
    factory = credentials or PasswordServiceClientCredentialFactory(
        app_id, password.get_secret_value() if password else None, settings.teams_tenant_id
    )
    scope = AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE
    login_url = AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL
    # Always the parameterized flavour: the issuer and metadata URL are ours to set
    # (public cloud unless overridden), and the same code path serves every cloud.
    parameterized = BotFrameworkAuthenticationFactory.create(
        validate_authority=True,
        to_channel_from_bot_login_url=login_url,
        to_channel_from_bot_oauth_scope=scope,
        to_bot_from_channel_token_issuer=(
            settings.teams_token_issuer or AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER
        ),
        oauth_url=AuthenticationConstants.OAUTH_URL,
        to_bot_from_channel_open_id_metadata_url=(
            settings.teams_openid_metadata_url
            or AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL
        ),
        to_bot_from_emulator_open_id_metadata_url=(
            AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL
        ),
        credential_factory=factory,
    )
    authentication = CachingAuthentication(parameterized)
    return TeamsAuth(app_id, True, authentication, factory, scope, login_url)
