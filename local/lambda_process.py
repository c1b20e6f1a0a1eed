"""The app's Lambda handlers in a second process, as on AWS a function runs apart from the services it calls.

In one process, a case's work (the API request, moto's answers, the workflow's tasks, the stream consumers) ran
on one core at a time: ~150 ms of CPU a case, so 5 creates/s saturated it and requests queued for the GIL
(issue 13). The handlers' own work, their boto3 clients' included, now runs in `python -m local.lambda_runtime`
on the other core, while this process keeps the API, moto, Step Functions and the event sources. The
dispatcher (local/lambdas.py) and the SQS pollers (local/queues.py) call `LambdaProcess.run` instead of the
handler: the process answers with the handler's result, or its failure as Lambda reports one (`FunctionError`).

Calls travel over a Unix socket, one connection per concurrent caller (kept in a pool: a stream consumer's
worker, a Step Functions task, an SQS poller); the process serves each connection on a thread of its own.
The process inherits the environment the app was given (started after it is complete) and logs to the same
stderr. Its AWS calls to the embedded moto come back over a second socket and are answered here as this
process's own are (local/inprocess_aws.py: moto's WSGI app, no HTTP): through moto's HTTP server they cost this
process ~2 ms of CPU each in werkzeug's request handling, as much as the handlers' whole work saved it. If it
dies, the calls in flight fail as a function's crash does ("Runtime.ExitError") and the next call starts it
again; it exits by itself once this process is gone, however it ended (local/lambda_runtime.py)."""
from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from multiprocessing.connection import Client, Connection, Listener
from pathlib import Path
from typing import Any, Callable, Optional

from .inprocess_aws import Answer
from .lambda_runtime import ACCOUNT_VAR, KEY_VAR, PARENT_VAR

# moto's answer to a request (method, URL, headers, body) as it arrives at its server; None: send it over HTTP
AnswerAWS = Callable[[str, str, list[tuple[str, str]], bytes], Optional[Answer]]

START_TIMEOUT = 120.0  # seconds for the process to import the app and listen (a cold machine, a big app)
STOP_TIMEOUT = 5.0
log = logging.getLogger("local.lambdas")


class FunctionError(Exception):
    """A function's failure as Lambda reports it: an error type (the exception's class name, or Lambda's own
    `Runtime.*`) and a message. Its traceback is in the Lambda process's log."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(f"{error_type}: {message}")
        self.error_type, self.message = error_type, message


class LambdaProcess:
    """`start()` once the app's environment is complete; `run()` from any thread; `stop()` at the end."""

    def __init__(self, project_dir: Path, account: str, endpoint: str, answer_aws: Optional[AnswerAWS]) -> None:
        """`endpoint`: the embedded moto's; `answer_aws`: serves the process's calls to it (None: over HTTP)."""
        self.project_dir, self.account, self.endpoint, self._answer_aws = project_dir, account, endpoint, answer_aws
        self._folder = Path(tempfile.mkdtemp(prefix="cms-lambdas-"))  # a short path: AF_UNIX allows ~100 bytes
        self._address = str(self._folder / "socket")
        self._aws_address = str(self._folder / "aws")
        self._aws_listener: Optional[Listener] = None
        self._key = secrets.token_bytes(32)
        self._process: Optional[subprocess.Popen[bytes]] = None
        self._idle: list[Connection] = []  # connections no caller holds now
        self._lock = threading.Lock()  # guards _idle, _process and _stopped
        self._stopped = False

    @property
    def pid(self) -> Optional[int]:
        return self._process.pid if self._process is not None else None

    def start(self) -> "LambdaProcess":
        """Start the process; it imports the app while this one goes on (the first `run` waits for it)."""
        if self._answer_aws is not None:
            self._aws_listener = Listener(self._aws_address, family="AF_UNIX", authkey=self._key)
            threading.Thread(target=self._accept_aws, name="lambda-aws-accept", daemon=True).start()
        with self._lock:
            self._start()
        return self

    def _start(self) -> None:
        Path(self._address).unlink(missing_ok=True)
        env = {**os.environ, KEY_VAR: self._key.hex(), ACCOUNT_VAR: self.account, PARENT_VAR: str(os.getpid())}
        aws = [self._aws_address, self.endpoint] if self._aws_listener is not None else []
        self._process = subprocess.Popen(
            [sys.executable, "-m", "local.lambda_runtime", str(self.project_dir), self._address, *aws],
            env=env, cwd=Path(__file__).resolve().parent.parent, stdin=subprocess.DEVNULL,
        )

    # -- the process's AWS calls -------------------------------------------------------------------

    def _accept_aws(self) -> None:
        listener = self._aws_listener
        assert listener is not None
        while True:
            try:
                connection = listener.accept()
            except Exception:  # noqa: BLE001 - closed by stop(), or a caller without the key: nothing to serve
                if self._stopped:
                    return
                continue
            if self._stopped:
                connection.close()
                return
            threading.Thread(target=self._serve_aws, args=(connection,), name="lambda-aws", daemon=True).start()

    def _serve_aws(self, connection: Connection) -> None:
        """One thread's calls of the Lambda process, one after the other, until it closes the connection."""
        assert self._answer_aws is not None
        with connection:
            while True:
                try:
                    method, url, headers, body = connection.recv()
                except (EOFError, OSError):
                    return
                try:
                    answer = self._answer_aws(method, url, headers, body)
                except Exception:  # the caller sends it over HTTP instead: that one fails or answers the same
                    log.exception("could not answer the Lambda process's %s %s", method, url)
                    answer = None
                try:
                    connection.send(answer)
                except OSError:
                    return

    def run(self, name: str, event: Any, context: dict[str, Any]) -> Any:
        """The result of function `name` on `event` (`context`: function_name, memory_size, timeout and
        function_arn, for the handler's context object); raises FunctionError for the function's failure."""
        process, connection = self._connection()
        try:
            connection.send((name, event, context))
            reply = connection.recv()
        except (EOFError, OSError) as exc:  # the process died with the call in hand
            connection.close()
            self._ended(process)  # so that the next call starts it again
            raise FunctionError("Runtime.ExitError", f"the Lambda process ended during the call ({exc!r})") from None
        except BaseException:  # e.g. an event that cannot be pickled: the connection's state is unknown
            connection.close()
            raise
        with self._lock:
            if process is self._process:
                self._idle.append(connection)
            else:  # stopped, or started again meanwhile
                connection.close()
        if reply[0] == "ok":
            return json.loads(reply[1])
        raise FunctionError(reply[1], reply[2])

    def _connection(self) -> tuple[subprocess.Popen[bytes], Connection]:
        """An idle connection to the running process, or a new one (the process started again if it ended)."""
        with self._lock:
            if self._stopped:
                raise FunctionError("Runtime.Unknown", "the local system is stopping: its Lambda process is gone")
            if self._process is None or self._process.poll() is not None:
                if self._process is not None:
                    log.error("the Lambda process exited (code %s): starting it again", self._process.returncode)
                for connection in self._idle:
                    connection.close()
                self._idle = []
                self._start()
            elif self._idle:
                return self._process, self._idle.pop()
            process = self._process
        assert process is not None
        deadline = time.monotonic() + START_TIMEOUT
        while True:  # the socket appears once the app is imported
            try:
                return process, Client(self._address, family="AF_UNIX", authkey=self._key)
            except (OSError, EOFError):
                if process.poll() is not None:
                    raise FunctionError(
                        "Runtime.ExitError", f"the Lambda process exited (code {process.returncode})",
                    ) from None
                if time.monotonic() > deadline:
                    raise FunctionError("Runtime.Unknown", "the Lambda process did not start in time") from None
                time.sleep(0.05)

    def _ended(self, process: subprocess.Popen[bytes]) -> None:
        """Wait for a process whose connection broke to be gone (one that broke a connection is ended)."""
        try:
            process.wait(1.0)
        except subprocess.TimeoutExpired:
            log.error("a connection to the Lambda process broke while it runs: ending it")
            process.kill()
            process.wait()

    def stop(self) -> None:
        """End the process (calls in flight fail) and remove its socket."""
        with self._lock:
            process, self._process, self._stopped = self._process, None, True
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()
        if self._aws_listener is not None:
            try:  # wakes the accepting thread, which sees the stop
                Client(self._aws_address, family="AF_UNIX", authkey=self._key).close()
            except OSError:
                pass
            self._aws_listener.close()
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(self._folder, ignore_errors=True)
