"""One thread per Step Functions execution that waits for a task token, and O(1) token look-ups (moto 5.2.5,
pinned).

Every open case has an execution waiting in a `.waitForTaskToken` state. moto's interpreter held three threads
for each (~91 KB of resident stack apiece: 1.3 GB at 4,600 cases, issue 13):
- the execution's own thread (`ExecutionWorker.start`), which is kept: executions run asynchronously;
- `Program.eval` runs the program in a second thread only to stop joining it after the program's
  `TimeoutSeconds`. Without one it joins forever, so here such a program runs in the calling thread; a program
  with a timeout keeps moto's way;
- `ExecutionState._evaluate_with_timeout` runs the state in a third thread to stop waiting for it after the
  state's timeout. A `.waitForTaskToken` task without `HeartbeatSeconds` spends that time in the callback wait,
  which already ends with the same timeout, so it runs in the calling thread: the wait is given what is left of
  the state's timeout, and a state that ends after it raises moto's own `EvalTimeoutError`, as the abandoned
  thread would have. Heartbeat tasks and every other state keep moto's way.
Also: `TMP_THREADS` (moto keeps every thread it starts in that list, forever, and never reads it) becomes a
sink; and `SendTaskSuccess`/`Failure`/`Heartbeat`, which tried the token on every execution of the region,
ask only the execution that issued it (an index token -> its execution's callback pool), falling back to
moto's scan for a token the index does not know. A thread about to wait for a token first gives back the stack
pages it no longer uses (local/thread_stacks.py). tests/integration/test_moto_sfn_threads.py runs small
machines with and without these patches and compares statuses, outputs and histories."""
from __future__ import annotations

import copy
import importlib
import logging
import threading
import time
import weakref
from pathlib import Path
from typing import Any, Callable

from .lambdas import MotoPinError
from .moto_speedups import digest_of
from .thread_stacks import release_unused_stack

LOG = logging.getLogger(__name__)
PARSER = "moto.stepfunctions.parser"
TMP_THREADS_USERS = (  # every module that imported moto's TMP_THREADS list by name
    f"{PARSER}.utils",
    f"{PARSER}.asl.component.program.program",
    f"{PARSER}.asl.component.test_state.program.test_state_program",
    f"{PARSER}.asl.component.state.exec.state_map.iteration.inline_iteration_component",
    f"{PARSER}.asl.component.state.exec.state_task.service.state_task_service_callback",
    f"{PARSER}.asl.component.state.exec.state_parallel.branch_worker",
    f"{PARSER}.asl.component.state.exec.execute_state",
    f"{PARSER}.backend.execution_worker",
)
SOURCE_PINS = {  # sha256 of inspect.getsource() in moto 5.2.5: the replaced functions and those they rely on
    "Program.eval": "6d701880064a8970c3a40375b8708af4ea22b6054dd6ac2fe9be295270b62f2b",
    "Program._eval_body": "0735481f6d027e470a5e37351be3a5552f07050c421318cf2ce65d4efb620be6",
    "ExecutionState._evaluate_with_timeout": "c56deda08a42e98d3958bfb2ab95de74c7ec7a515085614a80e1ea4948722485",
    "ExecutionState._eval_state": "88a5f8e4c72b10849ada6345c535c9eb30519136b9bb838952f2d9b5ce38ff0b",
    "Callback._eval_wait_for_task_token": "061c4a80d1bdcb0af3cdb56fa544ddae349f8e11f0c2255620284424f195c148",
    "Callback._eval_integration_pattern": "3b97ada1d4cb7280415bb9d160896565d4a520e56b5b85a0f42e42e6538c0ce9",
    "Callback._wait_for_task_token_timeout": "1275d4ddbb83d0012c20953fa3c47b3d62194fe628178fdcf01f2b8941d6877e",
    "ExecutionWorker._get_evaluation_environment": "ce8421b71dabea7dcf3020a980e562af7df7ae0035d2f79751d1c2204c70fca5",
    "CallbackPoolManager.add": "642af2a3229b6856bc2fddd992cf4a4b2e9fd3ca37208d6eed5bdfb46280e225",
    "CallbackPoolManager.add_activity_task": "64f0bb8a88918a2f3019fa13edc98aec187c5c1b5c9d031cb017cdca4c5b861d",
    "Backend._get_executions": "99c66bbf9dd987f228bb924b66520497b1969ad9e334431bb69ef5cc552c1ca4",
    "Backend.send_task_success": "2e95c66f0d676001a8c7b2e9b5b43972c0419af46a28f49842c81f0405bfc402",
    "Backend.send_task_failure": "2d5a9597cf1d92f9cb4bc47b3b6ae48a0fe5d3c72e20b3cc57afdeabfcddd5ca",
    "Backend.send_task_heartbeat": "279ad79cd7a2f24b6971a61a7924c092b4684bfa25fdb4b36ad922140c2917de",
}
_DEADLINE = "_local_deadline"  # set on the frame a token wait runs in: when the state's timeout ends
_EXECUTION = "_local_execution"  # set on an execution's callback pool: the execution
_lock = threading.Lock()
_installed: dict[str, Any] = {}  # qualified name -> moto's function (also marks the patch as done)
_pools: weakref.WeakValueDictionary[str, Any] = weakref.WeakValueDictionary()  # token -> callback pool
_lookup = threading.local()  # .scope: (backend, the executions that may hold the token) during a look-up


def _classes() -> dict[str, Any]:
    from moto.stepfunctions.parser.asl.component.program.program import Program
    from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (
        StateTaskServiceCallback,
    )
    from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackPoolManager
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    return {"Program": Program, "ExecutionState": ExecutionState, "Callback": StateTaskServiceCallback,
            "ExecutionWorker": ExecutionWorker, "CallbackPoolManager": CallbackPoolManager,
            "Backend": StepFunctionsParserBackend}


def _moto(qualified_name: str) -> Callable[..., Any]:
    owner, name = qualified_name.split(".")
    return _installed.get(qualified_name) or vars(_classes()[owner])[name]


def _modules_using_tmp_threads() -> set[str]:
    root = Path(importlib.import_module(PARSER).__file__ or "").parent
    return {
        f"{PARSER}.{'.'.join(path.relative_to(root).with_suffix('').parts)}"
        for path in root.rglob("*.py") if "TMP_THREADS" in path.read_text()
    }


def check_sfn_threads() -> None:
    changed = [name for name, digest in SOURCE_PINS.items() if digest_of(_moto(name)) != digest]
    if _modules_using_tmp_threads() != set(TMP_THREADS_USERS):
        changed.append("TMP_THREADS's users")
    if changed:
        raise MotoPinError(f"moto's {', '.join(changed)} changed: re-read local/moto_sfn_threads.py against it, "
                           "then update its SOURCE_PINS")


class ForgottenThreads(list):
    """moto's TMP_THREADS without the memory: moto appends every thread it starts and never reads the list."""

    def append(self, thread: Any) -> None:
        pass


def program_eval(self: Any, env: Any) -> None:
    from moto.stepfunctions.parser.asl.component.program.program import Program

    if self.timeout_seconds and self.timeout_seconds.timeout_seconds is not None:
        _installed["Program.eval"](self, env)
        return
    env.next_state_name = self.start_at.start_at_name
    try:
        super(Program, self).eval(env)  # EvalComponent.eval, as moto's worker thread ran it
    except Exception:
        # In moto this ended only the worker thread, and the caller went on.
        LOG.exception("Step Functions program ended with an exception")


def _waits_for_token_only(state: Any) -> bool:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import ResourceCondition
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (
        StateTaskServiceCallback,
    )

    return (isinstance(state, StateTaskServiceCallback) and state.heartbeat is None
            and state.resource.condition == ResourceCondition.WaitForTaskToken)


def evaluate_with_timeout(self: Any, env: Any) -> None:
    """moto's `ExecutionState._evaluate_with_timeout`, with the state evaluated in this thread."""
    from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import EvalTimeoutError

    if not _waits_for_token_only(self):
        _installed["ExecutionState._evaluate_with_timeout"](self, env)
        return
    self.timeout.eval(env=env)
    timeout_seconds = env.stack.pop()
    deadline = time.monotonic() + timeout_seconds

    frame = env.open_frame()
    frame.states.reset(input_value=env.states.get_input())
    frame.stack = copy.deepcopy(env.stack)
    setattr(frame, _DEADLINE, deadline)
    execution_outputs: list[Any] = []
    execution_exception: Exception | None = None
    try:
        self._eval_execution(frame)
        execution_outputs.extend(frame.stack)
    except Exception as ex:  # noqa: BLE001 - kept and raised below, as moto's thread did
        execution_exception = ex
    finished_on_time = time.monotonic() < deadline
    frame.set_ended()
    env.close_frame(frame)

    if not finished_on_time:  # moto had stopped waiting for the state's thread, whatever it came to
        raise EvalTimeoutError()
    if execution_exception:
        raise execution_exception

    execution_output = execution_outputs.pop()
    env.stack.append(execution_output)
    if not self._is_language_query_jsonpath():
        env.states.set_result(execution_output)
    if self.assign_decl:
        self.assign_decl.eval(env=env)
    if self.result_selector:
        self.result_selector.eval(env=env)
    if self.result_path:
        self.result_path.eval(env)
    else:
        res = env.stack.pop()
        env.states.reset(input_value=res)


def eval_wait_for_task_token(
    self: Any, env: Any, timeout_seconds: Any, callback_endpoint: Any, heartbeat_endpoint: Any,
) -> Any:
    """moto's wait, ending with the state's timeout when the state runs in this thread (not that long after), and
    without the stack pages the thread touched before it (local/thread_stacks.py)."""
    release_unused_stack()
    deadline = getattr(env, _DEADLINE, None)
    if deadline is not None:
        timeout_seconds = max(0.0, deadline - time.monotonic())
    return _installed["Callback._eval_wait_for_task_token"](
        self, env=env, timeout_seconds=timeout_seconds, callback_endpoint=callback_endpoint,
        heartbeat_endpoint=heartbeat_endpoint,
    )


def evaluation_environment(self: Any) -> Any:
    env = _installed["ExecutionWorker._get_evaluation_environment"](self)
    setattr(env.callback_pool_manager, _EXECUTION, getattr(self._execution_communication, "execution", None))
    return env


def pool_add(self: Any, callback_id: str) -> Any:
    endpoint = _installed["CallbackPoolManager.add"](self, callback_id)
    _pools[callback_id] = self
    return endpoint


def pool_add_activity_task(self: Any, callback_id: str, activity_arn: str, activity_input: str) -> Any:
    endpoint = _installed["CallbackPoolManager.add_activity_task"](self, callback_id, activity_arn, activity_input)
    _pools[callback_id] = self
    return endpoint


def _holders(backend: Any, token: str) -> list[Any] | None:
    """The executions of `backend` that may hold `token` (at most its issuer), None when the index cannot tell."""
    pool = _pools.get(token)
    execution = getattr(pool, _EXECUTION, None)
    if execution is None or getattr(execution.exec_worker, "env", None) is None:
        return None
    if execution.exec_worker.env.callback_pool_manager is not pool:
        return None
    # moto looks through the executions of the backend's state machines: the issuer must still be one of them.
    arn = execution.state_machine.arn
    listed = any(sm.arn == arn and execution in sm.executions for sm in backend.state_machines)
    return [execution] if listed else []


def get_executions(self: Any, execution_status: Any = None) -> list[Any]:
    scope = getattr(_lookup, "scope", None)
    if scope is None or scope[0] is not self:
        return _installed["Backend._get_executions"](self, execution_status)
    return [e for e in scope[1] if execution_status is None or execution_status == e.status]


def _by_token(name: str) -> Callable[..., Any]:
    """moto's `name`, looking only at the execution that issued the token."""

    def send(self: Any, task_token: str, *args: Any, **kwargs: Any) -> Any:
        original = _installed[f"Backend.{name}"]
        holders = _holders(self, task_token)
        if holders is None:
            return original(self, task_token, *args, **kwargs)
        _lookup.scope = (self, holders)
        try:
            return original(self, task_token, *args, **kwargs)
        finally:
            _lookup.scope = None

    send.__name__ = name
    return send


REPLACEMENTS: dict[str, Callable[..., Any]] = {
    "Program.eval": program_eval,
    "ExecutionState._evaluate_with_timeout": evaluate_with_timeout,
    "Callback._eval_wait_for_task_token": eval_wait_for_task_token,
    "ExecutionWorker._get_evaluation_environment": evaluation_environment,
    "CallbackPoolManager.add": pool_add,
    "CallbackPoolManager.add_activity_task": pool_add_activity_task,
    "Backend._get_executions": get_executions,
    "Backend.send_task_success": _by_token("send_task_success"),
    "Backend.send_task_failure": _by_token("send_task_failure"),
    "Backend.send_task_heartbeat": _by_token("send_task_heartbeat"),
}


def install_sfn_threads() -> None:
    """Replace the functions named in the module doc in this process (idempotent)."""
    with _lock:
        check_sfn_threads()
        if _installed:
            return
        classes = _classes()
        for qualified_name, replacement in REPLACEMENTS.items():
            owner, name = qualified_name.split(".")
            _installed[qualified_name] = vars(classes[owner])[name]
            setattr(classes[owner], name, replacement)
        forgotten = ForgottenThreads()
        for module_name in TMP_THREADS_USERS:
            module = importlib.import_module(module_name)
            module.TMP_THREADS.clear()
            setattr(module, "TMP_THREADS", forgotten)
