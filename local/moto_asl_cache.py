"""One parse of each state machine definition, shared by its executions (moto 5.2.5, pinned).

moto's Step Functions interpreter parses the definition with ANTLR for every execution it starts
(`ExecutionWorker._get_evaluation_entrypoint`): 0.3-0.5 s of CPU for the case workflow on this 2-core
machine, for every case created, more than the rest of `POST /cases` and its workflow together. The parsed
program is a tree of components that keep no execution's state: an execution's data lives in its own
`Environment`, and the one attribute a component sets lazily, `EvalComponent.heap_key`, only names a slot in
that environment's heap. It is set here, on every component, before the tree is shared, so that concurrent
executions never race to set it."""
from __future__ import annotations

import threading
from typing import Any

from .moto_speedups import digest_of, refuse_changed

SOURCE_PINS = {
    "ExecutionWorker._get_evaluation_entrypoint": "2b25949ae855da8035b347b28ac72f90d7d6542bf26ef7e1f03a50ce6a981fde",
    "EvalComponent.heap_key": "2531bf43997a22522797c701dd58d4b0c15100c59d04a068a49db42f35a1aae4",
}
_KEPT = 16  # definitions; the local system deploys two
_lock = threading.Lock()
_programs: dict[str, Any] = {}
_installed: dict[str, Any] = {}


def _pinned() -> dict[str, Any]:
    from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    return {
        "ExecutionWorker._get_evaluation_entrypoint": _installed.get("entrypoint")
        or ExecutionWorker.__dict__["_get_evaluation_entrypoint"],
        "EvalComponent.heap_key": EvalComponent.__dict__["heap_key"].fget,
    }


def check_asl_cache() -> None:
    refuse_changed([name for name, function in _pinned().items() if digest_of(function) != SOURCE_PINS[name]], __name__)


def program_for(definition: str) -> Any:
    """The parsed program of a definition, parsed once."""
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    with _lock:
        program = _programs.get(definition)
        if program is None:
            program = AmazonStateLanguageParser.parse(definition)[0]
            _set_heap_keys(program)
            if len(_programs) >= _KEPT:
                _programs.clear()
            _programs[definition] = program
        return program


def _set_heap_keys(root: Any) -> None:
    from moto.stepfunctions.parser.asl.component.component import Component
    from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent

    seen: set[int] = set()
    pending = [root]
    while pending:
        value = pending.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        if isinstance(value, EvalComponent):
            value.heap_key  # the property sets it on first read
        if isinstance(value, Component):
            pending.extend(vars(value).values())
        elif isinstance(value, (list, tuple, set, frozenset)):
            pending.extend(value)
        elif isinstance(value, dict):
            pending.extend(value.values())


def _entrypoint(self: Any) -> Any:
    return program_for(self._evaluation_details.state_machine_details.definition)


def install_asl_cache() -> None:
    """Replace `ExecutionWorker._get_evaluation_entrypoint` in this process (idempotent)."""
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    with _lock:
        check_asl_cache()
        if "entrypoint" not in _installed:
            _installed["entrypoint"] = ExecutionWorker.__dict__["_get_evaluation_entrypoint"]
            ExecutionWorker._get_evaluation_entrypoint = _entrypoint
