"""Teams in the platform table: a personal-chat message activity and its channel token.

The activity is the tests' own builder (``tests/teams/teams_activities.py``). Its
"signature" is a Bot Framework channel token: an RS256 JWT signed by the channel's
key (``kid``), naming the issuer, the bot's app id as audience and the service URL
the activity comes from, which botbuilder checks against the activity's
``serviceUrl``; the token does not cover the body. Minting is the fake channel's
own (``fake_bot_framework.channel_token``). The channel key is fixed, below, so the
load generator mints tokens in its own process while the driver's fake channel
(``FakeChannelAuth(key=CHANNEL_KEY)``) publishes the public half in its JWKS. It is a
throwaway test key, made for these fakes and trusted nowhere else.
"""

from __future__ import annotations

import functools
import json
import time
from typing import TYPE_CHECKING, Any

import teams_activities
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from fake_bot_framework import ISSUER, channel_token

if TYPE_CHECKING:
    from platforms import Question

TEAMS_TENANT = "load-tenant"
TOKEN_LIFETIME = 3600
"""Seconds a channel token is issued for (the real channel's tokens live an hour)."""
CLOCK_LEEWAY = 300
"""botbuilder accepts tokens up to 5 minutes past ``exp`` or before ``nbf``."""

CHANNEL_KEY_PEM = b"""\
-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQChxyFHX0gkw/ji
KEvi7FNiC4uC2PxggyRnsKZd8tymoWBIopjEsnV+jkHSTBbXbdX2FkGFWkCwtXES
z1k3piLyMcmAMRRNUKYxHtLo3COvi2nN9CIAJ01ibjT28OaI4D3EgSuYRf/znthF
Gcs03vCdthhbTQcnk4aZw8f+T8phyqYgY4ajFugajcrln5GVREzMhGec140hwxFL
RUb3+G5eUnfHyN/Y0lRqlEYEGMREcPxsT6SIQSbX5b0C+1BoGR02a59LY0Gyrij+
aZ9wGtiHqKNn8pqO9nh/emu+VOSvaukdkf9+HXTS1rS2seRmNSZ/iKzgVduZyyqh
YUVOTNrJAgMBAAECggEAB7vGDZxCjb5gBgik2wnO0R2p60T96IuwWHQXed9/mIgX
mxVJvgJlbzmz8A6C24TEwQUul+Y4+DGOQJbQpiI/IqqKXkJKXQlNToURkj/exVgh
5E5mtzDpyDoqNkFNFe85SKzflYGIIyBdaI07e3EqWbGwH6IypLvOyAg1xeSQ0USc
G2PehOKMXgdWWcblxIaUV0zV+ZqYRZqfHldRlUN/+H3mGc3Yn3EvfiqA/M27CX9C
AL211/ruLEX8PowPPJOIgOmWq/IJnDRHJHi+sPCBG9x1aKvBNOucjdOC3pwm34PO
2R3d+NgS7FKVXY37d2zoziqtwWEkDEsokmlBA/MBkQKBgQDUp/4/1NTg8VAvl7xU
BwVwd6OOfN+jYknIXIIQaItV3XdC/KeWbH8xqr0yVUJPu+pEGsBL0yTfBqQUN9XR
eb09buJ6U2M/8prDdtDl1QxWKQTgpmlt8Oy44VIcFCaPAgHvNpZOGADsTFNCYIbf
YMjxCH5j6fuODkBM3LF9gwyTkQKBgQDCwGXbIwfgxQWkcmdeVErICRL1DjsSX841
YBroo5+I9okDxNUIek2lUfcyynhK8VIlrsnbafuNP10Nc9IDDTmJmJAiYbstuS4Z
V29yNAJr/bNq5xxnBLTMcRjXTNycnKytYhk3E3luO3AoLhRNJtAi81a8IjDMTzXa
kMgjIjlHuQKBgH7EAejVG21YDF/CiO5iHRj1CJeY0suXfLomgxX67Axsb3qMF+6w
kIXv7MaDUnsrXrPoancIz7LvR4IR4rDzbB6h6fnXmZN2MFGSk2ZeQPNfklvEd5al
BsgS8Rpx3KZlIPgTRzgYUPyLZxprZhrknAQq9wTiZyVAU44+BMP4CdgxAoGAU55e
XW+2EzklCg2g+myAy1CyFgvtKx99n4dLJnYSqrEH9VlPCtvQeNovpFwwuCTTW6Cn
xRDFVElPf9Yp5uuHt9+Mi2ahAqnO9EyJamSQYaPFpHHkzQrFQj6RJug2lPvkXHGR
WAeBjOXyax4V02aF2WvX4uFfSGn+OoENnaA1LekCgYEAoVMvjd3eEzIDXSck9Z4M
in9fpbSyJ7q3yH/s/9HeK2DF3YC243mJB+tQ1nGeFx+fekvtfeBXC2q3w6RbOlGl
E9QxqWz/PvbSteQK01UWXM/I1URsRWaMf57QaGMI8GAWZOX184T+rfICu27RVKyj
v3G3C36eOdXYdOOZ5IuJmg4=
-----END PRIVATE KEY-----
"""


def _channel_key() -> rsa.RSAPrivateKey:
    key = load_pem_private_key(CHANNEL_KEY_PEM, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError("the channel key must be an RSA key")
    return key


CHANNEL_KEY = _channel_key()


def teams_token(service_url: str | None, at: int | None = None, **claims: Any) -> str:
    """A channel token for ``service_url`` issued at epoch second ``at`` (now if None);
    ``claims`` override or, as None, drop claims; ``key=`` signs with another key."""
    issued = int(time.time()) if at is None else at
    key = claims.pop("key", CHANNEL_KEY)
    validity = {"nbf": issued, "exp": issued + TOKEN_LIFETIME}
    return channel_token(key, ISSUER, service_url, **{**validity, **claims})


@functools.lru_cache(maxsize=64)
def _token_of_the_minute(service_url: str | None, minute: int) -> str:
    return teams_token(service_url, minute * 60)


def service_url_of(body: bytes) -> str | None:
    """The activity's ``serviceUrl``, as the channel that sent it would claim it."""
    try:
        activity = json.loads(body)
    except (ValueError, RecursionError):
        return None
    url = activity.get("serviceUrl") if isinstance(activity, dict) else None
    return url if isinstance(url, str) else None


def bearer(token: str) -> dict[str, str]:
    return {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}


def sign_teams(body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The channel's token for the activity's service URL, issued at ``timestamp``.
    Now: one token per service URL and minute, reused like the channel reuses its
    tokens (and so the generator is not busy with RSA while requests are due)."""
    service_url = service_url_of(body)
    if timestamp is None:
        return bearer(_token_of_the_minute(service_url, int(time.time()) // 60))
    return bearer(teams_token(service_url, timestamp))


def teams_conversation(q: Question) -> str:
    """The personal chat named by ``q.thread``."""
    return f"a:1{q.thread}"


def teams_message_id(q: Question) -> str:
    return f"{q.run}-{q.n}"


def teams_question(q: Question, ids: dict[str, str]) -> dict[str, Any]:
    """A message in a personal chat (where Teams hands files to bots), with the file
    as a pre-authenticated download when ``q.file`` (``name``, ``url``) is set."""
    files = [teams_activities.file_attachment(q.file["name"], q.file["url"])] if q.file else None
    return teams_activities.message(
        ids["teams_service_url"], text=q.text, conversation_id=teams_conversation(q),
        attachments=files, tenant=TEAMS_TENANT, message_id=teams_message_id(q),
    )  # fmt: skip
