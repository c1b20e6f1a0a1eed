"""AWS calls the local system's own process makes to its embedded moto, served without HTTP.

Every Lambda handler, SQS poller, the provisioning and moto's Step Functions tasks run in the process that
serves moto, and called it over loopback HTTP: ~30 requests per created case at ~2.3 ms of CPU each in
sockets, werkzeug's server (a thread per request), urllib3 and HTTP parsing (CMS_LOCAL_COSTS, issue 13).
A botocore `before-send` handler now hands a request for the embedded moto's host and port to the moto
server's WSGI app on the caller's thread and returns its answer as the response (botocore then skips HTTP:
signing, retries and parsing stay botocore's). The environ is the one werkzeug's dev server builds for the same
request (`WSGIRequestHandler.make_environ`, with moto's `MotoRequestHandler` additions) after urllib3 and
http.client have added their headers, so moto infers the same service and answers the same; the app is the
server's current one (DynamoDB's lock and the drain/faults/mail routes of local/*.py wrap it). The response
gets the headers the server adds, an app's exception becomes werkzeug's 500 page, and a HEAD, 204 or 304 has
no body, as http.client reads them.

moto runs in an empty context, as on a server thread: the caller's context variables (the function
local/iam_recorder.py attributes calls to) do not reach moto's own calls made inside the request, e.g. the
S3 notification's version look-up (local/functions.py) inside an upload. No moto request here makes a DynamoDB
call on its thread while it holds the DynamoDB lock: stream records are queued to the Lambda workers
(local/lambdas.py), as they were when a server thread held the lock.

Other processes (the tests' clients, the CLI, the Fargate runner, a browser) keep the HTTP server, which
keeps running. `CMS_LOCAL_AWS_OVER_HTTP=1` keeps this process's calls on HTTP too, to compare the two."""
from __future__ import annotations

import contextvars
import io
import logging
import os
import sys
import time
from email.utils import formatdate
from importlib.metadata import version
from typing import Any, Callable, Iterable, Iterator, Optional
from urllib.parse import unquote, urlparse, urlsplit

from .botocore_handlers import add_to_every_session, remove_from_every_session

ENV_VAR = "CMS_LOCAL_AWS_OVER_HTTP"  # "1": the process's own AWS calls go over HTTP as well
EVENT = "before-send"
NO_BODY_STATUSES = frozenset({204, 304})  # with 1xx and HEAD: http.client reads no body
SOURCE_PINS = {  # sha256 of inspect.getsource(): the code whose request and response this module reproduces
    "WSGIRequestHandler.make_environ": "5aa026f5fa8ca3c20e7be737c7b2a8f6b9027896ea2140db2a935f323614eeb9",
    "WSGIRequestHandler.run_wsgi": "774df60c75afd4396369c92537c0fa6644c846102bc4afe2b2017280db69872b",
    "MotoRequestHandler.make_environ": "42a8722acc21894aaf24b1ecaba8830bd3ff658249f1157b454f1f0d13ecec63",
    "URLLib3Session._path_url": "a8d01130524b65133280ce240cd9c9e4fe69ae2631a9da756098e0616306f2fb",
    "URLLib3Session.send": "e9e5027655943f6932b4b1cba68422a8bbcfd3c7de1831e025255e997a43841d",
    "HTTPConnection.request": "751c8aa0eb50e741d66f4a78eee02bbb20815e63b72a895b9e96f0d3f8446fa5",
}
log = logging.getLogger("werkzeug")  # where werkzeug's server logs an app's exception
Answer = tuple[int, list[tuple[str, str]], bytes]  # status, headers, body


class InProcessAWS:
    """`install()` before the first client is built (clients of earlier sessions keep HTTP); `uninstall()` at
    the stop: sessions created before still have the handler, which then leaves every request to HTTP."""

    def __init__(self, server: Any) -> None:
        """`server`: the started werkzeug server of a `ThreadedMotoServer` (pinned moto 5.2.5: `._server`)."""
        self.server: Optional[Any] = server  # None once uninstalled
        host, port = server.server_address[:2]
        self._netlocs = moto_netlocs(f"{host}:{port}")
        self._server_name, self._server_port = str(host), str(port)
        # what the server's handler sends as SERVER_SOFTWARE, and as `Server` (BaseHTTPRequestHandler.version_string)
        self._software = f"Werkzeug/{version('werkzeug')}"
        self._server_version = f"{self._software} Python/{sys.version.split()[0]}"

    def install(self) -> "InProcessAWS":
        add_to_every_session(self._handlers(), last=True)  # after any handler that still adds headers
        return self

    def uninstall(self) -> None:
        self.server = None
        remove_from_every_session(self._handlers())

    def _handlers(self) -> list[tuple[str, Callable[..., Any]]]:
        return [(EVENT, self.on_send)]

    def on_send(self, request: Any, **_: Any) -> Any:
        url = urlsplit(request.url)
        if self.server is None or url.scheme != "http" or url.netloc not in self._netlocs:
            return None  # another host (or the server has stopped): sent over HTTP by botocore
        answer = self.answer(request.method, request.url, sent_headers(request, url.netloc), body_bytes(request.body))
        return aws_response(request.url, *answer) if answer is not None else None

    def answer(self, method: str, url: str, headers: list[tuple[str, str]], body: bytes) -> Optional[Answer]:
        """moto's (status, headers, body) for a request as it arrives at the server; None once uninstalled.
        Also what the Lambda process's calls get (local/lambda_process.py)."""
        server = self.server
        if server is None:
            return None
        environ = self.environ(method, url, headers, body)
        status, answer_headers, content = contextvars.Context().run(_call, server.app, environ, self._server_version)
        if method == "HEAD" or status < 200 or status in NO_BODY_STATUSES:
            content = b""
        return status, answer_headers, content

    def environ(self, method: str, url: str, headers: list[tuple[str, str]], body: bytes) -> dict[str, Any]:
        """What werkzeug's `WSGIRequestHandler.make_environ` and moto's `MotoRequestHandler.make_environ`
        (moto/moto_server/werkzeug_app.py) build for the request botocore's urllib3 would send (werkzeug 3.1)."""
        from moto.core.request import (
            PRESERVED_HEADER_NAMES_ENVIRON_KEY, environ_key_for_header, should_preserve_original_header_name,
        )

        target = _request_target(url)
        request_url = urlsplit(target)
        path_info = f"/{request_url.netloc}{request_url.path}" if request_url.netloc else request_url.path
        environ: dict[str, Any] = {
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "SERVER_SOFTWARE": self._software,
            "REQUEST_METHOD": method,
            "SCRIPT_NAME": "",
            "PATH_INFO": _wsgi_encoding_dance(unquote(path_info)),
            "QUERY_STRING": _wsgi_encoding_dance(request_url.query),
            "REQUEST_URI": _wsgi_encoding_dance(target),
            "RAW_URI": _wsgi_encoding_dance(target),
            "REMOTE_ADDR": "127.0.0.1",
            "REMOTE_PORT": 0,  # no socket, no client port
            "SERVER_NAME": self._server_name,
            "SERVER_PORT": self._server_port,
            "SERVER_PROTOCOL": "HTTP/1.1",
        }
        for name, value in headers:
            if "_" in name:
                continue
            key = environ_key_for_header(name)
            value = value.replace("\r\n", "")
            if key not in ("CONTENT_TYPE", "CONTENT_LENGTH") and key in environ:
                value = f"{environ[key]},{value}"
            environ[key] = value
        if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            environ["wsgi.input_terminated"] = True  # the body is already whole: no chunks to undo
        dashed = {environ_key_for_header(name) for name, _ in headers if "_" not in name}
        names: dict[str, str] = {}
        values: dict[str, list[str]] = {}
        for name, value in headers:  # S3 metadata names keep their underscores (moto's handler)
            if not should_preserve_original_header_name(name):
                continue
            key = environ_key_for_header(name)
            if key in dashed:
                continue
            names.setdefault(key, name)
            values.setdefault(key, []).append(value.replace("\r\n", ""))
        for key, key_values in values.items():
            environ[key] = ",".join(key_values)
        environ[PRESERVED_HEADER_NAMES_ENVIRON_KEY] = names
        return environ


def install_for(server: Any) -> Optional[InProcessAWS]:
    """In-process calls to `server` (a started werkzeug server of a `ThreadedMotoServer`), unless ENV_VAR says
    HTTP or the code reproduced here has changed (then HTTP, with a warning)."""
    if os.environ.get(ENV_VAR) == "1":
        return None
    changed = changed_sources()
    if changed:
        logging.getLogger("local").warning(
            "%s changed: this process's AWS calls go over HTTP; re-read local/inprocess_aws.py against it, then "
            "update its SOURCE_PINS", ", ".join(changed))
        return None
    return InProcessAWS(server).install()


def changed_sources() -> list[str]:
    from botocore.httpsession import URLLib3Session
    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from urllib3.connection import HTTPConnection
    from werkzeug.serving import WSGIRequestHandler

    from .moto_speedups import digest_of

    owners = {"WSGIRequestHandler": WSGIRequestHandler, "MotoRequestHandler": MotoRequestHandler,
              "URLLib3Session": URLLib3Session, "HTTPConnection": HTTPConnection}
    return [name for name, digest in SOURCE_PINS.items()
            if digest_of(getattr(owners[name.split(".")[0]], name.split(".")[1])) != digest]


class _Answer:
    """What the app answered, collected as werkzeug's server writes it out."""

    def __init__(self) -> None:
        self.status = ""
        self.headers: list[tuple[str, str]] = []
        self.chunks: list[bytes] = []

    def start_response(self, status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        self.status, self.headers = status, headers
        return self.chunks.append

    def run(self, app: Callable[..., Iterable[bytes]], environ: dict[str, Any]) -> "_Answer":
        iterable = app(environ, self.start_response)
        try:
            self.chunks.extend(iterable)
        finally:
            close = getattr(iterable, "close", None)
            if close is not None:
                close()
        return self


def _call(
    app: Callable[..., Iterable[bytes]], environ: dict[str, Any], server_version: str,
) -> tuple[int, list[tuple[str, str]], bytes]:
    """The app's status, its headers with those werkzeug's server adds, and its body; an exception answered
    with werkzeug's 500 page and logged, as the server does."""
    from werkzeug.exceptions import InternalServerError

    try:
        answer = _Answer().run(app, environ)
    except Exception:
        log.exception("Error on request")
        answer = _Answer().run(InternalServerError(), environ)
    code = int(answer.status.split(None, 1)[0])
    headers = [("Server", server_version), ("Date", formatdate(time.time(), usegmt=True)), *answer.headers]
    names = {name.lower() for name, _ in answer.headers}
    if not ("content-length" in names or environ["REQUEST_METHOD"] == "HEAD" or 100 <= code < 200
            or code in NO_BODY_STATUSES):
        headers.append(("Transfer-Encoding", "chunked"))
    headers.append(("Connection", "close"))
    return code, headers, b"".join(answer.chunks)


def moto_netlocs(netloc: str) -> frozenset[str]:
    """The host:port forms a request for the embedded moto at `netloc` comes with (moto's Step Functions: localhost)."""
    return frozenset({netloc, f"localhost:{netloc.rsplit(':', 1)[1]}"})


def aws_response(url: str, status: int, headers: list[tuple[str, str]], content: bytes) -> Any:
    """The response botocore gets for an answer, as if read from the server."""
    from botocore.awsrequest import AWSResponse
    from urllib3 import HTTPHeaderDict

    received = HTTPHeaderDict()
    for name, value in headers:
        received.add(name, value)
    return AWSResponse(url, status, received, _RawBody(content))


class _RawBody(io.BytesIO):
    """The body as botocore reads a raw response's (as moto's MockRawResponse, without importing moto: the Lambda
    process does not need its ~12 MB)."""

    def stream(self, **_: Any) -> Iterator[bytes]:
        contents = self.read()
        while contents:
            yield contents
            contents = self.read()


def sent_headers(request: Any, netloc: str) -> list[tuple[str, str]]:
    """The request's headers as the server reads them: http.client's `Host` and `Accept-Encoding`, then
    botocore's (urllib3 adds `User-Agent` and a length only when botocore has not), values in latin-1."""
    sent = [(name, value.decode("latin-1") if isinstance(value, bytes) else str(value))
            for name, value in request.headers.items()]
    present = {name.lower() for name, _ in sent}
    added = [] if "host" in present else [("Host", netloc)]
    if "accept-encoding" not in present:
        added.append(("Accept-Encoding", "identity"))
    if "user-agent" not in present:
        from urllib3.connection import _get_default_user_agent

        sent.insert(0, ("User-Agent", _get_default_user_agent()))
    if "content-length" not in present and "transfer-encoding" not in present:
        from urllib3.util.request import body_to_chunks

        length = body_to_chunks(request.body, request.method, 16384)
        if length.content_length is not None:
            sent.insert(0, ("Content-Length", str(length.content_length)))
        elif length.chunks is not None:
            sent.insert(0, ("Transfer-Encoding", "chunked"))
    return added + sent


def body_bytes(body: Any) -> bytes:
    """The bytes urllib3 would send for botocore's body: bytes, text (UTF-8), a file object or an iterable."""
    if body is None:
        return b""
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    if isinstance(body, str):
        return body.encode("utf-8")
    if hasattr(body, "read"):
        data = body.read()
        return data.encode("utf-8") if isinstance(data, str) else bytes(data)
    return b"".join(part.encode("utf-8") if isinstance(part, str) else bytes(part) for part in body)


def _request_target(url: str) -> str:
    """The request line's target, as botocore's URLLib3Session (`_path_url`) and urllib3 (`_encode_target`)
    make it from the URL."""
    from urllib3.util.url import _encode_target

    parsed = urlparse(url)
    target = parsed.path or "/"
    if parsed.query:
        target = f"{target}?{parsed.query}"
    return str(_encode_target(target))


def _wsgi_encoding_dance(text: str) -> str:
    return text.encode().decode("latin1")
