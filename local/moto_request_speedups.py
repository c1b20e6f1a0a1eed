"""Per-request costs of moto's server and Step Functions interpreter that do not depend on the request
(moto 5.2.5, pinned).

A profile of the running local system (py-spy, GIL samples, 5 creates/s: bench/results.md) found about a
fifth of the process's Python time in work that gives the same answer every time:
- `boto_client_for`: a Step Functions Task builds a new boto3 client for every Lambda (or ECS) call it makes,
  ~11% (botocore copies its event-handler tries for each client). Here one client per (region, service,
  endpoint) is kept; boto3 clients are safe to share between threads once built.
- JSONPath: `extract_json` and `ResultPath` parse each path with jsonpath_ng, which builds a new yacc parser
  for every parse, ~6%. Here each path is parsed once; a parsed path keeps no state between `find`s. EventBridge
  does the same for each of the 8 input paths of every event it sends to a target (~1 ms each: `PutEvents` cost
  26 ms of CPU per call in the running system, CMS_LOCAL_COSTS), so `jsonpath_ng.ext.parse` is cached as well.
- `list_of_moto_modules`: lists and stats moto's package folder for every request, ~4%; the folder does not
  change while the process runs.
- `method_names_from_class`: `inspect.getmembers` of the response class for every request, ~1.5%; a
  response class's methods do not change either.
And, found in a profile of `GET /cases` as an admin (25 cases, 93 KB; bench/results.md), work that grows with a
response's size:
- `BaseResponse._enrich_response` runs a regular expression with a look-behind for `<RequestId>` over every
  response body to put the request id in it (~6% of that request): only XML bodies have one. A text body that
  does not contain `<RequestId>` now skips it (the expression could not match: the body stays as it was).
- `dynamo_to_dict` turns DynamoDB's answer into plain values for the serializer, asking every value of every
  item whether it is a datetime, a `DynamoType`, has a `to_json`, is a dict or a list (~10%): here plain dicts,
  lists, scalars and non-binary `DynamoType`s are told apart by their exact type; anything else is moto's.
Each replacement returns what the original returns (tests/integration/test_moto_speedups.py compares them)."""
from __future__ import annotations

import functools
import importlib
import threading
from typing import Any, Callable

from .lambdas import MotoPinError
from .moto_speedups import digest_of, refuse_changed

BOTO_CLIENT_USERS = (  # every moto module that imported boto_client_for by name
    "moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.resource_eval.resource_eval_s3",
    "moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.eval.resource_eval_s3",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_unsupported",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_glue",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_events",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_ecs",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sqs",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_aws_sdk",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_dynamodb",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sns",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_batch",
)
JSONPATH_USERS = (  # module: the jsonpath_ng parser it imported as `parse`
    "moto.stepfunctions.parser.asl.utils.json_path",
    "moto.stepfunctions.parser.asl.component.common.path.result_path",
)
SOURCE_PINS = {  # sha256 of inspect.getsource() in moto 5.2.5: the replaced functions and their callers
    "boto_client.boto_client_for": "1f44dc2ac8aa2179df62365a6e5ea377f1770ea828a0f107440a2554f1b4edb8",
    "backends.list_of_moto_modules": "4f741a10b06500e840c3aaa1b4f02706e6f2bfbababc0e8a2a7b9c9d0e8957dc",
    "utils.method_names_from_class": "9dbac89d082b655fee902c450e69de9dbadf9699ad06411298494984b55138c3",
    "json_path.extract_json": "932245247973780c72287b75597e70031472f0cd764f35a199100d8a195987a4",
    "ResultPath._eval_body": "a6d93b4e5a332fadf256032411a32a39e24fdbf8080462c6c037bfe11c195081",
    # imports jsonpath_ng.ext's parse inside, for each of an event's 8 input paths on each target it is sent to
    "EventTemplateParser.parse": "40a5a46a321811bb2643aaabb7b45c37f75644fcce9cb95524e729a43f0d97d7",
    "BaseResponse._enrich_response": "86cd4a4051dd20e836fcc671792a66d3715be4c4f963705b2ae5f400bf0259d7",
    "utilities.dynamo_to_dict": "80f600124c13ddcb132c02448abeefffd2b43b353c7fcedaa2fa7ca67b3107c4",
}
_BINARY = ("B", "BS")  # dynamo_to_dict decodes these from base64: left to moto's code
_PLAIN = frozenset({str, int, float, bool, type(None), bytes})  # dynamo_to_dict returns these as they are
_POOL = 64  # connections per kept client: concurrent executions share it
_lock = threading.Lock()
_installed: dict[str, Any] = {}  # qualified name -> original (also marks the patch as done)


def _originals() -> dict[str, Callable[..., Any]]:
    from moto import backends
    from moto.core import utils
    from moto.events.utils import EventTemplateParser
    from moto.stepfunctions.parser.asl.component.common.path.result_path import ResultPath
    from moto.core.responses import BaseResponse
    from moto.dynamodb.models import utilities
    from moto.stepfunctions.parser.asl.utils import boto_client, json_path

    return {
        "boto_client.boto_client_for": _installed.get("boto_client.boto_client_for") or boto_client.boto_client_for,
        "backends.list_of_moto_modules": _installed.get("backends.list_of_moto_modules")
        or backends.list_of_moto_modules,
        "utils.method_names_from_class": utils.method_names_from_class,
        "json_path.extract_json": json_path.extract_json,
        "ResultPath._eval_body": ResultPath._eval_body,
        "EventTemplateParser.parse": EventTemplateParser.parse,
        "BaseResponse._enrich_response": _installed.get("BaseResponse._enrich_response")
        or BaseResponse.__dict__["_enrich_response"].__func__,
        "utilities.dynamo_to_dict": _installed.get("utilities.dynamo_to_dict") or utilities.dynamo_to_dict,
    }


def check_request_speedups() -> None:
    changed = [name for name, function in _originals().items() if digest_of(function) != SOURCE_PINS[name]]
    refuse_changed(changed, __name__)


class SharedClients:
    """`boto_client_for` with one client per (region, service, endpoint), built as moto builds it."""

    def __init__(self) -> None:
        self._clients: dict[tuple[str, str, str], Any] = {}
        self._lock = threading.Lock()

    def __call__(self, region: str, service: str, state_credentials: Any = None) -> Any:
        import boto3
        from botocore.config import Config
        from moto.core.models import botocore_stubber
        from moto.settings import moto_server_port
        from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import TimeoutSeconds

        # As moto: the credentials are fixed ("ak"/"sk"), state_credentials are not used in this version.
        endpoint = "" if botocore_stubber.enabled else f"http://localhost:{moto_server_port()}"
        key = (region, service, endpoint)
        client = self._clients.get(key)
        if client is None:
            with self._lock:  # a boto3 Session is not safe for concurrent client creation
                client = self._clients.get(key)
                if client is None:
                    client = self._clients[key] = boto3.session.Session().client(
                        aws_access_key_id="ak", region_name=region, service_name=service,
                        aws_secret_access_key="sk",
                        config=Config(
                            parameter_validation=False,
                            retries={"max_attempts": 0, "total_max_attempts": 1},
                            connect_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
                            read_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
                            max_pool_connections=_POOL,
                        ),
                        **({"endpoint_url": endpoint} if endpoint else {}),
                    )
        return client


def cached_parser(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """`parse` with each path parsed once (jsonpath_ng builds a new yacc parser per call)."""
    return functools.lru_cache(maxsize=4096)(parse)


@functools.cache
def _moto_modules() -> tuple[str, ...]:
    return tuple(_installed["backends.list_of_moto_modules"]())


def list_of_moto_modules() -> tuple[str, ...]:
    return _moto_modules()


def method_names_from_class(clazz: object) -> list[str]:
    return list(_method_names(clazz))


@functools.lru_cache(maxsize=None)
def _method_names(clazz: object) -> tuple[str, ...]:
    return tuple(_installed["utils.method_names_from_class"](clazz))


def enrich_response(headers: dict[str, str], body: Any) -> tuple[dict[str, str], Any]:
    """moto's `_enrich_response`, without the search of a text body that holds no `<RequestId>`."""
    if type(body) is str and "<RequestId>" not in body:
        from moto.core import responses

        if "status" in headers:
            headers["status"] = str(headers["status"])
        responses.gen_amzn_requestid_long(headers)  # the header moto adds to every response, as moto calls it
        return headers, body
    return _installed["BaseResponse._enrich_response"](headers, body)


def dynamo_to_dict(obj: Any) -> Any:
    """moto's `dynamo_to_dict`, telling the common values apart by their exact type."""
    from moto.dynamodb.models import dynamo_type

    kind = type(obj)
    if kind is dict:
        return {key: dynamo_to_dict(value) for key, value in obj.items()}
    if kind is list:
        return [dynamo_to_dict(value) for value in obj]
    if kind in _PLAIN:
        return obj
    if kind is dynamo_type.DynamoType and obj.type not in _BINARY:  # the class in use (local/moto_dynamo_values.py)
        return {obj.type: dynamo_to_dict(obj.value)}
    return _installed["utilities.dynamo_to_dict"](obj)


def install_request_speedups() -> None:
    """Replace the functions named in the module doc in this process (idempotent)."""
    from moto import backends
    from moto.core import responses, utils

    with _lock:
        check_request_speedups()
        if _installed:
            return
        from moto.stepfunctions.parser.asl.utils import boto_client

        _installed["boto_client.boto_client_for"] = boto_client.boto_client_for
        shared = SharedClients()
        for name in BOTO_CLIENT_USERS:
            module = importlib.import_module(name)
            if module.boto_client_for is not boto_client.boto_client_for:
                raise MotoPinError(f"{name}.boto_client_for is not moto's: re-read local/moto_request_speedups.py")
            setattr(module, "boto_client_for", shared)
        setattr(boto_client, "boto_client_for", shared)
        for name in JSONPATH_USERS:
            module = importlib.import_module(name)
            setattr(module, "parse", cached_parser(module.parse))
        import jsonpath_ng.ext

        # EventBridge's targets: EventTemplateParser.parse reads `jsonpath_ng.ext.parse` at each call
        setattr(jsonpath_ng.ext, "parse", cached_parser(jsonpath_ng.ext.parse))
        _installed["backends.list_of_moto_modules"] = backends.list_of_moto_modules
        setattr(backends, "list_of_moto_modules", list_of_moto_modules)
        _installed["utils.method_names_from_class"] = utils.method_names_from_class
        setattr(responses, "method_names_from_class", method_names_from_class)
        from moto.dynamodb import responses as dynamodb_responses
        from moto.dynamodb.models import utilities

        _installed["BaseResponse._enrich_response"] = responses.BaseResponse.__dict__["_enrich_response"].__func__
        setattr(responses.BaseResponse, "_enrich_response", staticmethod(enrich_response))
        _installed["utilities.dynamo_to_dict"] = utilities.dynamo_to_dict
        from .moto_indexes import ORIGINAL

        ORIGINAL["utilities.dynamo_to_dict"] = utilities.dynamo_to_dict  # local/moto_speedups.py pins it too
        setattr(utilities, "dynamo_to_dict", dynamo_to_dict)  # its own recursion reads the module's name
        setattr(dynamodb_responses, "dynamo_to_dict", dynamo_to_dict)
