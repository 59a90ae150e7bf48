"""PII never reaches an external LLM provider of a workspace that redacts: checked on
what the fake provider servers received, through the real analyst and real SDKs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pandas as pd
import plotly.express as px
import pytest
from llm.fakes import FakeLLMServer
from stdnum import luhn, verhoeff

from core.agents import Analyst
from core.engine import AnalysisEngine
from core.governance.policy import Governance, Redaction
from core.governance.redacting_provider import DatabaseGovernance, RedactingProvider
from core.governance.redaction import Redactor
from core.llm.circuit import CircuitBreaker
from core.llm.providers.anthropic_provider import AnthropicProvider
from core.llm.providers.openai_provider import OpenAIProvider
from core.llm.router import LLMRouter
from core.storage.db import Database
from core.storage.repositories import workspaces

# One real-looking value per kind; each passes its validator (Luhn, SSN rules, ...).
CARD = "4111 1111 1111 1111"
SSN = "536-90-4399"
DNI = "12345678Z"
CODICE_FISCALE = "RSSMRA85T10A562S"
AADHAAR_DIGITS = "23456789012" + verhoeff.calc_check_digit("23456789012")
AADHAAR = f"{AADHAAR_DIGITS[:4]} {AADHAAR_DIGITS[4:8]} {AADHAAR_DIGITS[8:]}"
PHONE_US = "(415) 555-2671"
PHONE_INTL = "+44 20 7946 0958"
EMAIL = "ana.lopez@example.co.uk"
KINDS = {
    "EMAIL": [EMAIL],
    "PHONE": [PHONE_US, PHONE_INTL],
    "CARD": [CARD],
    "NATIONAL_ID": [SSN, DNI, CODICE_FISCALE, AADHAAR],
}


@pytest.mark.parametrize(("kind", "value"), [(k, v) for k, vs in KINDS.items() for v in vs])
def test_each_kind_is_found_and_masked(kind: str, value: str) -> None:
    redacted = Redactor().redact(f"contact: {value}; thanks")
    assert redacted.text == f"contact: [{kind}]; thanks"
    assert redacted.found == {kind: 1}


@pytest.mark.parametrize(
    "text",
    ["total_bill 16.99 tip 1.01 size 2", "year 2024, 2024-01-05, id 1234567890123",
     "4111 1111 1111 1112 fails Luhn", "000-12-3456 is not an SSN", "<<DATA 3f8a912345678901>>"],
)  # fmt: skip
def test_ordinary_numbers_are_left_alone(text: str) -> None:
    assert Redactor().redact(text).text == text


def pii_tips() -> pd.DataFrame:
    """The tips dataset with a PII column per kind (values valid for their checks)."""
    frame = px.data.tips()
    frame["email"] = [f"guest{i}@example.com" for i in range(len(frame))]
    frame["card"] = [
        f"4{n:014d}{luhn.calc_check_digit(f'4{n:014d}')}" for n in range(1000, 1000 + len(frame))
    ]
    frame["phone"] = PHONE_US
    frame["ssn"] = SSN
    return frame


WEEKEND_SMOKERS: dict[str, Any] = {
    "dataset": 0,
    "spec": {
        "operation": "aggregate",
        "filters": [
            {"column": "day", "op": "in", "value": ["Sat", "Sun"]},
            {"column": "smoker", "op": "==", "value": "Yes"},
        ],
        "aggregations": [{"func": "mean", "column": "tip"}],
    },
}
QUESTION = (
    f"average tip on weekends for smokers; reply to {EMAIL} or {PHONE_INTL}, card {CARD}, id {DNI}"
)


@pytest.fixture
async def servers() -> AsyncIterator[dict[str, FakeLLMServer]]:
    started = {"openai": FakeLLMServer("openai"), "anthropic": FakeLLMServer("anthropic")}
    for server in started.values():
        await server.start()
    yield started
    for server in started.values():
        await server.stop()


async def _router(
    servers: dict[str, FakeLLMServer], database: Database, order: tuple[str, ...]
) -> LLMRouter:
    policies = DatabaseGovernance(database, ttl_seconds=0.001)
    redactor = Redactor()
    kinds: dict[str, Any] = {"openai": OpenAIProvider, "anthropic": AnthropicProvider}
    providers = [
        RedactingProvider(
            kinds[name](
                api_key=servers[name].api_key, base_url=servers[name].base_url, timeout_seconds=5.0
            ),
            policies=policies,
            redactor=redactor,
        )
        for name in order
    ]
    return LLMRouter(providers, breaker_factory=lambda n: CircuitBreaker(n, failure_threshold=5))


async def _workspace(database: Database, name: str, redaction: Redaction) -> str:
    async with database.session() as session:
        await workspaces.get_or_create(session, name, platform="test")
        settings = Governance(redaction=redaction).model_dump(mode="json")
        await workspaces.update_settings(session, name, {"governance": settings})
    return name


def _sent(server: FakeLLMServer) -> str:
    return "\n".join(str(r.json) for r in server.requests)


async def _answer(router: LLMRouter, workspace: str, frame: pd.DataFrame, tmp_path: Any) -> float:
    engine = AnalysisEngine(renderer=None)
    path = tmp_path / "tips.csv"
    frame.to_csv(path, index=False)
    tables = engine.load_files([path])
    answer = await Analyst(engine=engine, router=router).answer(
        tables, QUESTION, workspace=workspace, user="U1"
    )
    return float(answer.result.value)  # type: ignore[arg-type]


def _expected(frame: pd.DataFrame) -> float:
    chosen = frame[frame["day"].isin(["Sat", "Sun"]) & (frame["smoker"] == "Yes")]
    return float(chosen["tip"].mean())


async def test_prompt_reaches_the_provider_redacted(
    servers: dict[str, FakeLLMServer], database: Database, tmp_path: Any
) -> None:
    frame = pii_tips()
    workspace = await _workspace(database, "test:redacting", Redaction(enabled=True))
    router = await _router(servers, database, ("openai",))
    servers["openai"].script(servers["openai"].tool_call("answer_with_spec", WEEKEND_SMOKERS))
    try:
        value = await _answer(router, workspace, frame, tmp_path)
    finally:
        await router.aclose()
    assert value == pytest.approx(_expected(frame))
    sent = _sent(servers["openai"])
    assert servers["openai"].request_count == 1
    leaked = [v for v in [EMAIL, PHONE_INTL, CARD, DNI, SSN, PHONE_US, *frame["email"],
                          *frame["card"]] if v in sent]  # fmt: skip
    assert leaked == []
    for kind in KINDS:
        assert f"[{kind}]" in sent, kind
    assert "total_bill" in sent and "weekends" in sent  # the rest of the prompt is intact


async def test_allow_listed_provider_and_workspaces_without_redaction_see_raw_data(
    servers: dict[str, FakeLLMServer], database: Database, tmp_path: Any
) -> None:
    frame = pii_tips()
    allowing = await _workspace(
        database, "test:dpa", Redaction(enabled=True, raw_data_providers=["anthropic"])
    )
    off = await _workspace(database, "test:off", Redaction(enabled=False))
    router = await _router(servers, database, ("anthropic", "openai"))
    servers["anthropic"].script(servers["anthropic"].tool_call("answer_with_spec", WEEKEND_SMOKERS))
    try:
        assert await _answer(router, allowing, frame, tmp_path) == pytest.approx(_expected(frame))
        # Failover from the allow-listed provider to one that is not: redacted again.
        servers["anthropic"].script(servers["anthropic"].server_error(500))
        servers["openai"].script(servers["openai"].tool_call("answer_with_spec", WEEKEND_SMOKERS))
        assert await _answer(router, allowing, frame, tmp_path) == pytest.approx(_expected(frame))
        servers["anthropic"].script(
            servers["anthropic"].tool_call("answer_with_spec", WEEKEND_SMOKERS)
        )
        assert await _answer(router, off, frame, tmp_path) == pytest.approx(_expected(frame))
    finally:
        await router.aclose()
    anthropic = [str(r.json) for r in servers["anthropic"].requests]
    openai = [str(r.json) for r in servers["openai"].requests]
    assert EMAIL in anthropic[0] and CARD in anthropic[0]  # allow-listed: raw
    assert EMAIL not in openai[-1] and "[EMAIL]" in openai[-1]  # not allow-listed: redacted
    assert EMAIL in anthropic[-1]  # redaction off for that workspace
