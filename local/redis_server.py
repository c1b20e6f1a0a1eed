"""A throwaway redis-server on a free port (no persistence), for the local system, tests and benchmarks.
It can be killed and started again on the same port, as an outage and its end look to a client."""
from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import time
from typing import Any, Optional


def redis_server_binary() -> Optional[str]:
    return shutil.which("redis-server")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _die_with_parent() -> None:
    """Linux: the kernel kills the server when the process that started it dies, even by SIGKILL."""
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class RedisServer:
    def __init__(self, host: str = "127.0.0.1", port: Optional[int] = None, binary: Optional[str] = None) -> None:
        found = binary or redis_server_binary()
        if not found:
            raise FileNotFoundError("redis-server is not on PATH (Debian/Ubuntu: apt-get install redis-server)")
        self.binary, self.host = found, host
        self.port = port or free_port(host)
        self._process: Optional[subprocess.Popen[bytes]] = None

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    @property
    def pid(self) -> Optional[int]:
        return self._process.pid if self._process else None

    def start(self, timeout: float = 10.0) -> "RedisServer":
        self._process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", self.host, "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **_orphan_guard(),
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                error = self._process.stderr.read().decode(errors="replace") if self._process.stderr else ""
                raise RuntimeError(f"redis-server exited at start-up: {error.strip()}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"redis-server did not answer on port {self.port} within {timeout}s")

    def kill(self) -> None:
        """Stop it at once (SIGKILL), as a crash would: clients see connections reset or refused."""
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            if self._process.stderr:
                self._process.stderr.close()
            self._process = None

    def __enter__(self) -> "RedisServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.kill()


def _orphan_guard() -> dict[str, Any]:
    return {"preexec_fn": _die_with_parent} if sys.platform.startswith("linux") else {}
