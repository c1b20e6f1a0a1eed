"""The OpenAPI 3.1 document, generated from the routes and the same pydantic models that
validate requests and shape responses, so it cannot drift from the code."""
from __future__ import annotations

import re
from typing import Any, Iterable

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from .web import RouteSpec

_REF = "#/components/schemas/{model}"
_ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"field": {"type": "string"}, "issue": {"type": "string"}},
                    },
                },
            },
        }
    },
}
_ERROR_TEXT = {
    400: "Invalid input; `details` names each field at fault",
    401: "Missing or invalid token",
    403: "Your role may not do this",
    404: "Not found, or not visible to you",
    409: "Conflict: duplicate, idempotency mismatch or illegal transition",
    412: "If-Match names a stale version",
    413: "Body too large",
    415: "The body is not JSON",
    503: "A dependency is unavailable; retry after Retry-After",
}


def build_document(specs: Iterable[RouteSpec], title: str, version: str) -> dict[str, Any]:
    specs = list(specs)
    inputs = {s.body for s in specs if s.body}
    outputs = {s.response for s in specs if s.response}
    keyed: list[tuple[type[BaseModel], Any]] = [(m, "validation") for m in inputs] + [(m, "serialization") for m in outputs]
    refs, defs = models_json_schema(keyed, by_alias=True, ref_template=_REF)
    schemas = {**defs.get("$defs", {}), "Error": _ERROR_SCHEMA}
    paths: dict[str, dict[str, Any]] = {}
    for spec in specs:
        operation: dict[str, Any] = {
            "operationId": spec.operation_id,
            "summary": spec.summary,
            "parameters": _parameters(spec),
            "responses": {str(spec.status): _success(spec, refs)},
        }
        if spec.body:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": refs[(spec.body, "validation")]}},
            }
        implied = {*(() if spec.public else (401, 503)), *((400, 413, 415) if spec.body else ()), *((400,) if spec.query else ())}
        for status in sorted({*spec.errors, *implied}):
            operation["responses"][str(status)] = {
                "description": _ERROR_TEXT[status],
                "content": {"application/json": {"schema": {"$ref": _REF.format(model="Error")}}},
            }
        if not spec.public:
            operation["security"] = [{"cognito": []}]
        paths.setdefault(spec.path, {})[spec.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "cognito": {
                    "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                    "description": "A Cognito ID token of the user pool (the raw token without `Bearer ` works too)",
                }
            },
        },
    }


def _success(spec: RouteSpec, refs: dict[Any, Any]) -> dict[str, Any]:
    response: dict[str, Any] = {"description": spec.summary}
    if spec.response:
        response["content"] = {"application/json": {"schema": refs[(spec.response, "serialization")]}}
    if spec.etag:
        response["headers"] = {"ETag": {"schema": {"type": "string"}, "description": "The case's version"}}
    return response


def _parameters(spec: RouteSpec) -> list[dict[str, Any]]:
    params = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in re.findall(r"{(\w+)}", spec.path)
    ]
    params += [{"name": name, "in": "query", "required": False, "schema": {"type": "string"}} for name in spec.query]
    params += [
        {"name": name, "in": "header", "required": name == "If-Match", "schema": {"type": "string"}}
        for name in spec.headers
    ]
    return params
