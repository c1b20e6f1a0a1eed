"""local/moto_sfn_names.py: a new execution's name is judged as moto judges it. On random sequences of starts
(few names, two inputs, no name at all), stops and replaced lists, every answer of the indexed look-up is
compared with moto's own loop on the same state machine; then through the API on the session's moto server."""
from __future__ import annotations

import json
import random
import uuid
from typing import Any, Callable

import pytest
from botocore.exceptions import ClientError
from moto.core.utils import utcnow
from moto.stepfunctions.models import StateMachine

from local import moto_sfn_names
from local.lambdas import MotoPinError
from local.moto_sfn_names import check_sfn_names, handle_name_input_idempotency, install_sfn_names

ROLE = "arn:aws:iam::123456789012:role/it-sfn-names"
WAITING = json.dumps({"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 3600, "End": True}}})


def _answer(judge: Callable[..., Any], machine: StateMachine, name: Any, execution_input: str) -> tuple[str, Any]:
    try:
        found = judge(machine, name, execution_input)
    except Exception as exc:  # noqa: BLE001 - the exception is the answer compared
        return type(exc).__name__, str(exc)
    return ("new", None) if found is None else ("again", id(found))


@pytest.mark.parametrize("seed", range(5))
def test_answers_as_moto_on_random_starts_stops_and_replaced_lists(seed: int) -> None:
    rng = random.Random(seed)
    moto_judge = moto_sfn_names._moto("StateMachine._handle_name_input_idempotency")
    machine = StateMachine(arn=f"arn:aws:states:us-east-1:123456789012:stateMachine:m{seed}", name=f"m{seed}",
                           definition=WAITING, roleArn=ROLE, backend=None)
    names: list[Any] = [f"run-{i}" for i in range(40)] + [None]
    inputs = ['{"a": 1}', '{"a": 2}']
    answers = set()
    for _ in range(800):
        roll = rng.random()
        if roll < 0.1 and machine.executions:
            rng.choice(machine.executions).stop(stop_date=utcnow(), error="", cause="")
            continue
        if roll < 0.12:  # a new list, shorter or of the same executions: the index must start over
            machine.executions = list(machine.executions[:rng.randrange(len(machine.executions) + 1)])
            continue
        name, execution_input = rng.choice(names), rng.choice(inputs)
        expected = _answer(moto_judge, machine, name, execution_input)
        assert _answer(handle_name_input_idempotency, machine, name, execution_input) == expected
        answers.add(expected[0])
        if expected[0] == "new":
            machine.start_execution(region_name="us-east-1", account_id="123456789012", execution_name=name,
                                    execution_input=execution_input)
    assert answers == {"new", "again", "ExecutionAlreadyExists"}  # every branch was compared


def test_an_execution_appended_after_a_look_up_is_found() -> None:
    machine = StateMachine(arn="arn:aws:states:us-east-1:123456789012:stateMachine:late", name="late",
                           definition=WAITING, roleArn=ROLE, backend=None)
    assert handle_name_input_idempotency(machine, "first", "{}") is None
    started = machine.start_execution(region_name="us-east-1", account_id="123456789012", execution_name="first",
                                      execution_input="{}")
    assert handle_name_input_idempotency(machine, "first", "{}") is started


def test_a_changed_moto_function_fails_the_check(monkeypatch: pytest.MonkeyPatch) -> None:
    check_sfn_names()
    monkeypatch.setitem(moto_sfn_names.SOURCE_PINS, "StateMachine.start_execution", "0" * 64)
    with pytest.raises(MotoPinError, match="StateMachine.start_execution"):
        check_sfn_names()


@pytest.fixture(scope="module")
def sfn(moto_endpoint: str, aws: Callable[[str], Any]) -> Any:
    install_sfn_names()
    return aws("stepfunctions")


def test_through_the_api_a_name_starts_once(sfn: Any) -> None:
    arn = sfn.create_state_machine(name=f"names-{uuid.uuid4().hex[:8]}", definition=WAITING, roleArn=ROLE)[
        "stateMachineArn"]
    first = sfn.start_execution(stateMachineArn=arn, name="case-1", input='{"a": 1}')["executionArn"]
    sfn.start_execution(stateMachineArn=arn, name="case-2", input='{"a": 1}')
    assert sfn.start_execution(stateMachineArn=arn, name="case-1", input='{"a": 1}')["executionArn"] == first
    with pytest.raises(ClientError) as other_input:
        sfn.start_execution(stateMachineArn=arn, name="case-1", input='{"a": 2}')
    assert other_input.value.response["Error"]["Code"] == "ExecutionAlreadyExists"
    sfn.stop_execution(executionArn=first)
    with pytest.raises(ClientError) as stopped:
        sfn.start_execution(stateMachineArn=arn, name="case-1", input='{"a": 1}')
    assert stopped.value.response["Error"]["Code"] == "ExecutionAlreadyExists"
    sfn.stop_execution(executionArn=arn.replace(":stateMachine:", ":execution:") + ":case-2")
