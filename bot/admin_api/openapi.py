"""The admin API's OpenAPI 3.1 document, generated from the endpoint table.

Schemas come from the pydantic models (request bodies in validation mode, responses
in serialization mode), so the document cannot drift from what the handlers accept
and return; ``tests/governance`` fuzzes the running API against it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from bot.admin_api.framework import Endpoint
from bot.admin_api.schemas import ErrorOut

_REF = "#/components/schemas/{model}"
_PARAM = re.compile(r"{(\w+)}")
_ERRORS = {
    "400": "Bad input",
    "401": "Missing, malformed, unknown, expired or revoked API key",
    "403": "The key belongs to another workspace, or its role is too low",
    "404": "Not found in this workspace",
    "422": "Invalid parameters or body",
    "429": "The key's rate limit is reached (see Retry-After)",
}


def _models(endpoints: Sequence[Endpoint]) -> list[tuple[type[BaseModel], JsonSchemaMode]]:
    wanted: list[tuple[type[BaseModel], JsonSchemaMode]] = [(ErrorOut, "serialization")]
    for e in endpoints:
        if e.body is not None:
            wanted.append((e.body, "validation"))
        if e.response is not None:
            wanted.append((e.response, "serialization"))
    return list(dict.fromkeys(wanted))


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=_REF)
    required = set(schema.get("required", ()))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": prop}
        for name, prop in schema.get("properties", {}).items()
    ]


def _operation_id(endpoint: Endpoint) -> str:
    words = _PARAM.sub(r"by_\1", endpoint.path).strip("/").replace("/", "_")
    return f"{endpoint.method.lower()}_{words}"


def _operation(endpoint: Endpoint, refs: dict[Any, Any]) -> dict[str, Any]:
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _PARAM.findall(endpoint.path)
    ]
    if endpoint.query is not None:
        parameters += _query_parameters(endpoint.query)
    error = {"application/json": {"schema": refs[(ErrorOut, "serialization")]}}
    responses: dict[str, Any] = {
        code: {"description": text, "content": error} for code, text in _ERRORS.items()
    }
    if endpoint.response is None:
        responses["204"] = {"description": "Done"}
    else:
        content: dict[str, Any] = {
            "application/json": {"schema": refs[(endpoint.response, "serialization")]}
        }
        if endpoint.csv:
            content["text/csv"] = {"schema": {"type": "string"}}
        responses["200"] = {"description": "OK", "content": content}
    operation: dict[str, Any] = {
        "summary": endpoint.summary,
        "operationId": _operation_id(endpoint),
        "tags": [endpoint.tag],
        "description": f"Needs a key with role {endpoint.role} or above.",
        "parameters": parameters,
        "responses": responses,
    }
    if endpoint.body is not None:
        schema = refs[(endpoint.body, "validation")]
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": schema}},
        }
    return operation


def build_openapi(endpoints: Sequence[Endpoint], base_path: str) -> dict[str, Any]:
    refs, definitions = models_json_schema(_models(endpoints), ref_template=_REF)
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in endpoints:
        paths.setdefault(f"{base_path}{endpoint.path}", {})[endpoint.method.lower()] = _operation(
            endpoint, refs
        )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Nexus admin API",
            "version": "1",
            "description": "Workspace governance for operators and compliance teams. "
            "Every endpoint needs `Authorization: Bearer <key>` from `nexus admin keys create`.",
        },
        "paths": paths,
        "components": {
            "schemas": definitions.get("$defs", {}),
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"apiKey": []}],
    }
