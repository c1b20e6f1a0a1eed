"""The e-mails the local system sent (notifications for people). moto's SES sends nothing but keeps every
message in its backend (`sent_messages`, pinned moto 5.2.5); the embedded moto server answers
`GET <aws endpoint>/_local/mail` with them, and `python -m local mail` prints them."""
from __future__ import annotations

import json
import urllib.request
from typing import Any, Callable, Iterable, Optional

PATH = "/_local/mail"


def kept_messages() -> list[dict[str, Any]]:
    """Every message moto's SES kept in this process, of every account and region."""
    from moto.ses.models import Message, ses_backends

    return [
        {"id": m.id, "source": m.source, "destinations": m.destinations, "subject": m.subject, "body": m.body}
        for backends in ses_backends.values() for backend in backends.values()
        for m in backend.sent_messages if isinstance(m, Message)  # SendEmail's; the app sends no other kind
    ]


class MailRoute:
    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self._app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != PATH:
            return self._app(environ, start_response)
        body = json.dumps({"messages": kept_messages()}).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]


def add_mail_route(server: Any) -> None:
    """Wrap a started `ThreadedMotoServer` (pinned moto 5.2.5: `server._server.app`)."""
    server._server.app = MailRoute(server._server.app)


def sent_messages(mail_url: str, timeout: float = 10.0) -> list[dict[str, Any]]:
    """The messages a running local system's SES kept, oldest first (its stack's `mailUrl`)."""
    with urllib.request.urlopen(mail_url, timeout=timeout) as response:
        return list(json.load(response)["messages"])


def recipients(message: dict[str, Any]) -> list[str]:
    return [address for addresses in (message.get("destinations") or {}).values() for address in addresses]


def render(messages: list[dict[str, Any]], to: Optional[str] = None) -> str:
    """The messages as text, only those to addresses containing `to` when given."""
    shown = [m for m in messages if to is None or any(to in address for address in recipients(m))]
    if not shown:
        return "no e-mail sent" + (f" to {to}" if to else "") + " yet"
    return "\n\n".join(
        "\n".join([
            f"From:    {m.get('source')}", f"To:      {', '.join(recipients(m))}", f"Subject: {m.get('subject')}",
            "", str(m.get("body", "")).rstrip(),
        ])
        for m in shown
    )
