"""The ``nexus`` command line: entry points only, no business logic."""

from __future__ import annotations

import typer

from bot.admin_cli import admin_app
from bot.ask_command import ask
from bot.sandbox_cli import sandbox_app
from bot.server_cli import dev_command, serve_command, worker_command
from core.logging import configure_logging

app = typer.Typer(
    name="nexus",
    help="Nexus: a data analyst that lives in team chat.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def main(
    log_level: str = typer.Option(
        "WARNING", "--log-level", envvar="NEXUS_LOG_LEVEL", help="Log level."
    ),
) -> None:
    configure_logging(log_level, "json")


app.command("ask")(ask)
app.command("serve")(serve_command)
app.command("worker")(worker_command)
app.command("dev")(dev_command)
app.add_typer(admin_app, name="admin")
app.add_typer(sandbox_app, name="sandbox")
