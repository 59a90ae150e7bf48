"""``python -m bot`` runs the ``nexus`` CLI."""

from bot.cli import app

app(prog_name="nexus")
