"""StartExecution without a pass over every execution the state machine has had (moto 5.2.5, pinned).

moto checks a new execution's name against each of the state machine's executions
(`StateMachine._handle_name_input_idempotency`, a loop over `executions`) on every `StartExecution`. Every open
case keeps one execution, so at 2,000 cases each start read 2,000 executions' attributes, scattered over a heap
of ~1 GB: moto's `StartExecution` took 0.67 ms of CPU a call at ~300 cases held and 1.36 ms at ~1,900
(CMS_LOCAL_COSTS, issue 13), the one action whose own cost grew with the cases. Here each state machine's
executions are indexed by name, the index brought up to date with the executions appended since its last
look-up: moto only ever appends to that list (`StateMachine.start_execution`, the interpreter's
`StepFunctionsParserBackend.start_execution`, both pinned here). A list that was replaced or got shorter is
indexed again from its start. The decision taken on the execution found (the same input and still running: that
execution again; otherwise ExecutionAlreadyExists) is moto's, restated. tests/integration/test_moto_sfn_names.py
compares it with moto's own on random sequences of starts and stops."""
from __future__ import annotations

import threading
import weakref
from typing import Any, Callable, Optional

from .moto_speedups import digest_of, refuse_changed

SOURCE_PINS = {  # sha256 of inspect.getsource() in moto 5.2.5: the replaced function and the only appenders
    "StateMachine._handle_name_input_idempotency": "9a117fdd6df2c99b371e4bce8953c599f597309dd9bae0774456298c051dc6f2",
    "StateMachine.start_execution": "ee8aeea77dea29b5c1e761330d52020e2f90e6112a5fa10585ea9ed1b1db89d9",
    "StepFunctionsParserBackend.start_execution": "0f8d9dd57baf0c2803dda23c5250b1c787a4a1a3d05239cafbddff1ef905be3a",
}
_lock = threading.Lock()
_installed: dict[str, Callable[..., Any]] = {}  # qualified name -> moto's function (also marks the patch as done)


def _classes() -> dict[str, Any]:
    from moto.stepfunctions.models import StateMachine
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    return {"StateMachine": StateMachine, "StepFunctionsParserBackend": StepFunctionsParserBackend}


def _moto(qualified_name: str) -> Callable[..., Any]:
    owner, name = qualified_name.split(".")
    return _installed.get(qualified_name) or vars(_classes()[owner])[name]


def check_sfn_names() -> None:
    refuse_changed([name for name, digest in SOURCE_PINS.items() if digest_of(_moto(name)) != digest], __name__)


class NameIndex:
    """A state machine's executions by name, the first of a name kept (moto's loop stops at the first)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # executions start from many threads at once
        self._executions: Optional[list[Any]] = None
        self._indexed = 0
        self._by_name: dict[Any, Any] = {}

    def find(self, executions: list[Any], name: Any) -> Any:
        with self._lock:
            if executions is not self._executions or len(executions) < self._indexed:
                self._executions, self._indexed, self._by_name = executions, 0, {}
            end = len(executions)
            for position in range(self._indexed, end):
                execution = executions[position]
                self._by_name.setdefault(execution.name, execution)
            self._indexed = end
            return self._by_name.get(name)


# Kept beside the state machine, not on it: the interpreter deep-copies the state machine for every execution.
_indexes: weakref.WeakKeyDictionary[Any, NameIndex] = weakref.WeakKeyDictionary()


def _index_of(state_machine: Any) -> NameIndex:
    index = _indexes.get(state_machine)
    if index is None:
        with _lock:
            index = _indexes.setdefault(state_machine, NameIndex())
    return index


def handle_name_input_idempotency(self: Any, name: str, execution_input: str) -> Any:
    from moto.stepfunctions.exceptions import ExecutionAlreadyExists

    execution = _index_of(self).find(self.executions, name)
    if execution is None:
        return None
    # Executions with the same name and input are considered idempotent (moto's words and rule)
    if execution_input == execution.execution_input and execution.status == "RUNNING":
        return execution
    raise ExecutionAlreadyExists("Execution Already Exists: '" + execution.execution_arn + "'")


def install_sfn_names() -> None:
    """Replace `StateMachine._handle_name_input_idempotency` in this process (idempotent)."""
    with _lock:
        check_sfn_names()
        if _installed:
            return
        state_machine = _classes()["StateMachine"]
        name = "_handle_name_input_idempotency"
        _installed[f"StateMachine.{name}"] = vars(state_machine)[name]
        setattr(state_machine, name, handle_name_input_idempotency)
