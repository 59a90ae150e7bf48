"""One performance fix for the SDK stack under botbuilder, applied at import.

Every turn builds two msrest client configurations (the connector client and the
user-token client), and each builds a ``ClientRetryPolicy`` whose constructor runs
``[i for i in range(999) if i not in safe_codes]`` against a 500-item *list*: half a
million comparisons, ~20 ms of CPU each time, which capped the endpoint near 20
turns/s per core (measured by ``bench/teams_ack.py``). The same codes as a frozenset
give the same policy in microseconds. msrest is in maintenance mode, so the fix lives
here; it changes no behaviour, only the container type.
"""

from __future__ import annotations

from msrest.universal_http.requests import ClientRetryPolicy


def apply() -> None:
    """Idempotent: safe to call from every module that builds SDK clients."""
    codes = ClientRetryPolicy.safe_codes
    if not isinstance(codes, frozenset):
        ClientRetryPolicy.safe_codes = frozenset(codes)  # type: ignore[assignment]
