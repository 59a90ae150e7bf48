"""Every chat command answers at once with something useful, without a job."""

from __future__ import annotations

from conversation_stack import Stack

from core.commands import parse_command, strip_mentions, user_id_of


async def _text(stack: Stack, message: str, **kwargs: object) -> str:
    acceptance = await stack.say(message, **kwargs)  # type: ignore[arg-type]
    assert acceptance.kind == "replied" and acceptance.reply is not None, acceptance
    return acceptance.reply.text


async def test_each_command_replies(stack: Stack, tips_csv: bytes) -> None:
    help_text = await _text(stack, "<@BOT> help")
    assert "`datasets`" in help_text and "`stop`" in help_text
    assert help_text.endswith("Your role here: analyst.")
    assert await _text(stack, "<@BOT>") == help_text  # a bare mention gets help too

    assert (await _text(stack, "datasets")).startswith("No files in this thread yet")
    await stack.answer(await stack.upload("tips.csv", tips_csv))
    assert "1. tips.csv: 244 rows × 7 columns (total_bill, tip" in await _text(stack, "datasets")

    usage = await _text(stack, "usage")
    assert usage.startswith("Usage of this workspace")
    assert "Today: 0 analyses" in usage and "KB uploaded" in usage

    quota = await _text(stack, "quota")
    assert "• analyses per day: 0 used, no limit" in quota  # the stack runs unlimited
    assert "• tokens per day: 0 of 2,000,000, resets" in quota

    assert await _text(stack, "role") == "Your role here is analyst."
    assert await _text(stack, "stop") == "Nothing is running in this thread."
    assert await _text(stack, "forget") == "Forgot 1 file(s) in this thread: tips.csv."
    assert await _text(stack, "forget") == "This thread has no files to forget."
    assert stack.sender.replies[-1].idempotency_key.endswith(":now")
    assert await stack.redis.zcard(stack.settings.queue_name) == 0


async def test_redelivered_command_replies_once(stack: Stack) -> None:
    inbound = stack.inbound("help")
    first = await stack.adapter.deliver(inbound)
    again = await stack.adapter.deliver(inbound)
    assert (first.kind, again.kind) == ("replied", "duplicate")
    assert len(stack.sender.replies) == 1


def test_parsing() -> None:
    assert strip_mentions("<@U0BOT> <@!42>, average tip") == "average tip"
    assert strip_mentions("<at>Nexus</at> help") == "help"
    assert parse_command("help me read this chart") is None
    assert parse_command("<@B> Help!") is not None
    role = parse_command("role <@U2> admin")
    assert role is not None and (role.name, role.args) == ("role", ["<@U2>", "admin"])
    slash = parse_command("", "datasets")
    assert slash is not None and slash.name == "datasets"
    assert parse_command("why did the stop sign move") is None
    assert [user_id_of(t) for t in ("<@U2>", "<@!42>", "@U3", "U4", "<bad")] == [
        "U2", "42", "U3", "U4", None,
    ]  # fmt: skip
