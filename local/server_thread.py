"""A socketserver's loop in a daemon thread, as the console and the sample CRM port run theirs."""
from __future__ import annotations

import socketserver
import threading
from typing import Optional

# How often a serving loop looks for a shutdown: socketserver's 0.5 s made each of a stop's three servers wait up
# to that long, one after the other.
POLL_INTERVAL = 0.1


class ServerThread:
    """`start()` serves in a daemon thread; `stop()` ends the loop (if it runs) and closes the socket."""

    def __init__(self, server: socketserver.BaseServer, name: str, join_timeout: float) -> None:
        self.server = server
        self._name, self._join_timeout = name, join_timeout
        self._thread: Optional[threading.Thread] = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self.server.serve_forever, args=(POLL_INTERVAL,), name=self._name,
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self.server.shutdown()  # waits for serve_forever to return: only when it is running
            self._thread.join(timeout=self._join_timeout)
            self._thread = None
        self.server.server_close()
