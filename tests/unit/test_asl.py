"""The state machines' definitions: valid ASL (statelint), and the issue's rules for every state."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib.services.workflow import RUN_ORDER

ROOT = Path(__file__).resolve().parents[2]
ASL_FILES = sorted((ROOT / "stepfunctions").glob("*.asl.json"))
TRANSIENT = {"Lambda.ServiceException", "Lambda.TooManyRequestsException", "DependencyUnavailable"}


def _states(path: Path) -> dict:
    return json.loads(path.read_text())["States"]


@pytest.mark.parametrize("path", ASL_FILES, ids=lambda p: p.name)
def test_statelint_accepts_the_definition(path):
    statelint = Path(sys.executable).parent / "statelint"
    result = subprocess.run([str(statelint), str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_statelint_is_not_a_test_that_cannot_fail(tmp_path):
    bad = tmp_path / "bad.asl.json"
    bad.write_text(json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}}))
    statelint = Path(sys.executable).parent / "statelint"
    assert subprocess.run([str(statelint), str(bad)], capture_output=True).returncode != 0


@pytest.mark.parametrize("path", ASL_FILES, ids=lambda p: p.name)
def test_every_task_retries_transient_errors_and_catches_the_rest(path):
    for name, state in _states(path).items():
        if state["Type"] != "Task":
            continue
        retried = {error for rule in state.get("Retry", []) for error in rule["ErrorEquals"]}
        if state["Resource"].startswith("arn:aws:states:::lambda:"):
            assert TRANSIENT <= retried, name
        else:  # a service integration (ECS) retries its own transient errors
            assert retried, name
        caught = {error for rule in state.get("Catch", []) for error in rule["ErrorEquals"]}
        assert "States.ALL" in caught, name


@pytest.mark.parametrize("path", ASL_FILES, ids=lambda p: p.name)
def test_every_wait_for_a_token_times_out_into_an_escalation(path):
    states = _states(path)
    for name, state in states.items():
        if not state.get("Resource", "").endswith(".waitForTaskToken"):
            continue
        assert "TimeoutSeconds" in state or "TimeoutSecondsPath" in state, name
        timeout = [rule["Next"] for rule in state["Catch"] if rule["ErrorEquals"] == ["States.Timeout"]]
        assert timeout and timeout[0].startswith("Escalate"), name
        assert states[timeout[0]]["Next"] == name  # escalate, then wait again
        assert "taskToken.$" in state["Parameters"]["Payload"]


# The stage each step of the case workflow leaves its case at (services/workflow.py); a wait or an escalation: its
# Payload's stage. Choices have none: the order holds across them.
_STEP_STAGES = {"${WfInitiateFunctionArn}": "INITIATED", "${WfAssignFunctionArn}": "ASSIGNED",
                "${WfCompensateFunctionArn}": "COMPENSATION", "${WfCompleteFunctionArn}": "COMPLETED"}


def _stage_of(state: dict):
    parameters = state.get("Parameters") or {}
    return (parameters.get("Payload") or {}).get("stage") or _STEP_STAGES.get(str(parameters.get("FunctionName")))


def test_no_step_of_the_case_workflow_leads_back_to_an_earlier_stage():
    """A new execution carrying a lost run on passes the stages its case went past (workflow.RUN_ORDER): that
    order must be the state machine's. Escalations wait again at their own stage; failures end the run."""
    states = _states(ROOT / "stepfunctions" / "case_workflow.asl.json")

    def next_staged(name: str, seen: frozenset = frozenset()) -> set:
        """The stages of the steps `name` leads to, through choices."""
        state = states[name]
        if state["Type"] != "Choice":
            stage = _stage_of(state)
            return {stage} if stage else set()
        targets = [c["Next"] for c in state["Choices"]] + [state["Default"]]
        return {s for t in targets if t not in seen for s in next_staged(t, seen | {name})}

    checked = 0
    for name, state in states.items():
        stage = _stage_of(state)
        if stage is None or "Next" not in state:
            continue
        for later in next_staged(state["Next"]):
            assert RUN_ORDER.index(later) >= RUN_ORDER.index(stage), f"{name} ({stage}) leads to {later}"
            checked += 1
    assert checked >= 12  # every step with a successor (a renamed Payload key would check nothing)
