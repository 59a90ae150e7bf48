"""The words of a quota refusal: which limit, the numbers, and when it resets.

Kept apart from :mod:`core.quotas` (the Redis mechanics) because it is what users
read: ``This workspace has used its 200 analyses for today. The quota resets at
00:00 UTC (in 3 h 12 min).``
"""

from __future__ import annotations

from datetime import datetime, timedelta


def _number(unit: str, value: float) -> str:
    if unit == "usd":
        return f"${value:,.2f}"
    if unit == "bytes":
        size, suffixes = float(value), ["bytes", "KB", "MB", "GB", "TB"]
        for suffix in suffixes:
            if size < 1024 or suffix == suffixes[-1]:
                return f"{size:,.0f} bytes" if suffix == "bytes" else f"{size:,.1f} {suffix}"
            size /= 1024
    if unit == "seconds":
        return _duration(timedelta(seconds=value))
    return f"{value:,.0f}"


def _duration(delta: timedelta) -> str:
    """``3 h 12 min``, ``2 days 4 h``, ``42 s``."""
    seconds = max(0, int(delta.total_seconds()))
    days, hours, minutes = seconds // 86400, seconds % 86400 // 3600, seconds % 3600 // 60
    if days:
        return f"{days} day{'s' if days > 1 else ''}" + (f" {hours} h" if hours else "")
    if hours:
        return f"{hours} h" + (f" {minutes} min" if minutes else "")
    return f"{minutes} min" if minutes else f"{seconds} s"


def refusal_message(
    unit: str,
    noun: str,
    *,
    window: str,
    per_user: bool,
    used: float,
    maximum: float,
    amount: float,
    resets_at: datetime,
    now: datetime,
) -> str:
    """What the user reads: which limit, the numbers, when it resets.

    ``unit`` (``count``, ``bytes``, ``usd``, ``seconds``) says how numbers are
    written; ``noun`` follows them (``analyses``, ``of uploads``).
    """
    wait = _duration(resets_at - now)
    if per_user:
        return (
            f"You have sent {_number(unit, maximum)} {noun} this minute, "
            f"the most allowed per person. Try again in {wait}."
        )
    period = "for today" if window == "day" else "for this month"
    if used >= maximum:
        first = f"This workspace has used its {_number(unit, maximum)} {noun} {period}."
    else:
        first = (
            f"This needs {_number(unit, amount)} {noun}, but this workspace has "
            f"only {_number(unit, maximum - used)} left of its "
            f"{_number(unit, maximum)} {period}."
        )
    when = resets_at.strftime("%H:%M UTC")
    if window == "month":
        when = f"on {resets_at.day} {resets_at.strftime('%b')} at {when}"
    else:
        when = f"at {when}"
    return f"{first} The quota resets {when} (in {wait})."
