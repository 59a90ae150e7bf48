"""Fixtures of the conversation tests: the full stack on real Redis and a real database
(defined in ``stack_fixtures``, which the fault tests share)."""

from stack_fixtures import make_stack, stack  # noqa: F401 (fixtures)
