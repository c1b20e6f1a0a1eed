"""One parse of each botocore service model per process, not one per botocore session.

botocore caches what its `Loader` read on the loader, and each session has its own: moto's backends (one session
to list each service's regions, which reads the service's whole model for its endpoint prefix), each
`boto3.Session` the local system, the app and moto's Step Functions make. EC2's model alone was parsed six times
on a start (~2 s of a restart's CPU, JSON parsing). Loaders with the same search paths now share one cache: the
models are read-only data to botocore (it already shares them between the clients of a session)."""
from __future__ import annotations

from typing import Any

_CACHES: dict[tuple[str, ...], dict[Any, Any]] = {}


def share_botocore_models() -> None:
    from botocore.loaders import Loader

    if getattr(Loader.__init__, "local_shared", False):
        return
    original = Loader.__init__

    def sharing_init(self: Loader, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self._cache = _CACHES.setdefault(tuple(self.search_paths), {})

    sharing_init.local_shared = True  # type: ignore[attr-defined]
    Loader.__init__ = sharing_init
