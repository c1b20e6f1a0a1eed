"""The local system's Lambda process: `python -m local.lambda_runtime PROJECT_DIR ADDRESS [AWS_ADDRESS ENDPOINT]`.

It imports the project's Chalice app with the environment the local system gave it, listens on the Unix
socket ADDRESS (the key in CMS_LAMBDA_KEY) and runs each invocation it is sent on the connection's thread:
(function name, event, context fields) in, ("ok", the result as JSON text) or ("error", type, message) out,
as Lambda reports a function's result or its failure. With AWS_ADDRESS, its botocore requests for the
embedded moto at ENDPOINT go over that socket, one connection per thread, to be answered by the local system's
process without HTTP (local/lambda_process.py says why); without it, or when that process has no answer, over
HTTP. local/lambda_process.py starts it, sends it the work and stops it.
"""
from __future__ import annotations

import importlib
import json
import logging
import os
import sys
import threading
import time
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client, Connection, Listener
from typing import TYPE_CHECKING, Any, Optional
from urllib.parse import urlsplit

from .botocore_handlers import add_to_every_session
from .iam_recorder import ENV_VAR as RECORD_IAM, ActionRecorder
from .inprocess_aws import EVENT as BEFORE_SEND, aws_response, body_bytes, moto_netlocs, sent_headers

if TYPE_CHECKING:  # local/lambdas.py imports local/lambda_process.py, which imports this module's names
    from .lambdas import Run

KEY_VAR = "CMS_LAMBDA_KEY"  # the connections' key (hex), read and removed from the environment at start
ACCOUNT_VAR = "CMS_LAMBDA_ACCOUNT"  # the account the IAM recorder names resources in
PARENT_VAR = "CMS_LAMBDA_PARENT"  # the pid of the local system's process, which started this one
Reply = tuple[Any, ...]  # ("ok", json text) or ("error", error type, message)
log = logging.getLogger("local.lambdas")


def invoke(app: Any, run: Run, name: str, event: Any, context: dict[str, Any]) -> Reply:
    """Run `app`'s handler `name` (with `run`, local/lambdas.py) as Lambda runs a function: its failure is reported,
    not raised."""
    if name not in app.handler_map:
        return ("error", "Runtime.HandlerNotFound", f"the app has no handler named {name!r}")
    try:
        result = run(name, event, context)
    except Exception as exc:  # the function's failure, reported as Lambda does; the caller decides
        log.exception("Lambda %s failed", name)
        return ("error", type(exc).__name__, str(exc))
    try:
        return ("ok", json.dumps(result))
    except (TypeError, ValueError) as exc:
        return ("error", "Runtime.MarshalError", f"Unable to marshal response: {exc}")


def serve(app: Any, run: Run, connection: Connection) -> None:
    """One caller's invocations, one after the other, until it closes the connection."""
    with connection:
        while True:
            try:
                name, event, context = connection.recv()
            except (EOFError, OSError):
                return
            connection.send(invoke(app, run, name, event, context))


class AwsOverSocket:
    """A botocore `before-send` handler: requests for the embedded moto are sent to the local system's process."""

    def __init__(self, address: str, authkey: bytes, endpoint: str) -> None:
        self._address, self._authkey = address, authkey
        self._netlocs = moto_netlocs(urlsplit(endpoint).netloc)
        self._local = threading.local()  # a connection per thread, closed with it

    def on_send(self, request: Any, **_: Any) -> Any:
        url = urlsplit(request.url)
        if url.scheme != "http" or url.netloc not in self._netlocs:
            return None
        try:
            connection = self._connection()
            connection.send((request.method, request.url, sent_headers(request, url.netloc), body_bytes(request.body)))
            answer = connection.recv()
        except (EOFError, OSError):  # the local system is stopping: HTTP answers or fails as it would
            self._local.connection = None
            return None
        return aws_response(request.url, *answer) if answer is not None else None

    def _connection(self) -> Connection:
        connection: Optional[Connection] = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = Client(self._address, family="AF_UNIX", authkey=self._authkey)
        return connection


def end_with_parent(parent: int, interval: float = 1.0) -> None:
    """Exit once the local system's process `parent` is gone (killed, crashed; maybe before this one got here):
    an orphan would hold its memory for ever."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main(argv: list[str]) -> int:
    project_dir, address, *aws = argv
    parent = int(os.environ.pop(PARENT_VAR))
    authkey = bytes.fromhex(os.environ.pop(KEY_VAR))
    from .botocore_models import share_botocore_models
    from .process_setup import set_up_process

    set_up_process()  # before the watch's thread: the arena limit holds for threads started after it
    end_with_parent(parent)
    share_botocore_models()  # before the first boto3 session, as in the local system's own process
    if aws:
        aws_address, endpoint = aws
        add_to_every_session([(BEFORE_SEND, AwsOverSocket(aws_address, authkey, endpoint).on_send)], last=True)
    if os.environ.get(RECORD_IAM):  # the functions' calls are recorded here, where they are made
        region = os.environ.get("AWS_REGION") or os.environ["AWS_DEFAULT_REGION"]
        ActionRecorder(os.environ[RECORD_IAM], region, os.environ.get(ACCOUNT_VAR, "123456789012")).install()
    sys.path.insert(0, project_dir)
    from .lambdas import run_in_process

    app = importlib.import_module("app").app
    run = run_in_process(app)
    with Listener(address, family="AF_UNIX", authkey=authkey) as listener:
        while True:
            try:
                connection = listener.accept()
            except (AuthenticationError, OSError):  # a caller without the key: not the local system's
                log.warning("refused a connection to the Lambda process", exc_info=True)
                continue
            threading.Thread(target=serve, args=(app, run, connection), name="invocations", daemon=True).start()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
