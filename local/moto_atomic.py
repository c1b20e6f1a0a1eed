"""DynamoDB applies each request atomically; moto's DynamoDB backend takes no locks, so
concurrent requests can interleave inside it (lost ADD updates, two winners of one conditional
put). Serialising DynamoDB requests at the server restores per-request atomicity while clients
stay concurrent. Only DynamoDB is serialised: other services (S3 notifications, Step Functions)
may call back into moto from inside a request, and a global lock would deadlock them.

moto's instance tracking is switched off: moto appends every model object it creates to its class's
`instances_tracked` list (for its dashboard), and TransactWriteItems deep-copies the table for every item, so that
list kept every copy alive (~1.9 GB after 100 cases, and Ctrl-C then spent half a minute collecting it). Other
services' objects pile up the same way (every S3 object version put, overwritten or not, with its buffer; every
stream record). Nothing here reads the dashboard (nor resets the backends, which walk those lists to close S3
buffers: a dropped buffer closes when collected). Emptying every model class's list after each request (~200
classes, ~0.1 ms on each of ~50 requests per created case) cost more than never filling them."""
from __future__ import annotations

import threading
from typing import Any, Callable, Iterable

from moto.core.common_models import BaseModel
from moto.core.model_instances import model_data

from .lambdas import MotoPinError

# sha256 of inspect.getsource() in moto 5.2.5: the method replaced (it appends the instance to the class's list)
SOURCE_PINS = {"BaseModel.__new__": "08cf0ef20e88029a2eb91949492ce3281001a34b98143db186239962ad379eec"}
_ORIGINAL_NEW = BaseModel.__dict__["__new__"]
_install_lock = threading.Lock()


class SerialisedDynamoDB:
    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self._app, self.lock = app, threading.Lock()  # also held by whoever reads moto's tables in-process
        self._serving = threading.local()  # .request: this thread holds the lock for a request

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            if getattr(self._serving, "request", False):
                # A request served in-process (local/inprocess_aws.py) that calls DynamoDB from inside a DynamoDB
                # request: waiting for the lock this thread holds would never end. Over HTTP it hung as well.
                raise RuntimeError("a DynamoDB request made while this thread serves one (it holds the lock)")
            with self.lock:
                self._serving.request = True
                try:
                    return list(self._app(environ, start_response))
                finally:
                    self._serving.request = False
        return self._app(environ, start_response)  # type: ignore[return-value]


def untracked_new(cls: type, *args: Any, **kwargs: Any) -> Any:
    """moto's `BaseModel.__new__` without appending the instance to `cls.instances_tracked`."""
    return super(BaseModel, cls).__new__(cls)


def stop_instance_tracking() -> None:
    """Replace `BaseModel.__new__` (every moto model class inherits it) and empty the lists filled before."""
    from .moto_speedups import digest_of

    with _install_lock:
        if digest_of(_ORIGINAL_NEW.__func__) != SOURCE_PINS["BaseModel.__new__"]:
            raise MotoPinError("moto's BaseModel.__new__ changed: re-read local/moto_atomic.py against it, then "
                               "update its SOURCE_PINS")
        BaseModel.__new__ = staticmethod(untracked_new)
        for models in list(model_data.values()):
            for model in list(models.values()):
                model.instances_tracked = []


def serialise_dynamodb(server: Any) -> SerialisedDynamoDB:
    """Wrap a started `moto.server.ThreadedMotoServer` (pinned moto 5.2.5: `server._server.app`); moto's
    instance tracking stops in this process."""
    stop_instance_tracking()
    server._server.app = wrapper = SerialisedDynamoDB(server._server.app)
    return wrapper
