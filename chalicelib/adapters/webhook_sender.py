"""POSTs a delivery to a receiver with a short timeout. Redirects are not followed (a receiver must name the
URL it serves, and a redirect could lead anywhere) and no proxy from the environment is used."""
from __future__ import annotations

import socket
import urllib.error
import urllib.request
from typing import Any

from ..services.webhook_delivery import SendResult

_ANSWER_READ = 1024  # bytes of an answer read (its body is not used), so a receiver cannot make us read forever


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # urllib then raises the 3xx as an HTTPError


class HttpSender:
    def __init__(self, timeout_seconds: float) -> None:
        self._timeout = timeout_seconds
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects())

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> SendResult:
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with self._opener.open(request, timeout=self._timeout) as response:
                response.read(_ANSWER_READ)
                return SendResult(response.status)
        except urllib.error.HTTPError as exc:
            return SendResult(exc.code, f"HTTP {exc.code}")
        except (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            return SendResult(None, f"no answer: {reason}")
