"""Fault injection for the local system's in-process Lambda functions (tests only; never shipped).

A `FaultRegistry` lives on the `LambdaDispatcher`: a fault makes the next `times` invocations of one
function (optionally only those whose event names one `caseId`) fail with `error` as an unhandled
function error — what AWS Lambda reports when the handler raises — so Step Functions' Retry and Catch
run exactly as they would for a real failure:

    {"function": "wf_assign", "times": 1, "error": "DependencyUnavailable"}

`times` -1 fails every invocation until cleared. `when` "before" (the default) fails before the handler
runs, so nothing happened; "after" runs the handler and then fails, as when a function did its work but
its response was lost (a timeout), which exercises idempotency and the saga's undo.

Over HTTP, on the embedded moto server (next to the drain route):
    POST   <awsEndpoint>/_local/lambda/faults   body as above (or a list of them) → 201 and all faults
    GET    <awsEndpoint>/_local/lambda/faults   → {"faults": [...], "fired": [...]}
    DELETE <awsEndpoint>/_local/lambda/faults   clears every fault (`?function=<name>` only that one's)
"""
from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Optional
from urllib.parse import parse_qs

if TYPE_CHECKING:
    from .lambdas import LambdaDispatcher

PATH = "/_local/lambda/faults"
DEFAULT_ERROR = "DependencyUnavailable"
WHEN = ("before", "after")
_FIRED_KEPT = 200
_MAX_BODY = 64 * 1024


class FaultError(ValueError):
    """A fault that cannot be registered as given."""


@dataclass
class Fault:
    function: str
    times: int  # invocations still to fail; -1: all of them
    error: str = DEFAULT_ERROR
    message: str = ""
    case_id: Optional[str] = None  # only invocations whose event has this caseId
    when: str = "before"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["caseId"] = data.pop("case_id")
        return data


@dataclass(frozen=True)
class Fired:
    """One invocation a fault failed."""

    function: str
    error: str
    case_id: Optional[str]
    when: str

    def to_dict(self) -> dict[str, Any]:
        return {"function": self.function, "error": self.error, "caseId": self.case_id, "when": self.when}


def parse_fault(body: Any, known: Optional[Iterable[str]] = None) -> Fault:
    if not isinstance(body, Mapping):
        raise FaultError("a fault is a JSON object: {\"function\", \"times\", \"error\"}")
    unknown = set(body) - {"function", "times", "error", "message", "caseId", "when"}
    if unknown:
        raise FaultError(f"unknown fault fields: {sorted(unknown)}")
    function = body.get("function")
    if not isinstance(function, str) or not function:
        raise FaultError("`function` (a Lambda function name) is required")
    names = set(known) if known is not None else None
    if names is not None and function not in names:
        raise FaultError(f"no Lambda function named {function!r}; known: {sorted(names)}")
    times = body.get("times", 1)
    if isinstance(times, bool) or not isinstance(times, int) or (times < 1 and times != -1):
        raise FaultError("`times` is a positive integer, or -1 for always")
    error = body.get("error", DEFAULT_ERROR)
    if not isinstance(error, str) or not error:
        raise FaultError("`error` is the error type to report, e.g. \"DependencyUnavailable\"")
    message = body.get("message", "")
    case_id = body.get("caseId")
    when = body.get("when", "before")
    if not isinstance(message, str) or (case_id is not None and not isinstance(case_id, str)):
        raise FaultError("`message` and `caseId` are strings")
    if when not in WHEN:
        raise FaultError(f"`when` is one of {WHEN}")
    return Fault(function, times, error, message, case_id, when)


class FaultRegistry:
    """Thread-safe: Step Functions executions invoke functions from their own threads."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._fired: deque[Fired] = deque(maxlen=_FIRED_KEPT)
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self, function: Optional[str] = None) -> int:
        """Remove every fault (or those of one function); returns how many were removed."""
        with self._lock:
            kept = [f for f in self._faults if function is not None and f.function != function]
            removed = len(self._faults) - len(kept)
            self._faults = kept
            if function is None:
                self._fired.clear()
            return removed

    def take(self, function: str, event: Any, when: str = "before") -> Optional[Fault]:
        """The fault that fails this invocation at `when`, counted down; None when it runs normally."""
        if not self._faults:  # the common case, without the lock
            return None
        case_id = event.get("caseId") if isinstance(event, Mapping) else None
        with self._lock:
            for fault in self._faults:
                if fault.function != function or fault.when != when:
                    continue
                if fault.case_id is not None and fault.case_id != case_id:
                    continue
                if fault.times > 0:
                    fault.times -= 1
                    if fault.times == 0:
                        self._faults.remove(fault)
                self._fired.append(Fired(function, fault.error, case_id if isinstance(case_id, str) else None, when))
                return fault
        return None

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"faults": [f.to_dict() for f in self._faults], "fired": [f.to_dict() for f in self._fired]}


def fault_message(fault: Fault) -> str:
    return fault.message or f"fault injected by the local system ({fault.when} the handler ran)"


class FaultsRoute:
    """WSGI middleware in front of moto's app that serves PATH."""

    def __init__(self, app: Callable[..., Iterable[bytes]], dispatcher: "LambdaDispatcher") -> None:
        self._app, self._dispatcher = app, dispatcher

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != PATH:
            return self._app(environ, start_response)
        registry = self._dispatcher.faults
        method = environ.get("REQUEST_METHOD", "GET")
        if method == "GET":
            return _reply(start_response, "200 OK", registry.snapshot())
        if method == "DELETE":
            function = parse_qs(environ.get("QUERY_STRING", "")).get("function", [None])[0]
            removed = registry.clear(function)
            return _reply(start_response, "200 OK", {"removed": removed, **registry.snapshot()})
        if method == "POST":
            try:
                body = json.loads(_read_body(environ) or b"null")
                items = body if isinstance(body, list) else [body]
                known = self._dispatcher.app.handler_map
                faults = [parse_fault(item, known) for item in items]
            except (ValueError, FaultError) as exc:  # JSONDecodeError is a ValueError
                return _reply(start_response, "400 Bad Request", {"error": str(exc)})
            for fault in faults:
                registry.add(fault)
            return _reply(start_response, "201 Created", registry.snapshot())
        return _reply(start_response, "405 Method Not Allowed", {"error": f"{method} is not allowed on {PATH}"})


def _read_body(environ: dict[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return bytes(environ["wsgi.input"].read(min(length, _MAX_BODY))) if length > 0 else b""


def _reply(start_response: Callable[..., Any], status: str, payload: dict[str, Any]) -> list[bytes]:
    body = json.dumps(payload).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def add_faults_route(server: Any, dispatcher: "LambdaDispatcher") -> None:
    """Wrap a started `ThreadedMotoServer` (pinned moto 5.2.5: `server._server.app`)."""
    server._server.app = FaultsRoute(server._server.app, dispatcher)
