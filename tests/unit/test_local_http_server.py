"""local/http_server.py: the API's connections send without Nagle's delay (a response's headers and body go in
two sends on a keep-alive connection; with Nagle the body waited for the client's delayed ACK)."""
from __future__ import annotations

import socket
import threading
from typing import Any, cast

import requests
from chalice import Chalice
from chalice.config import Config
from chalice.local import LocalDevServer

from local.http_server import MethodAwareHandler


def test_each_connection_of_the_api_has_tcp_nodelay() -> None:
    app = Chalice(app_name="nodelay")

    @app.route("/ping")
    def ping() -> dict[str, Any]:
        return {"ok": True}

    seen: list[int] = []

    class Probe(MethodAwareHandler):
        def setup(self) -> None:
            super().setup()
            connection = cast(socket.socket, self.request)  # the accepted TCP socket
            seen.append(connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    config = Config(chalice_stage="local", user_provided_params={"app_name": "nodelay", "project_dir": "."})
    server = LocalDevServer(app, config, "127.0.0.1", 0, handler_cls=Probe)
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    try:
        with requests.Session() as http:
            http.trust_env = False
            url = f"http://127.0.0.1:{server.server.server_address[1]}/ping"
            assert [http.get(url, timeout=10).json() for _ in range(2)] == [{"ok": True}] * 2
        assert seen and all(seen)
    finally:
        server.server.shutdown()
        server.server.server_close()
