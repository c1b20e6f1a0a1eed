"""`GET <aws endpoint>/_local/lambda/drain?timeout=<s>` on the embedded moto server: waits until the
in-process Lambda dispatcher has handled every queued stream batch. End-to-end tests drive the local
system in another process, so this is how they wait for stream handlers (not for the Step Functions
executions those handlers start: poll the execution or the case for that)."""
from __future__ import annotations

import json
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs

from .lambdas import LambdaDispatcher

PATH = "/_local/lambda/drain"
MAX_TIMEOUT = 120.0


class DrainRoute:
    def __init__(self, app: Callable[..., Iterable[bytes]], dispatcher: LambdaDispatcher) -> None:
        self._app, self._dispatcher = app, dispatcher

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != PATH:
            return self._app(environ, start_response)
        try:
            timeout = min(float(parse_qs(environ.get("QUERY_STRING", "")).get("timeout", ["30"])[0]), MAX_TIMEOUT)
        except ValueError:
            timeout = 30.0
        drained = self._dispatcher.drain(timeout)
        stats = self._dispatcher.stats
        body = json.dumps({
            "drained": drained, "pending": self._dispatcher.pending, "invoked": stats.invoked,
            "delivered": stats.delivered, "duplicates": stats.duplicates, "failures": stats.failures,
            "errors": list(stats.errors),
        }).encode()
        start_response("200 OK" if drained else "504 Gateway Timeout",
                       [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]


def add_drain_route(server: Any, dispatcher: LambdaDispatcher) -> None:
    """Wrap a started `ThreadedMotoServer` (pinned moto 5.2.5: `server._server.app`)."""
    server._server.app = DrainRoute(server._server.app, dispatcher)
