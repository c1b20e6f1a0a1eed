"""The OpenAPI 3.1 document, generated from the routes and the same pydantic models that
validate requests and shape responses, so it cannot drift from the code."""
from __future__ import annotations

import re
from typing import Any, Iterable

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from .domain.calendars import CALENDAR_ID
from .domain.customers import CUSTOMER_ID
from .domain.case_types import VERSION_NUMBER
from .domain.notifications import NotificationListQuery
from .domain.queries import (
    ApprovalListQuery, CaseListQuery, CaseReadQuery, DownloadQuery, PageQuery, PersonnelQuery, TaskListQuery,
)
from .web import _PATH_PARAM, RouteSpec

# The rules of each listing's query parameters (checked by its service), by route.
QUERY_MODELS: dict[tuple[str, str], type[BaseModel]] = {
    ("GET", "/case-types"): PageQuery,
    ("GET", "/cases"): CaseListQuery,
    ("GET", "/cases/{case_id}"): CaseReadQuery,
    ("GET", "/tasks"): TaskListQuery,
    ("GET", "/approvals"): ApprovalListQuery,
    ("GET", "/personnel"): PersonnelQuery,
    ("GET", "/cases/{case_id}/comments"): PageQuery,
    ("GET", "/cases/{case_id}/history"): PageQuery,
    ("GET", "/cases/{case_id}/documents"): PageQuery,
    ("GET", "/cases/{case_id}/documents/{document_id}/download"): DownloadQuery,
    ("GET", "/notifications"): NotificationListQuery,
    ("GET", "/calendars"): PageQuery,
    ("GET", "/webhooks/{webhook_id}/deliveries"): PageQuery,
}
_VALIDATED_PATH_PARAMS = {
    "customer_id": CUSTOMER_ID.pattern, "calendar_id": CALENDAR_ID.pattern, "version": VERSION_NUMBER.pattern,
}
_HEADERS: dict[str, dict[str, Any]] = {
    # services/cases.py: the case's ETag, quoted or not, weak or not; any other value is a 400.
    "If-Match": {"type": "string", "pattern": r'^[ \t]*(W/)?"*[0-9]+"*[ \t]*$', "description": 'the ETag, e.g. "3"'},
    # services/cases.py: 1 to 128 printable characters (a header carries Latin-1).
    "Idempotency-Key": {
        "type": "string", "pattern": r"^[\x20-\x7e\xa1-\xac\xae-\xff]{1,128}$",
        "description": "the same key with the same body returns the same case",
    },
}

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
    429: "Your request budget is spent; retry after Retry-After",
    503: "A dependency is unavailable; retry after Retry-After",
}


def build_document(specs: Iterable[RouteSpec], title: str, version: str) -> dict[str, Any]:
    specs = list(specs)
    inputs = {s.body for s in specs if s.body}
    outputs = {s.response for s in specs if s.response}
    keyed: list[tuple[type[BaseModel], Any]] = [(m, "validation") for m in inputs]
    keyed += [(m, "serialization") for m in outputs]
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
        if spec.upsert:
            operation["responses"]["201"] = _success(spec, refs)
        if spec.body:
            operation["requestBody"] = {
                "required": not spec.optional_body,  # an absent optional body reads as {}
                "content": {"application/json": {"schema": refs[(spec.body, "validation")]}},
            }
        implied = {
            *(() if spec.public else (401, 503)), *((400, 413, 415) if spec.body else ()),
            *((400,) if spec.query else ()),
            *((404,) if "{" in spec.path else ()),  # web.py answers 404 to a path parameter outside its pattern
        }
        for status in sorted({*spec.errors, *implied}):
            operation["responses"][str(status)] = {
                "description": _ERROR_TEXT[status],
                "content": {"application/json": {"schema": {"$ref": _REF.format(model="Error")}}},
            }
        if not spec.public:
            operation["security"] = [{"cognito": []}]
        links = _links(spec, specs)
        if links:
            operation["responses"][str(spec.status)]["links"] = links
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


def _links(created_by: RouteSpec, specs: list[RouteSpec]) -> dict[str, Any]:
    """From a POST that creates a resource (201) to every operation on it: its id from the response body,
    the other path parameters from the request."""
    if created_by.method != "POST" or created_by.status != 201 or created_by.response is None:
        return {}
    fields = {f.alias or name for name, f in created_by.response.model_fields.items()}
    links = {}
    for spec in specs:
        found = re.match(re.escape(created_by.path) + r"/{(\w+)}", spec.path)
        if not found:
            continue
        param = found.group(1)
        field = next((f for f in (_camel(param), "id") if f in fields), None)
        if field is None:
            continue
        parameters = {name: f"$request.path.{name}" for name in re.findall(r"{(\w+)}", created_by.path)}
        links[spec.operation_id] = {
            "operationId": spec.operation_id, "parameters": {**parameters, param: f"$response.body#/{field}"},
        }
    return links


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _success(spec: RouteSpec, refs: dict[Any, Any]) -> dict[str, Any]:
    response: dict[str, Any] = {"description": spec.summary}
    if spec.response:
        response["content"] = {"application/json": {"schema": refs[(spec.response, "serialization")]}}
    if spec.etag:
        response["headers"] = {"ETag": {"schema": {"type": "string"}, "description": "The case's version"}}
    return response


def _parameters(spec: RouteSpec) -> list[dict[str, Any]]:
    params = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string", "pattern": _path_pattern(name)}}
        for name in re.findall(r"{(\w+)}", spec.path)
    ]
    query = _query_schemas(spec)
    params += [{"name": name, "in": "query", "required": False, "schema": query[name]} for name in spec.query]
    params += [
        {"name": name, "in": "header", "required": name == "If-Match" and not spec.upsert, "schema": _HEADERS[name]}
        for name in spec.headers
    ]
    return params


def _path_pattern(name: str) -> str:
    """web.py answers 404 to an id outside _PATH_PARAM; a view that checks its parameter itself answers 400."""
    return _VALIDATED_PATH_PARAMS.get(name, _PATH_PARAM.pattern)


def _query_schemas(spec: RouteSpec) -> dict[str, dict[str, Any]]:
    model = QUERY_MODELS.get((spec.method, spec.path))
    if model is None:
        return {name: {"type": "string"} for name in spec.query}
    schema = model.model_json_schema(by_alias=True)
    defs = schema.get("$defs", {})
    return {name: _without_null(prop, defs) for name, prop in schema["properties"].items()}


def _without_null(prop: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is absent or a value, never null: the value's schema, its $ref inlined."""
    prop = {k: v for k, v in prop.items() if k not in ("default", "title")}
    branches = [b for b in prop.pop("anyOf", [prop]) if b.get("type") != "null"]
    value = dict(branches[0]) if len(branches) == 1 else {"anyOf": branches}
    ref = value.pop("$ref", None)
    if isinstance(ref, str):
        value = {k: v for k, v in defs[ref.rsplit("/", 1)[1]].items() if k != "title"}
    return {**value, **{k: v for k, v in prop.items() if k != "$ref"}}
