"""Quotas through the manager: refusals name the limit and reset, windows reset, and
failed jobs refund only when the user was not at fault."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from conversation_stack import PNG_1PX, StackFactory

from core.quotas import QuotaPolicy
from core.storage.repositories import audit, usage


async def _used(stack: object, name: str) -> float:
    limits = await stack.quotas.usage("test:W", user="U1")  # type: ignore[attr-defined]
    return next(u.used for u in limits if u.name == name)


async def test_daily_analyses_run_out_and_reset_the_next_day(
    make_stack: StackFactory, tips_csv: bytes
) -> None:
    stack = await make_stack(policy=QuotaPolicy(analyses_per_day=2))
    await stack.start_worker()
    await stack.answer(await stack.upload("tips.csv", tips_csv))  # uploads are not analyses
    for _ in range(2):
        assert "Number of rows: 244" in await stack.answer(await stack.say("how many rows"))

    refused = await stack.say("how many rows")
    assert refused.kind == "replied" and refused.reply is not None
    # The injected clock says 12:00 UTC, so the daily window resets in 12 hours.
    assert refused.reply.text == (
        "This workspace has used its 2 analyses for today. The quota resets at 00:00 UTC (in 12 h)."
    )
    async with stack.database.session() as session:
        assert len(await audit.recent(session, "test:W", action="quota.refused")) == 1

    stack.clock.advance(hours=12)
    assert (await stack.say("how many rows")).kind == "enqueued"


async def test_requests_per_user_per_minute(make_stack: StackFactory) -> None:
    stack = await make_stack(policy=QuotaPolicy(requests_per_user_per_minute=2))
    for _ in range(2):
        assert (await stack.say("how many rows", actor="U1")).kind == "enqueued"
    refused = await stack.say("how many rows", actor="U1")
    assert refused.reply is not None
    assert refused.reply.text == (
        "You have sent 2 requests this minute, the most allowed per person. Try again in 1 min."
    )
    assert (await stack.say("how many rows", actor="U2")).kind == "enqueued"  # per user
    stack.clock.advance(minutes=1)
    assert (await stack.say("how many rows", actor="U1")).kind == "enqueued"


async def test_a_failure_that_is_not_the_users_fault_is_refunded(
    make_stack: StackFactory, tips_csv: bytes
) -> None:
    stack = await make_stack(job_max_tries=2)
    await stack.start_worker()
    stack.fetcher.failures["F-down"] = ConnectionResetError("platform file server went away")
    accepted = await stack.upload("tips.csv", tips_csv, "how many rows", file_id="F-down")
    assert await _used(stack, "analyses_per_day") == 1

    text = await stack.answer(accepted)
    assert text.startswith("Sorry, something went wrong on our side")
    assert "not counted against your quota" in text
    assert stack.fetcher.calls.count("F-down") == 2  # retried once (Retry), then gave up
    assert any("trying again" in p.text for p in stack.sender.progress_updates)
    assert await _used(stack, "analyses_per_day") == 0
    assert await stack.finished(accepted.job_id) == "failed"
    async with stack.database.session() as session:
        since = datetime.now(UTC) - timedelta(days=1)
        assert (await usage.totals(session, "test:W", since=since))["analysis"] == 0
        refunds = await audit.recent(session, "test:W", action="quota.refunded")
    assert [r.target for r in refunds] == [accepted.job_id]


async def test_bad_input_is_not_refunded(make_stack: StackFactory) -> None:
    stack = await make_stack()
    await stack.start_worker()
    accepted = await stack.upload("sales.csv", PNG_1PX, "how many rows")
    text = await stack.answer(accepted)
    assert "sales.csv" in text and "PNG" in text
    assert "not counted" not in text
    assert await _used(stack, "analyses_per_day") == 1
    assert await _used(stack, "upload_bytes_per_day") == 0  # never stored
