"""The state machines' definitions: valid ASL (statelint), and the issue's rules for every state."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

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
