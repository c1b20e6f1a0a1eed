"""Handlers of botocore events on every botocore session of the process: each session registers
`botocore.handlers.BUILTIN_HANDLERS` when it is created, so handlers added there reach the sessions created
later; boto3's default session may exist already (boto3.client() reuses it) and gets them directly.
Sessions created earlier (and their clients) are not reached: install before the first client."""
from __future__ import annotations

from typing import Any, Callable, Sequence

Handlers = Sequence[tuple[str, Callable[..., Any]]]


def add_to_every_session(handlers: Handlers, *, last: bool = False) -> None:
    """`last`: after the handlers registered without a position (e.g. those that add headers before a send)."""
    from botocore import handlers as builtin

    builtin.BUILTIN_HANDLERS.extend(
        (event, handler, builtin.REGISTER_LAST) if last else (event, handler) for event, handler in handlers
    )
    default = _default_session()
    if default is not None:
        emitter = default.get_component("event_emitter")
        for event, handler in handlers:
            (emitter.register_last if last else emitter.register)(event, handler)


def remove_from_every_session(handlers: Handlers) -> None:
    """Sessions created from now on do not get `handlers`; boto3's default session loses them too."""
    from botocore import handlers as builtin

    mine = [tuple(pair) for pair in handlers]
    builtin.BUILTIN_HANDLERS[:] = [spec for spec in builtin.BUILTIN_HANDLERS if tuple(spec[:2]) not in mine]
    default = _default_session()
    if default is not None:
        for event, handler in mine:
            default.unregister(event, handler)


def _default_session() -> Any:
    import boto3

    return boto3.DEFAULT_SESSION._session if boto3.DEFAULT_SESSION is not None else None
