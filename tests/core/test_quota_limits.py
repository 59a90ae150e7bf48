"""Quotas against real Redis: exhaustion, the reset message, refunds, concurrency."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis

from core.errors import QuotaExceededError
from core.quotas import QuotaPolicy, Quotas, Reservation, window_reset

NOW = datetime(2025, 1, 31, 20, 47, 30, tzinfo=UTC)


def _quotas(redis: Redis, prefix: str, now: datetime = NOW, **limits: float | None) -> Quotas:
    return Quotas(redis, policy=QuotaPolicy(**limits), prefix=prefix, clock=lambda: now)


async def test_analyses_run_out_with_the_documented_message(
    redis_client: Redis, redis_prefix: str
) -> None:
    quotas = _quotas(redis_client, redis_prefix, analyses_per_day=200)
    for _ in range(200):
        await quotas.reserve("slack:T1", "U1", "analysis")
    with pytest.raises(QuotaExceededError) as caught:
        await quotas.reserve("slack:T1", "U2", "analysis")
    assert caught.value.user_message == (
        "This workspace has used its 200 analyses for today. "
        "The quota resets at 00:00 UTC (in 3 h 12 min)."
    )
    # The refusal counted nothing, and another workspace is unaffected.
    usage = {u.name: u.used for u in await quotas.usage("slack:T1")}
    assert usage["analyses_per_day"] == 200
    await quotas.reserve("slack:T2", "U1", "analysis")


async def test_refund_gives_back_once(redis_client: Redis, redis_prefix: str) -> None:
    quotas = _quotas(redis_client, redis_prefix, analyses_per_day=2)
    first = await quotas.reserve("ws", "U1", "analysis")
    await quotas.reserve("ws", "U1", "analysis")
    with pytest.raises(QuotaExceededError):
        await quotas.reserve("ws", "U1", "analysis")
    # The job failed through no fault of the user; a retried job refunds again.
    wire = first.model_dump_json()  # reservations travel inside ARQ jobs
    assert await quotas.refund(Reservation.model_validate_json(wire))
    assert not await quotas.refund(first)
    await quotas.reserve("ws", "U1", "analysis")
    with pytest.raises(QuotaExceededError):
        await quotas.reserve("ws", "U1", "analysis")


async def test_new_day_resets_the_counter(redis_client: Redis, redis_prefix: str) -> None:
    today = _quotas(redis_client, redis_prefix, analyses_per_day=1)
    await today.reserve("ws", "U1", "analysis")
    with pytest.raises(QuotaExceededError):
        await today.reserve("ws", "U1", "analysis")
    tomorrow = _quotas(redis_client, redis_prefix, NOW + timedelta(hours=4), analyses_per_day=1)
    await tomorrow.reserve("ws", "U1", "analysis")


async def test_counter_keys_expire_when_the_window_resets(
    redis_client: Redis, redis_prefix: str
) -> None:
    quotas = _quotas(redis_client, redis_prefix)
    reservation = await quotas.reserve("slack:T1", "U1", "tokens", 1000)
    assert len(reservation.keys) == 2  # per day and per month
    for key in reservation.keys:
        assert key.startswith(f"{redis_prefix}:{{slack:T1}}:quota:")
        ttl = await redis_client.ttl(key)
        reset = window_reset("month" if "month" in key else "day", NOW)[1]
        expected = (reset - NOW).total_seconds()
        assert expected < ttl <= expected + 300


async def test_monthly_token_limit_message(redis_client: Redis, redis_prefix: str) -> None:
    quotas = _quotas(redis_client, redis_prefix, tokens_per_day=None, tokens_per_month=10_000)
    await quotas.reserve("ws", "U1", "tokens", 9_000)
    with pytest.raises(QuotaExceededError) as caught:
        await quotas.reserve("ws", "U1", "tokens", 5_000)
    assert caught.value.user_message == (
        "This needs 5,000 LLM tokens, but this workspace has only 1,000 left of its 10,000 "
        "for this month. The quota resets on 1 Feb at 00:00 UTC (in 3 h 12 min)."
    )


async def test_all_limits_of_a_kind_move_together(redis_client: Redis, redis_prefix: str) -> None:
    quotas = _quotas(redis_client, redis_prefix, cost_usd_per_day=1.0, cost_usd_per_month=1.5)
    await quotas.reserve("ws", "U1", "cost_usd", 0.9)
    with pytest.raises(QuotaExceededError) as caught:
        await quotas.reserve("ws", "U1", "cost_usd", 0.2)  # the daily limit refuses
    assert "$1.00" in caught.value.user_message
    usage = {u.name: u.used for u in await quotas.usage("ws")}
    assert usage["cost_usd_per_day"] == pytest.approx(0.9)
    assert usage["cost_usd_per_month"] == pytest.approx(0.9)  # untouched by the refusal


async def test_upload_bytes_message(redis_client: Redis, redis_prefix: str) -> None:
    quotas = _quotas(redis_client, redis_prefix, upload_bytes_per_day=10 * 1024**2)
    with pytest.raises(QuotaExceededError) as caught:
        await quotas.reserve("ws", "U1", "upload_bytes", 30 * 1024**2)
    assert caught.value.user_message.startswith(
        "This needs 30.0 MB of uploads, but this workspace has only 10.0 MB left of its "
        "10.0 MB for today."
    )


async def test_requests_per_minute_is_per_user(redis_client: Redis, redis_prefix: str) -> None:
    quotas = _quotas(redis_client, redis_prefix, requests_per_user_per_minute=3)
    for _ in range(3):
        await quotas.reserve("ws", "U1", "request")
    with pytest.raises(QuotaExceededError) as caught:
        await quotas.reserve("ws", "U1", "request")
    assert caught.value.user_message == (
        "You have sent 3 requests this minute, the most allowed per person. Try again in 30 s."
    )
    await quotas.reserve("ws", "U2", "request")
    later = _quotas(redis_client, redis_prefix, NOW + timedelta(seconds=31))
    await later.reserve("ws", "U1", "request")


async def test_zero_or_none_means_unlimited(redis_client: Redis, redis_prefix: str) -> None:
    for limit in (0, None):
        quotas = _quotas(redis_client, f"{redis_prefix}:{limit}", sandbox_seconds_per_day=limit)
        for _ in range(5):
            await quotas.reserve("ws", "U1", "sandbox_seconds", 10**9)
        usage = {u.name: u for u in await quotas.usage("ws")}
        assert usage["sandbox_seconds_per_day"].used == 5 * 10**9
        assert usage["sandbox_seconds_per_day"].limit is None


async def test_settle_replaces_the_estimate(redis_client: Redis, redis_prefix: str) -> None:
    quotas = _quotas(redis_client, redis_prefix, tokens_per_day=10_000)
    estimate = await quotas.reserve("ws", "U1", "tokens", 4_000)
    settled = await quotas.settle(estimate, 1_500)
    assert settled.amount == 1_500
    usage = {u.name: u.used for u in await quotas.usage("ws")}
    assert usage["tokens_per_day"] == 1_500
    assert await quotas.refund(settled)
    usage = {u.name: u.used for u in await quotas.usage("ws")}
    assert usage["tokens_per_day"] == 0


async def test_concurrent_reserves_never_overshoot(redis_client: Redis, redis_prefix: str) -> None:
    quotas = _quotas(redis_client, redis_prefix, analyses_per_day=137)

    async def attempt() -> bool:
        try:
            await quotas.reserve("ws", "U1", "analysis")
        except QuotaExceededError:
            return False
        return True

    results = await asyncio.gather(*(attempt() for _ in range(500)))
    assert sum(results) == 137


async def test_usage_includes_user_limits_when_asked(
    redis_client: Redis, redis_prefix: str
) -> None:
    quotas = _quotas(redis_client, redis_prefix)
    await quotas.reserve("ws", "U1", "request")
    names = {u.name for u in await quotas.usage("ws")}
    assert "requests_per_user_per_minute" not in names
    mine = {u.name: u.used for u in await quotas.usage("ws", user="U1")}
    assert mine["requests_per_user_per_minute"] == 1


async def test_negative_amount_is_rejected(redis_client: Redis, redis_prefix: str) -> None:
    with pytest.raises(ValueError):
        await _quotas(redis_client, redis_prefix).reserve("ws", "U1", "tokens", -5)


def test_policy_overrides_and_windows() -> None:
    policy = QuotaPolicy().with_overrides({"analyses_per_day": 5, "tokens_per_day": 0})
    assert policy.analyses_per_day == 5
    assert policy.tokens_per_day is None
    assert window_reset("month", datetime(2025, 12, 15, tzinfo=UTC)) == (
        "202512",
        datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert window_reset("minute", NOW)[1] == datetime(2025, 1, 31, 20, 48, tzinfo=UTC)
