"""One inbound Teams turn: normalize, remember the conversation, enqueue.

``CloudAdapter`` awaits the whole turn before the HTTP response goes back, and Teams
resends an activity it has not seen acked within 15 s, so the turn does only:

1. take the activity as converted from its JSON (:mod:`.convert`); anything not
   addressed to Nexus ends here;
2. store the conversation reference (the worker replies from it);
3. files attached in a channel or group chat never reach bots: say how to share them
   (personal chat) instead of answering without them;
4. ``Intake.accept``: dedupe on (conversation id, activity id), RBAC, quota, enqueue.
   If it raises, so does the turn: the endpoint answers 500 and Teams resends;
5. the immediate answer (a command, a refusal) posted in the turn. The event is
   claimed by then, so if the connector refuses that answer the ack still succeeds: a
   failed ack would only make Teams resend an activity that dedupe then drops
   unanswered.

An enqueued job gets its typing indicator from the worker, as its first progress
(:meth:`TeamsSender.progress`), not from the turn: posting it here cost a connector
call per event on the ack path, about a third of the web process's CPU per Teams
event in ``bench/load.py``, to show typing a moment before the worker does.
"""

from __future__ import annotations

from botbuilder.core import TurnContext

from adapters.teams.convert import TeamsMessage
from adapters.teams.io import TeamsSender, post_activities
from adapters.teams.references import ReferenceStore
from adapters.teams.render import text_activities
from core.logging import bind_inbound, get_logger
from core.ports import Intake

_log = get_logger("adapters.teams.turn")


def withheld_files_text(names: list[str]) -> str:
    """What to do when Teams kept a channel or group-chat file from Nexus."""
    listed = ", ".join(names)
    return (
        f"I can't open {listed}: Teams does not pass files attached in channels or group "
        "chats to bots. Send the file to me in a personal chat (select Nexus → Chat) and "
        "ask your question there, or share a table that is already in this thread."
    )


class TeamsTurn:
    """The logic ``CloudAdapter.process_activity`` runs for every inbound activity."""

    def __init__(
        self,
        intake: Intake,
        *,
        references: ReferenceStore,
        sender: TeamsSender,
    ) -> None:
        self._intake = intake
        self._references = references
        self._sender = sender

    async def run(self, message: TeamsMessage, context: TurnContext) -> None:
        inbound = message.inbound
        if inbound is None:
            return
        bind_inbound(inbound)
        reference = TurnContext.get_conversation_reference(context.activity)
        # The SDK's model drops Teams' "tenantId" spelling; proactive posts want it.
        reference.conversation.tenant_id = inbound.workspace_id
        await self._references.save(inbound.workspace_id, reference)
        retry = self._sender.retry
        if message.withheld_files:
            _log.info("teams.files.withheld", count=len(message.withheld_files))
            hint = text_activities(withheld_files_text(message.withheld_files))
            await post_activities(context, hint, retry)
            return
        acceptance = await self._intake.accept(inbound)
        _log.info("teams.accepted", kind=acceptance.kind, job_id=acceptance.job_id)
        if acceptance.kind == "replied" and acceptance.reply is not None:
            try:
                await post_activities(
                    context, await self._sender.activities(acceptance.reply), retry
                )
            except Exception as exc:  # connector errors come raw or as InternalError
                _log.error("teams.reply.failed", error=type(exc).__name__)
