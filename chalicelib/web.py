"""The HTTP edge: one route decorator that parses, authenticates, logs, and maps every
error to the API's error format in one place. It also records each route for OpenAPI."""
from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional

from chalice import Chalice, CORSConfig, Response
from pydantic import BaseModel

from .domain.access import Principal
from .errors import (
    Conflict, DependencyUnavailable, DomainError, FieldIssue, Forbidden, InvalidInput, NotFound,
    PayloadTooLarge, PreconditionFailed, Unauthenticated, UnsupportedMediaType,
)
from .observability import logger

MAX_BODY_BYTES = 64 * 1024
# Chalice answers other content types with its own 415 body; these common mistakes (curl -d without
# a Content-Type header sends a form) reach our handler and get a 415 in the API's error format.
_ACCEPTED_CONTENT_TYPES = ["application/json", "application/x-www-form-urlencoded", "text/plain"]

_STATUS: dict[type[DomainError], tuple[int, str]] = {
    InvalidInput: (400, "VALIDATION_ERROR"),
    Unauthenticated: (401, "UNAUTHORIZED"),
    Forbidden: (403, "FORBIDDEN"),
    NotFound: (404, "NOT_FOUND"),
    Conflict: (409, "CONFLICT"),
    PreconditionFailed: (412, "PRECONDITION_FAILED"),
    PayloadTooLarge: (413, "PAYLOAD_TOO_LARGE"),
    UnsupportedMediaType: (415, "UNSUPPORTED_MEDIA_TYPE"),
    DependencyUnavailable: (503, "SERVICE_UNAVAILABLE"),
}
_PATH_PARAM = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

CORS = CORSConfig(
    allow_origin="*",
    allow_headers=["Authorization", "Content-Type", "If-Match", "Idempotency-Key"],
    expose_headers=["ETag", "Location", "Retry-After", "X-Request-Id"],
    max_age=600,
)


@dataclass
class Reply:
    body: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RouteSpec:
    path: str
    method: str
    summary: str
    operation_id: str
    body: Optional[type[BaseModel]]
    response: Optional[type[BaseModel]]
    status: int
    public: bool
    query: tuple[str, ...]
    headers: tuple[str, ...]  # request headers the route reads
    errors: tuple[int, ...]
    etag: bool  # the response carries the resource's version as ETag


class ApiRequest:
    """What a view needs from the request, already checked."""

    def __init__(self, request: Any, principal: Optional[Principal], allowed_query: tuple[str, ...]) -> None:
        self._request = request
        self._principal = principal
        self._query: Mapping[str, str] = request.query_params or {}
        unknown = sorted(set(self._query) - set(allowed_query))
        if unknown:
            raise InvalidInput(
                "unknown query parameter", [FieldIssue(name, "unknown query parameter") for name in unknown]
            )

    @property
    def principal(self) -> Principal:
        assert self._principal is not None, "public routes have no principal"
        return self._principal

    def query(self, name: str) -> Optional[str]:
        return self._query.get(name)

    def int_query(self, name: str, default: int) -> int:
        raw = self._query.get(name)
        if raw is None:
            return default
        if not re.fullmatch(r"\d{1,9}", raw):
            raise InvalidInput(f"invalid {name}", [FieldIssue(name, "must be a whole number")])
        return int(raw)

    def header(self, name: str) -> Optional[str]:
        return self._request.headers.get(name)

    def json(self, optional: bool = False) -> Any:
        """The JSON body; with `optional`, an absent body (every field optional) reads as {}."""
        if optional and not (self._request.raw_body or b"").strip():
            return {}
        content_type = (self._request.headers.get("content-type") or "application/json").split(";")[0].strip()
        if content_type.lower() != "application/json":
            raise UnsupportedMediaType(
                f"send the body as JSON with `Content-Type: application/json`, not {content_type}",
                [FieldIssue("Content-Type", "must be application/json")],
            )
        raw = self._request.raw_body or b""
        if len(raw) > MAX_BODY_BYTES:
            raise PayloadTooLarge(f"the request body is larger than {MAX_BODY_BYTES} bytes")
        if not raw.strip():
            raise InvalidInput("a JSON body is required", [FieldIssue("body", "required")])
        try:
            return json.loads(raw)
        except RecursionError:
            raise InvalidInput("the JSON body is nested too deeply", [FieldIssue("body", "nested too deeply")]) from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidInput("the body is not valid JSON", [FieldIssue("body", str(exc)[:200])]) from None


def error_body(code: str, message: str, details: list[FieldIssue] = ()) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": [d.__dict__ for d in details]}}


def _json_response(body: Any, status: int, headers: Optional[dict[str, str]] = None) -> Response:
    if isinstance(body, BaseModel):
        body = body.model_dump(mode="json", by_alias=True)
    return Response(body=json.dumps(body), status_code=status, headers={"Content-Type": "application/json", **(headers or {})})


def error_response(exc: Exception) -> Response:
    for kind, (status, code) in _STATUS.items():
        if isinstance(exc, kind):
            headers = {"Retry-After": str(exc.retry_after_seconds)} if isinstance(exc, DependencyUnavailable) else {}
            if status == 401:
                headers["WWW-Authenticate"] = "Bearer"
            return _json_response(error_body(code, exc.message, exc.details), status, headers)
    logger.exception("unhandled error")
    return _json_response(error_body("INTERNAL_ERROR", "an unexpected error occurred; it has been logged"), 500)


class Api:
    """Wraps a Chalice app so every route is authenticated, logged and error-mapped the same way."""

    def __init__(self, app: Chalice, authorizer: Any, authenticate: Callable[[Any], Principal]) -> None:
        self.app, self._authorizer, self._authenticate = app, authorizer, authenticate
        self.specs: list[RouteSpec] = []

    def route(
        self, path: str, method: str, *, summary: str, body: Optional[type[BaseModel]] = None,
        response: Optional[type[BaseModel]] = None, status: int = 200, public: bool = False,
        query: tuple[str, ...] = (), headers: tuple[str, ...] = (), errors: tuple[int, ...] = (),
        etag: bool = False, validated_params: tuple[str, ...] = (),
    ) -> Callable[[Callable[..., Reply]], Callable[..., Response]]:
        """`validated_params`: path parameters the view checks itself, answering a bad one with its own 400
        instead of the generic 404 for an id that cannot exist."""
        def decorator(view: Callable[..., Reply]) -> Callable[..., Response]:
            self.specs.append(
                RouteSpec(
                    path, method, summary, view.__name__, body, response, status, public, query, headers, errors, etag
                )
            )

            def handler(**path_params: str) -> Response:
                return self._handle(view, public, query, path_params, validated_params)

            handler.__name__ = view.__name__
            options: dict[str, Any] = {"methods": [method], "cors": CORS}
            if body is not None:
                options["content_types"] = _ACCEPTED_CONTENT_TYPES
            if not public and self._authorizer is not None:
                options["authorizer"] = self._authorizer
            self.app.route(path, **options)(handler)
            return handler

        return decorator

    def _handle(
        self, view: Callable[..., Reply], public: bool, query: tuple[str, ...], params: dict[str, str],
        validated_params: tuple[str, ...] = (),
    ) -> Response:
        request = self.app.current_request
        started = time.perf_counter()
        context = request.context or {}
        request_id = context.get("requestId") or getattr(self.app.lambda_context, "aws_request_id", None)
        logger.thread_safe_append_keys(request_id=request_id, method=request.method, path=context.get("resourcePath"))
        try:
            principal = None if public else self._authenticate(request)
            if principal is not None:
                logger.thread_safe_append_keys(user=principal.username)
            for name, value in params.items():
                if name not in validated_params and not _PATH_PARAM.match(value or ""):
                    raise NotFound(f"no {name} {value[:64]!r}")
            if "case_id" in params:
                logger.thread_safe_append_keys(case_id=params["case_id"])
            reply = view(ApiRequest(request, principal, query), **params)
            response = _json_response(reply.body, reply.status, reply.headers)
        except Exception as exc:  # one place maps every error to HTTP
            response = error_response(exc)
        if request_id:
            response.headers["X-Request-Id"] = request_id  # quote it when reporting a problem
        logger.info(
            "request handled", status=response.status_code,
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
        )
        logger.thread_safe_remove_keys(["request_id", "method", "path", "user", "case_id"])
        return response
