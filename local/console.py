"""Serves the web console (`console/`) on its own port, as the S3 bucket behind CloudFront does on AWS:
the static files, the `config.json` the deploy writes next to index.html (here built from the stack),
and the workflow definitions the console draws (`asl/<name>.asl.json`, copied from `stepfunctions/`)."""
from __future__ import annotations

import json
import mimetypes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Mapping, Optional
from urllib.parse import urlsplit

from .server_thread import ServerThread

_ASL_PREFIX = "/asl/"
_TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}


def console_config(stack: Mapping[str, Any]) -> dict[str, Any]:
    """What the console needs to know, in the shape of the deployed `config.json`. On AWS the Cognito
    endpoint is `https://cognito-idp.<region>.amazonaws.com/` and the API base is `/api` (CloudFront)."""
    return {
        "apiBaseUrl": stack["apiUrl"],
        "region": stack["region"],
        "userPoolId": stack["userPoolId"],
        "userPoolClientId": stack["userPoolClientId"],
        "cognitoEndpoint": stack["awsEndpoint"].rstrip("/") + "/",
    }


def content_security_policy(config: Mapping[str, Any]) -> str:
    """Scripts and styles only from the console itself; calls only to the API, Cognito and S3."""
    origins = {_origin(config["apiBaseUrl"]), _origin(config["cognitoEndpoint"])}
    connect = " ".join(["'self'", *sorted(o for o in origins if o)])
    return (
        f"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src {connect}; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )


def _origin(url: str) -> Optional[str]:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


class ConsoleServer:
    """`start()` serves in a daemon thread; `stop()` closes the socket."""

    def __init__(self, console_dir: Path, asl_dir: Path, config: Mapping[str, Any], host: str, port: int) -> None:
        handler = _handler(console_dir.resolve(), asl_dir.resolve(), json.dumps(dict(config), indent=2).encode(),
                           content_security_policy(config))
        server = ThreadingHTTPServer((host, port), handler)
        server.daemon_threads = True
        self._served = ServerThread(server, "console", join_timeout=10)

    def start(self) -> None:
        self._served.start()

    def stop(self) -> None:
        self._served.stop()


def _handler(console_dir: Path, asl_dir: Path, config_body: bytes, csp: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "cms-console"

        def do_HEAD(self) -> None:
            self._serve(body=False)

        def do_GET(self) -> None:
            self._serve(body=True)

        def _serve(self, body: bool) -> None:
            path = urlsplit(self.path).path
            if path == "/config.json":
                return self._send(200, "application/json", config_body, body)
            if path.startswith(_ASL_PREFIX):
                name = path[len(_ASL_PREFIX):]
                file = _inside(asl_dir, name) if name.endswith(".asl.json") else None
            else:
                file = _inside(console_dir, "index.html" if path == "/" else path.lstrip("/"))
            if file is None or not file.is_file():
                return self._send(404, "text/plain; charset=utf-8", b"not found\n", body)
            kind = _TYPES.get(file.suffix) or mimetypes.guess_type(file.name)[0] or "application/octet-stream"
            self._send(200, kind, file.read_bytes(), body)

        def _send(self, status: int, kind: str, content: bytes, body: bool) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(content)))
            self.send_header("Cache-Control", "no-cache")  # a developer's edit shows on the next reload
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Referrer-Policy", "no-referrer")
            self.send_header("Content-Security-Policy", csp)
            self.end_headers()
            if body:
                self.wfile.write(content)

        def log_message(self, format: str, *args: Any) -> None:  # one line per file would drown the API's log
            pass

    return Handler


def _inside(root: Path, relative: str) -> Optional[Path]:
    """The file under `root`, or None for anything that escapes it (`..`, absolute paths, dot files)."""
    if not relative or any(part.startswith(".") for part in relative.split("/")):
        return None
    candidate = (root / relative).resolve()
    return candidate if candidate.is_relative_to(root) else None
