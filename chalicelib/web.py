"""The HTTP edge: areas declare routes (`Routes.route`; `Routes.command` for a change that only forwards to one
service method), and one handler authenticates, parses the body into
the declared model, logs, and maps every error to the API's error format. It also records each route, with
the errors it can answer, for OpenAPI."""
from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Generic, Iterable, Mapping, Optional, TypeVar

from chalice import Blueprint, Chalice, CORSConfig, Response
from pydantic import BaseModel
from pydantic.alias_generators import to_camel

from .domain.access import Principal
from .domain.queries import MAX_QUERY_VALUE_CHARS
from .errors import (
    Conflict, DependencyUnavailable, DomainError, FieldIssue, Forbidden, InvalidInput, NotFound,
    PayloadTooLarge, PreconditionFailed, TooManyRequests, Unauthenticated, UnsupportedMediaType,
)
from .observability import logger
from .services.validation import parse

MAX_BODY_BYTES = 64 * 1024
# A cursor is checked by the listing that issued it; every other query value is bounded (domain/queries.py).
_SELF_CHECKED_QUERY = frozenset({"cursor"})
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
    TooManyRequests: (429, "TOO_MANY_REQUESTS"),
    DependencyUnavailable: (503, "SERVICE_UNAVAILABLE"),
}
MAX_PATH_ID_CHARS = 64
_PATH_PARAM = re.compile(rf"^[A-Za-z0-9_-]{{1,{MAX_PATH_ID_CHARS}}}$")
_PATH_PARAMS = re.compile(r"{(\w+)}")
B = TypeVar("B")  # the route's body model; None for routes without a body
# Takes one request from the caller's budgets: theirs for every request, and the route's own if it names one
# (chalicelib/ratelimit.py); raises TooManyRequests when one is spent.
SpendBudget = Callable[[Principal, Optional[str]], None]

CORS = CORSConfig(
    allow_origin="*",
    allow_headers=["Authorization", "Content-Type", "If-Match", "Idempotency-Key"],
    expose_headers=["ETag", "Location", "Retry-After", "X-Request-Id"],
    max_age=600,
)


@dataclass
class Reply:
    """A body with response headers; a view with no headers to add returns the body alone. The status is the
    one the route declares, but for an upsert's creation (201)."""
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    created: bool = False


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
    optional_body: bool = False  # an absent body reads as {} (every field of `body` optional)
    budget: Optional[str] = None  # a budget of its own, beside every request's (e.g. "downloads")
    upsert: bool = False  # a PUT that creates (201) or replaces (200); its If-Match is optional
    query_prefix: Optional[str] = None  # query parameters named by it (`field.<name>`) reach the view too


class ApiRequest(Generic[B]):
    """What a view needs from the request, already checked: the query names, and the body parsed into the
    route's model with the same field-level 400s the services give."""

    def __init__(self, request: Any, principal: Optional[Principal], spec: RouteSpec) -> None:
        self._request = request
        self._principal = principal
        self._query: Mapping[str, str] = request.query_params or {}
        prefix = spec.query_prefix
        unknown = sorted(
            name for name in set(self._query) - set(spec.query) if prefix is None or not name.startswith(prefix)
        )
        if unknown:
            raise InvalidInput(
                "unknown query parameter", [FieldIssue(name, "unknown query parameter") for name in unknown]
            )
        too_long = sorted(
            name for name, value in self._query.items()
            if name not in _SELF_CHECKED_QUERY and len(value) > MAX_QUERY_VALUE_CHARS
        )
        if too_long:
            raise InvalidInput(
                "query parameter too long",
                [FieldIssue(name, f"at most {MAX_QUERY_VALUE_CHARS} characters") for name in too_long],
            )
        self._body = parse(spec.body, _json_body(request, spec.optional_body)) if spec.body else None

    @property
    def principal(self) -> Principal:
        assert self._principal is not None, "public routes have no principal"
        return self._principal

    @property
    def body(self) -> B:
        assert self._body is not None, "the route declares no body"
        return self._body  # type: ignore[return-value]  # parsed as the route's `body` model, which B names

    def query(self, name: str) -> Optional[str]:
        return self._query.get(name)

    def query_prefixed(self, prefix: str) -> dict[str, str]:
        """The query parameters whose names start with `prefix` (the route's `query_prefix`)."""
        return {name: value for name, value in self._query.items() if name.startswith(prefix)}

    def int_query(self, name: str, default: int) -> int:
        raw = self._query.get(name)
        if raw is None:
            return default
        if not re.fullmatch(r"\d{1,9}", raw):
            raise InvalidInput(f"invalid {name}", [FieldIssue(name, "must be a whole number")])
        return int(raw)

    def header(self, name: str) -> Optional[str]:
        return self._request.headers.get(name)


def _json_body(request: Any, optional: bool) -> Any:
    """The JSON body; with `optional`, an absent body reads as {}."""
    if optional and not (request.raw_body or b"").strip():
        return {}
    content_type = (request.headers.get("content-type") or "application/json").split(";")[0].strip()
    if content_type.lower() != "application/json":
        raise UnsupportedMediaType(
            f"send the body as JSON with `Content-Type: application/json`, not {content_type}",
            [FieldIssue("Content-Type", "must be application/json")],
        )
    raw = request.raw_body or b""
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


def answers(
    path: str, *, body: bool, public: bool, query: tuple[str, ...], headers: tuple[str, ...],
    validated_params: tuple[str, ...], raises: tuple[type[DomainError], ...],
) -> tuple[int, ...]:
    """Every status but success a route can answer: what its declaration implies (the edge's own checks),
    plus the domain errors its service raises, each through the one table of statuses."""
    kinds: set[type[DomainError]] = set(raises)
    if not public:
        kinds |= {Unauthenticated, TooManyRequests}
    if body:
        kinds |= {InvalidInput, PayloadTooLarge, UnsupportedMediaType}
    if query or validated_params:
        kinds.add(InvalidInput)
    if "If-Match" in headers:
        kinds |= {InvalidInput, PreconditionFailed}  # absent or malformed; stale
    if _PATH_PARAMS.search(path):
        kinds |= {NotFound, InvalidInput}  # an id that cannot exist or a record the caller may not see; too long
    return tuple(sorted({_status_of(kind)[0] for kind in kinds}))


def error_body(code: str, message: str, details: Iterable[FieldIssue] = ()) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": [d.__dict__ for d in details]}}


def _json_response(body: Any, status: int, headers: Optional[dict[str, str]] = None) -> Response:
    if isinstance(body, BaseModel):
        body = body.model_dump(mode="json", by_alias=True)
    return Response(
        body=json.dumps(body), status_code=status, headers={"Content-Type": "application/json", **(headers or {})},
    )


def _status_of(kind: type[Exception]) -> tuple[int, str]:
    for known, status_and_code in _STATUS.items():
        if issubclass(kind, known):
            return status_and_code
    return 500, "INTERNAL_ERROR"


def error_response(exc: Exception) -> Response:
    status, code = _status_of(type(exc))
    if isinstance(exc, DomainError) and status != 500:
        headers: dict[str, str] = {}
        if isinstance(exc, (DependencyUnavailable, TooManyRequests)):
            headers["Retry-After"] = str(exc.retry_after_seconds)
        if status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        return _json_response(error_body(code, exc.message, exc.details), status, headers)
    logger.exception("unhandled error")
    return _json_response(error_body("INTERNAL_ERROR", "an unexpected error occurred; it has been logged"), 500)


@dataclass(frozen=True)
class _Declared:
    spec: RouteSpec
    view: Callable[..., Any]
    validated_params: tuple[str, ...]


class Routes:
    """One area of the API: its Chalice blueprint and the routes it declares. The `Api` registers them, so the
    authorizer the app chose and one edge (authentication, parsing, error mapping, logging) apply to each."""

    def __init__(self, blueprint: Blueprint) -> None:
        self.blueprint = blueprint
        self.declared: list[_Declared] = []

    def route(
        self, path: str, method: str, *, summary: str, body: Optional[type[BaseModel]] = None,
        optional_body: bool = False, response: Optional[type[BaseModel]] = None, status: int = 200,
        public: bool = False, query: tuple[str, ...] = (), headers: tuple[str, ...] = (),
        raises: tuple[type[DomainError], ...] = (), etag: bool = False, validated_params: tuple[str, ...] = (),
        budget: Optional[str] = None, upsert: bool = False, query_prefix: Optional[str] = None,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """`body`: the model the view receives parsed as `req.body`. `raises`: the domain errors the service can
        raise beyond what the declaration implies (see `answers`). `validated_params`: path parameters the view
        checks itself, answering a bad one with its own 400 instead of the generic 404 for an id that cannot
        exist. `budget`: a request budget the route spends beside every request's (ratelimit.py). `upsert`: a PUT
        whose view answers `Reply(created=True)` (201) when it created the resource. `query_prefix`: query
        parameters named by this prefix are accepted beside `query` (`req.query_prefixed`)."""
        errors = answers(
            path, body=body is not None, public=public, query=query, headers=headers,
            validated_params=validated_params, raises=raises,
        )

        def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
            spec = RouteSpec(
                path, method, summary, view.__name__, body, response, status, public, query, headers, errors, etag,
                optional_body, budget, upsert, query_prefix,
            )
            self.declared.append(_Declared(spec, view, validated_params))
            return view

        return decorator

    def command(
        self, path: str, service_method: Callable[[], Callable[..., Any]], *, name: str, summary: str,
        body: type[BaseModel], response: type[BaseModel], method: str = "POST", status: int = 200,
        optional_body: bool = False, budget: Optional[str] = None,
    ) -> None:
        """Declare a change whose view only forwards: the principal, the path parameters in path order and the
        parsed body go to the service method `service_method` returns when a request comes (the container is
        built on first use, not at import). The service may refuse the caller (403) or find the record in a
        state that refuses the change (409). `name` is the operation's id."""
        params = _PATH_PARAMS.findall(path)

        def view(req: ApiRequest[Any], **path_params: str) -> Any:
            return service_method()(req.principal, *(path_params[param] for param in params), req.body)

        view.__name__ = name
        self.route(
            path, method, summary=summary, body=body, optional_body=optional_body, response=response, status=status,
            raises=(Forbidden, Conflict), budget=budget,
        )(view)


def _check_path_params(params: Mapping[str, str], validated_params: tuple[str, ...]) -> None:
    """An id longer than any id is a 400 naming it, as an over-long id in a body is; any other id outside the
    pattern is one that cannot exist: 404, as for an id that is not there."""
    unchecked = {name: value or "" for name, value in params.items() if name not in validated_params}
    too_long = sorted(name for name, value in unchecked.items() if len(value) > MAX_PATH_ID_CHARS)
    if too_long:
        raise InvalidInput(
            "path identifier too long",
            [FieldIssue(to_camel(name), f"at most {MAX_PATH_ID_CHARS} characters") for name in too_long],
        )
    for name, value in unchecked.items():
        if not _PATH_PARAM.match(value):
            raise NotFound(f"no {name} {value!r}")


class Api:
    """Registers each area's routes on the Chalice app so every route is authenticated, parsed, logged and
    error-mapped the same way; keeps their specs for the OpenAPI document."""

    def __init__(
        self, app: Chalice, authorizer: Any, authenticate: Callable[[Any], Principal],
        spend: Optional[SpendBudget] = None,
    ) -> None:
        self.app, self._authorizer, self._authenticate, self._spend = app, authorizer, authenticate, spend
        self.specs: list[RouteSpec] = []

    def register(self, *areas: Routes) -> None:
        for area in areas:
            for declared in area.declared:
                self._add(area.blueprint, declared)
            self.app.register_blueprint(area.blueprint)

    def _add(self, blueprint: Blueprint, declared: _Declared) -> None:
        spec = declared.spec

        def handler(**path_params: str) -> Response:
            return self._handle(declared.view, spec, path_params, declared.validated_params)

        handler.__name__ = spec.operation_id
        options: dict[str, Any] = {"methods": [spec.method], "cors": CORS}
        if spec.body is not None:
            options["content_types"] = _ACCEPTED_CONTENT_TYPES
        if not spec.public and self._authorizer is not None:
            options["authorizer"] = self._authorizer
        blueprint.route(spec.path, **options)(handler)
        self.specs.append(spec)

    def _handle(
        self, view: Callable[..., Any], spec: RouteSpec, params: dict[str, str], validated_params: tuple[str, ...],
    ) -> Response:
        request = self.app.current_request
        assert request is not None, "Chalice sets the request before it calls a route"
        started = time.perf_counter()
        context = request.context or {}
        request_id = context.get("requestId") or getattr(self.app.lambda_context, "aws_request_id", None)
        logger.thread_safe_append_keys(request_id=request_id, method=request.method, path=context.get("resourcePath"))
        try:
            principal = None if spec.public else self._authenticate(request)
            if principal is not None:
                logger.thread_safe_append_keys(user=principal.username)
                if self._spend is not None:  # before anything else is read: refused requests cost nothing more
                    self._spend(principal, spec.budget)
            _check_path_params(params, validated_params)
            if "case_id" in params:
                logger.thread_safe_append_keys(case_id=params["case_id"])
            reply = view(ApiRequest(request, principal, spec), **params)
            if not isinstance(reply, Reply):
                reply = Reply(reply)
            response = _json_response(reply.body, 201 if reply.created else spec.status, reply.headers)
        except Exception as exc:  # noqa: BLE001 - one place maps every error to HTTP (error_response logs the unknown)
            response = error_response(exc)
        if request_id:
            response.headers["X-Request-Id"] = request_id  # quote it when reporting a problem
        logger.info(
            "request handled", status=response.status_code,
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
        )
        logger.thread_safe_remove_keys(["request_id", "method", "path", "user", "case_id"])
        return response
