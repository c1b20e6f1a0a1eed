"""Records which AWS actions each Lambda function of the app calls, for the IAM <-> code test.

The local system runs every function in one process, so a context variable says whose code is running:
the Lambda dispatcher sets it around each handler (`running(name)`) and an HTTP middleware sets it to
the API handler around each route. A botocore handler of `provide-client-params` (emitted by every API
call and by presigning, on every botocore session created after `install`) turns each attributed call
into IAM permissions (local/iam_actions.py) and appends the new ones to a JSON-lines file. A presigned
POST is the exception: botocore signs it without its key, so a `creating-client-class.s3` handler wraps
the client's `generate_presigned_post` to record the upload it grants (s3:PutObject on bucket/key).
Calls with no function running (the local system's own, moto's) are not recorded.
"""
from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Optional

from .botocore_handlers import add_to_every_session, remove_from_every_session
from .iam_actions import Permission, permissions

ENV_VAR = "CMS_RECORD_IAM"  # the file to append the records to; unset: nothing is recorded
API_HANDLER = "api_handler"  # the Chalice function that serves every route
EVENT = "provide-client-params"
S3_CLASS_EVENT = "creating-client-class.s3"

_function: ContextVar[Optional[str]] = ContextVar("cms_lambda_function", default=None)


@contextmanager
def running(function: str) -> Iterator[None]:
    """Attribute the AWS calls made inside the block to `function`."""
    token = _function.set(function)
    try:
        yield
    finally:
        _function.reset(token)


def http_middleware(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """Chalice middleware for 'http' events: routes run as the API handler."""
    with running(API_HANDLER):
        return get_response(event)


class ActionRecorder:
    """`install()` once, early (sessions created before it are not watched); `account` and `region` name
    the resources of the ARNs it records."""

    def __init__(self, path: str | Path, region: str, account: str = "123456789012") -> None:
        self.path = Path(path)
        self.region, self.account = region, account
        self._seen: set[tuple[str, str, str]] = set()
        self._lock = threading.Lock()

    def install(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.touch()
        add_to_every_session(self._handlers())

    def uninstall(self) -> None:
        remove_from_every_session(self._handlers())

    def _handlers(self) -> list[tuple[str, Callable[..., Any]]]:
        return [(EVENT, self.on_call), (S3_CLASS_EVENT, self.on_s3_client_class)]

    def on_s3_client_class(self, class_attributes: dict[str, Any], **_: Any) -> None:
        """Runs after botocore's own handler has added `generate_presigned_post` to the S3 client class."""
        original = class_attributes.get("generate_presigned_post")
        if original is None:
            return
        record = self.record

        def generate_presigned_post(client: Any, Bucket: str, Key: str, *args: Any, **kwargs: Any) -> Any:  # noqa: N803
            record("s3.GeneratePresignedPost", [Permission("s3:PutObject", f"arn:aws:s3:::{Bucket}/{Key}")], True)
            return original(client, Bucket, Key, *args, **kwargs)

        class_attributes["generate_presigned_post"] = generate_presigned_post

    def on_call(self, params: Any = None, model: Any = None, context: Any = None, **_: Any) -> None:
        function = _function.get()
        if function is None or model is None:
            return None
        prefix = model.service_model.signing_name
        presigned = bool((context or {}).get("is_presign_request"))
        needed = permissions(
            prefix, model.name, params or {}, presigned=presigned, region=self.region, account=self.account,
        )
        self.record(f"{prefix}.{model.name}", needed, presigned)
        return None  # the parameters stay as they are

    def record(self, operation: str, needed: Iterable[Permission], presigned: bool) -> None:
        """Append what the running function (if any) has not been seen to need before."""
        function = _function.get()
        if function is None:
            return
        new = []
        with self._lock:
            for permission in needed:
                key = (function, permission.action, permission.resource)
                if key not in self._seen:
                    self._seen.add(key)
                    new.append({"function": function, "action": permission.action, "resource": permission.resource,
                                "operation": operation, "presigned": presigned})
            if new:
                with self.path.open("a") as out:
                    out.writelines(json.dumps(entry) + "\n" for entry in new)


def read_records(path: str | Path) -> list[dict[str, Any]]:
    text = Path(path).read_text() if Path(path).is_file() else ""
    return [json.loads(line) for line in text.splitlines() if line.strip()]
