"""schemathesis generates requests from the served OpenAPI document, with a valid
owner key, and checks every response: no 5xx, only documented status codes, and
bodies that match their schemas."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import schemathesis
from governance.api_thread import ApiThread, Served
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from bot.admin_api import ENDPOINTS

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[Served]:
    prefix = f"nexus-test:{uuid.uuid4().hex[:12]}"
    with ApiThread(Path(tmp_path_factory.mktemp("fuzz")), redis_url, prefix) as running:
        yield running
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(match=f"{prefix}*", count=1000):
        client.delete(key)
    client.close()


def _operations(served: Served) -> list[schemathesis.APIOperation]:
    schema = schemathesis.openapi.from_url(
        f"{served.url}/admin/api/v1/openapi.json",
        headers={"Authorization": f"Bearer {served.token}"},
    )
    return [result.ok() for result in schema.get_all_operations()]


def _fuzz(operation: schemathesis.APIOperation, served: Served) -> set[int]:
    """Run one operation's generated cases; the status codes it answered."""
    auth = {"Authorization": f"Bearer {served.token}"}
    statuses: set[int] = set()

    @settings(max_examples=25, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(case=operation.as_strategy())
    def run(case: schemathesis.Case) -> None:
        if "workspace_id" in (case.path_parameters or {}):
            # The key's own workspace, so requests reach the handlers (another workspace
            # is refused before any handler runs: test_admin_api_auth covers that).
            case.path_parameters["workspace_id"] = served.workspace
        statuses.add(case.call_and_validate(headers=auth, checks=CHECKS).status_code)

    run()
    return statuses


def test_no_server_errors_and_responses_match_the_document(served: Served) -> None:
    operations = _operations(served)
    assert len(operations) == len(ENDPOINTS)
    failures: list[str] = []
    reached: dict[str, set[int]] = {}
    for operation in operations:
        try:
            reached[operation.label] = _fuzz(operation, served)
        except Exception as exc:
            failures.append(f"{operation.label}: {exc}")
    assert failures == []
    # Every operation's handler ran: the fuzz did not stop at authentication.
    stopped_early = {label for label, codes in reached.items() if codes <= {401, 403, 429}}
    assert stopped_early == set(), reached
