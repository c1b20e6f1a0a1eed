"""local/moto_sfn_threads.py: executions end as with moto's own interpreter, with one thread per waiting
execution. Each machine runs once on moto's functions and once on the patched ones; statuses, outputs, errors,
histories and the answers to the task-token calls must be the same."""
from __future__ import annotations

import json
import os
import re
import sys
import threading
import traceback
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

import pytest
from botocore.exceptions import ClientError

from local import moto_sfn_threads
from local.lambdas import MotoPinError
from local.moto_sfn_threads import ForgottenThreads, check_sfn_threads, install_sfn_threads
from tests.support import wait_for

ROLE = "arn:aws:iam::123456789012:role/it-sfn-threads"
QUEUE_URL = "<queue>"


@pytest.fixture(scope="module")
def sfn(moto_endpoint: str, aws: Callable[[str], Any]) -> Any:
    request = urllib.request.Request(
        f"{moto_endpoint}/moto-api/config", method="POST", headers={"Content-Type": "application/json"},
        data=json.dumps({"stepfunctions": {"execute_state_machine": True}}).encode(),
    )
    urllib.request.urlopen(request, timeout=10).read()
    install_sfn_threads()
    return aws("stepfunctions")


@pytest.fixture
def moto_only(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Puts moto's own functions back for the rest of the test."""

    def restore() -> None:
        classes = moto_sfn_threads._classes()
        for qualified_name in moto_sfn_threads.REPLACEMENTS:
            owner, name = qualified_name.split(".")
            monkeypatch.setattr(classes[owner], name, moto_sfn_threads._installed[qualified_name])

    return restore


def callback(name: str = "Wait", **fields: Any) -> dict[str, Any]:
    """A Task state that sends its token to the run's queue and waits for it."""
    return {name: {
        "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"QueueUrl.$": "$$.Execution.Input.queue", "MessageBody": {"token.$": "$$.Task.Token"}},
        **fields,
    }}


def machine(*states: dict[str, Any], **top: Any) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for state in states:
        merged.update(state)
    return {"StartAt": next(iter(merged)), "States": merged, **top}


@dataclass
class Run:
    """One execution of a machine, and what the test's calls answered."""

    sfn: Any
    sqs: Any
    queue: str
    arn: str = ""
    tokens: list[str] = field(default_factory=list)
    answers: list[Any] = field(default_factory=list)

    def token(self) -> str:
        def received() -> str | None:
            messages = self.sqs.receive_message(QueueUrl=self.queue, MaxNumberOfMessages=1).get("Messages", [])
            for message in messages:
                self.sqs.delete_message(QueueUrl=self.queue, ReceiptHandle=message["ReceiptHandle"])
                return str(json.loads(message["Body"])["token"])
            return None

        token = wait_for(received, "a task token")
        self.tokens.append(token)
        return token

    def call(self, operation: str, **kwargs: Any) -> None:
        """Calls the Step Functions API and keeps its answer (the error code, if it refused)."""
        try:
            answer = getattr(self.sfn, operation)(**kwargs)
            self.answers.append((operation, {k: v for k, v in answer.items() if k != "ResponseMetadata"}))
        except ClientError as exc:
            self.answers.append((operation, exc.response["Error"]["Code"]))

    def status(self) -> str:
        return str(self.sfn.describe_execution(executionArn=self.arn)["status"])

    def ended(self) -> str:
        return wait_for(lambda: (s := self.status()) != "RUNNING" and s, "the execution to end", timeout=60)


def run(sfn: Any, aws: Callable[[str], Any], definition: dict[str, Any], drive: Callable[[Run], None]) -> Any:
    """Runs `definition` once, driven by `drive`; what moto answered, with names, tokens and times taken out."""
    sqs = aws("sqs")
    suffix = uuid.uuid4().hex[:10]
    queue = sqs.create_queue(QueueName=f"sfn-threads-{suffix}")["QueueUrl"]
    name = f"sfn-threads-{suffix}"
    arn = sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE)["stateMachineArn"]
    current = Run(sfn, sqs, queue)
    current.arn = sfn.start_execution(stateMachineArn=arn, name="run", input=json.dumps({"queue": queue}))[
        "executionArn"]
    drive(current)
    current.ended()
    described = sfn.describe_execution(executionArn=current.arn)
    events = sfn.get_execution_history(executionArn=current.arn)["events"]
    seen = json.dumps([
        {k: described.get(k) for k in ("status", "output", "error", "cause")},
        [{k: v for k, v in event.items() if k != "timestamp"} for event in events],
        current.answers,
    ], sort_keys=True, default=str)
    for token in current.tokens:
        seen = seen.replace(token, "<token>")
    seen = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<id>", seen)  # SQS message ids
    seen = re.sub(r"\b[0-9a-f]{32}\b", "<md5>", seen)  # of SQS message bodies, which hold the token
    return json.loads(seen.replace(queue, QUEUE_URL).replace(name, "<machine>"))


def in_any_order(seen: Any) -> Any:
    """`seen` with the events in no particular order: parallel branches and map iterations race each other."""
    events = [{k: v for k, v in event.items() if k not in ("id", "previousEventId")} for event in seen[1]]
    return [seen[0], sorted(events, key=lambda event: json.dumps(event, sort_keys=True)), seen[2]]


def same_with_and_without(
    sfn: Any, aws: Callable[[str], Any], moto_only: Callable[[], None], definition: dict[str, Any],
    drive: Callable[[Run], None], concurrent: Callable[[Any], Any] = lambda seen: seen,
) -> Any:
    patched = run(sfn, aws, definition, drive)
    moto_only()
    assert concurrent(patched) == concurrent(run(sfn, aws, definition, drive))
    return patched


def succeed(current: Run) -> None:
    current.call("send_task_success", taskToken=current.token(), output=json.dumps({"paid": 12.5}))


def fail(current: Run) -> None:
    current.call("send_task_failure", taskToken=current.token(), error="Refused", cause="no funds")


def nothing(current: Run) -> None:
    return None


def test_a_task_token_sent_back_succeeds_the_task(sfn: Any, aws: Any, moto_only: Any) -> None:
    seen = same_with_and_without(sfn, aws, moto_only, machine(callback(ResultPath="$.result", End=True)), succeed)
    assert seen[0]["status"] == "SUCCEEDED"
    assert json.loads(seen[0]["output"])["result"] == {"paid": 12.5}


def test_a_task_failure_fails_the_execution_with_its_error(sfn: Any, aws: Any, moto_only: Any) -> None:
    seen = same_with_and_without(sfn, aws, moto_only, machine(callback(End=True)), fail)
    assert seen[0] == {"status": "FAILED", "output": None, "error": "Refused", "cause": None}  # moto keeps no cause


def test_a_task_timeout_fails_with_states_timeout(sfn: Any, aws: Any, moto_only: Any) -> None:
    seen = same_with_and_without(sfn, aws, moto_only, machine(callback(TimeoutSeconds=1, End=True)), nothing)
    assert (seen[0]["status"], seen[0]["error"]) == ("FAILED", "States.Timeout")


def test_a_timeout_from_the_input_is_caught(sfn: Any, aws: Any, moto_only: Any) -> None:
    definition = machine(
        {"Start": {"Type": "Pass", "Result": 1, "ResultPath": "$.seconds", "Next": "Wait"}},
        callback(TimeoutSecondsPath="$.seconds", Catch=[
            {"ErrorEquals": ["States.Timeout"], "ResultPath": "$.caught", "Next": "Late"}], End=True),
        {"Late": {"Type": "Pass", "End": True}},
    )
    seen = same_with_and_without(sfn, aws, moto_only, definition, nothing)
    assert seen[0]["status"] == "SUCCEEDED"
    assert json.loads(seen[0]["output"])["caught"]["Error"] == "States.Timeout"


def test_a_missed_heartbeat_times_the_task_out(sfn: Any, aws: Any, moto_only: Any) -> None:
    definition = machine(callback(HeartbeatSeconds=1, TimeoutSeconds=30, End=True))
    seen = same_with_and_without(sfn, aws, moto_only, definition, nothing)
    assert (seen[0]["status"], seen[0]["error"]) == ("FAILED", "States.Timeout")  # moto's name for it


def test_heartbeats_then_success(sfn: Any, aws: Any, moto_only: Any) -> None:
    def beat_then_succeed(current: Run) -> None:
        token = current.token()
        current.call("send_task_heartbeat", taskToken=token)
        current.call("send_task_success", taskToken=token, output="{}")

    definition = machine(callback(HeartbeatSeconds=20, TimeoutSeconds=30, End=True))
    seen = same_with_and_without(sfn, aws, moto_only, definition, beat_then_succeed)
    assert seen[0]["status"] == "SUCCEEDED"


def test_a_stopped_execution_answers_as_moto_then_ends_on_its_token(sfn: Any, aws: Any, moto_only: Any) -> None:
    def stop_while_waiting(current: Run) -> None:
        token = current.token()
        current.call("stop_execution", executionArn=current.arn, error="Stop", cause="by hand")
        current.answers.append(("status", current.status()))
        current.call("send_task_success", taskToken=token, output="{}")  # moto's waiting thread ends only so

    seen = same_with_and_without(sfn, aws, moto_only, machine(callback(End=True)), stop_while_waiting)
    assert seen[0]["status"] == "ABORTED"


def test_retry_then_catch_around_a_callback(sfn: Any, aws: Any, moto_only: Any) -> None:
    definition = machine(
        callback(
            Retry=[{"ErrorEquals": ["Refused"], "MaxAttempts": 1, "IntervalSeconds": 1}],
            Catch=[{"ErrorEquals": ["States.ALL"], "ResultPath": "$.caught", "Next": "Handled"}], End=True,
        ),
        {"Handled": {"Type": "Pass", "End": True}},
    )

    def fail_twice(current: Run) -> None:
        fail(current)
        fail(current)

    seen = same_with_and_without(sfn, aws, moto_only, definition, fail_twice)
    assert seen[0]["status"] == "SUCCEEDED"
    assert json.loads(seen[0]["output"])["caught"] == {"Error": "Refused", "Cause": None}


def test_a_program_timeout_times_the_execution_out(sfn: Any, aws: Any, moto_only: Any) -> None:
    def late(current: Run) -> None:
        token = current.token()
        current.ended()
        current.call("send_task_success", taskToken=token, output="{}")  # not RUNNING: moto knows no such token
        current.call("send_task_failure", taskToken=token, error="Late")  # ends moto's waiting thread

    seen = same_with_and_without(sfn, aws, moto_only, machine(callback(End=True), TimeoutSeconds=1), late)
    assert seen[0]["status"] == "TIMED_OUT"
    assert seen[2][0] == ["send_task_success", "InvalidToken"]


def test_callbacks_in_parallel_branches_and_map_iterations(sfn: Any, aws: Any, moto_only: Any) -> None:
    definition = machine(
        {"Both": {"Type": "Parallel", "Next": "Each", "ResultPath": "$.both", "Branches": [
            machine(callback("Left", End=True)), machine(callback("Right", End=True))]}},
        {"Each": {"Type": "Map", "ItemsPath": "$.both", "ResultPath": "$.each", "End": True,
                  "ItemSelector": {"queue.$": "$$.Execution.Input.queue"},
                  "ItemProcessor": machine(callback("Item", End=True))}},
    )

    def four_successes(current: Run) -> None:
        for _ in range(4):
            current.call("send_task_success", taskToken=current.token(), output="{}")

    seen = same_with_and_without(sfn, aws, moto_only, definition, four_successes, in_any_order)
    assert seen[0]["status"] == "SUCCEEDED"


def test_unknown_and_spent_tokens_are_refused_as_moto_refuses_them(sfn: Any, aws: Any, moto_only: Any) -> None:
    def spent_then_unknown(current: Run) -> None:
        token = current.token()
        current.call("send_task_success", taskToken=token, output="{}")
        current.ended()
        for operation in ("send_task_success", "send_task_heartbeat"):
            current.call(operation, taskToken=token, **({"output": "{}"} if operation == "send_task_success" else {}))
        current.call("send_task_failure", taskToken=token, error="Late")
        current.call("send_task_success", taskToken="not-a-token", output="{}")
        current.call("send_task_failure", taskToken="not-a-token")

    seen = same_with_and_without(sfn, aws, moto_only, machine(callback(End=True)), spent_then_unknown)
    assert seen[2][1:3] == [["send_task_success", "InvalidToken"], ["send_task_heartbeat", "InvalidToken"]]


def test_a_known_token_is_not_looked_for_in_every_execution(
    sfn: Any, aws: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_scan(*args: Any) -> list[Any]:
        raise AssertionError("moto's scan of every execution ran")

    def succeed_without_scanning(current: Run) -> None:
        token = current.token()
        monkeypatch.setitem(moto_sfn_threads._installed, "Backend._get_executions", no_scan)
        current.call("send_task_success", taskToken=token, output="{}")
        monkeypatch.undo()

    seen = run(sfn, aws, machine(callback(End=True)), succeed_without_scanning)
    assert seen[0]["status"] == "SUCCEEDED"
    assert seen[2] == [["send_task_success", {}]]


def interpreter_threads_while_waiting(sfn: Any, aws: Callable[[str], Any], count: int) -> int:
    """Threads running moto's Step Functions code while `count` executions wait for their tokens."""
    sqs = aws("sqs")
    queue = sqs.create_queue(QueueName=f"sfn-threads-{uuid.uuid4().hex[:10]}")["QueueUrl"]
    arn = sfn.create_state_machine(
        name=f"sfn-threads-{uuid.uuid4().hex[:10]}", definition=json.dumps(machine(callback(End=True))), roleArn=ROLE,
    )["stateMachineArn"]
    runs = [Run(sfn, sqs, queue) for _ in range(count)]
    for number, current in enumerate(runs):  # named: moto takes executions without a name for one and the same
        current.arn = sfn.start_execution(
            stateMachineArn=arn, name=f"run-{number}", input=json.dumps({"queue": queue}))["executionArn"]
    tokens = [runs[0].token() for _ in runs]  # one message per execution: each is waiting now
    interpreter = f"{os.sep}moto{os.sep}stepfunctions{os.sep}"
    threads = sum(
        any(interpreter in entry.filename for entry in traceback.extract_stack(frame))
        for ident, frame in sys._current_frames().items() if ident != threading.get_ident()
    )
    for token in tokens:
        sfn.send_task_success(taskToken=token, output="{}")
    assert {current.ended() for current in runs} == {"SUCCEEDED"}
    return threads


def test_a_waiting_execution_holds_one_thread(sfn: Any, aws: Any, moto_only: Any) -> None:
    assert interpreter_threads_while_waiting(sfn, aws, 20) <= 20
    moto_only()
    assert interpreter_threads_while_waiting(sfn, aws, 20) >= 60  # moto's three


def test_moto_s_thread_list_no_longer_grows(sfn: Any, aws: Any) -> None:
    from moto.stepfunctions.parser import utils
    from moto.stepfunctions.parser.asl.component.state.exec import execute_state

    run(sfn, aws, machine(callback(End=True)), succeed)
    assert isinstance(utils.TMP_THREADS, ForgottenThreads) and not utils.TMP_THREADS
    assert execute_state.TMP_THREADS is utils.TMP_THREADS


def test_the_patch_is_pinned_to_moto_source(monkeypatch: pytest.MonkeyPatch) -> None:
    check_sfn_threads()
    assert set(moto_sfn_threads.REPLACEMENTS) <= set(moto_sfn_threads.SOURCE_PINS)
    monkeypatch.setitem(moto_sfn_threads.SOURCE_PINS, "Program.eval", "0" * 64)
    with pytest.raises(MotoPinError, match="Program.eval changed"):
        check_sfn_threads()


def test_a_new_user_of_tmp_threads_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(moto_sfn_threads, "TMP_THREADS_USERS", moto_sfn_threads.TMP_THREADS_USERS[1:])
    with pytest.raises(MotoPinError, match="TMP_THREADS's users changed"):
        check_sfn_threads()
