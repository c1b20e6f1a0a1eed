"""The local system's Lambda process (local/lambda_process.py, local/lambda_runtime.py), on a small project of
its own: results and failures as Lambda reports them, a crash, concurrent callers, its AWS calls answered by the
caller's process over the socket (or over HTTP when it has no answer), and the stop."""
from __future__ import annotations

import textwrap
import threading
from pathlib import Path
from typing import Any, Iterator, Optional

import pytest

from local.lambda_process import FunctionError, LambdaProcess
from tests.support import free_port

APP = '''
import os
import time

import boto3
from chalice import Chalice

app = Chalice(app_name="toy")


@app.lambda_function()
def echo(event, context):
    return {"event": event, "name": context.function_name, "arn": context.invoked_function_arn,
            "memory": context.memory_limit_in_mb, "pid": os.getpid()}


@app.lambda_function()
def fail(event, context):
    raise ValueError(f"no such claim: {event['claim']}")


@app.lambda_function()
def unmarshalable(event, context):
    return {"when": object()}


@app.lambda_function()
def crash(event, context):
    os._exit(3)


@app.lambda_function()
def interval(event, context):
    started = time.monotonic()
    time.sleep(event["seconds"])
    return [started, time.monotonic()]


@app.lambda_function()
def account(event, context):
    return boto3.client("sts").get_caller_identity()["Account"]
'''
IDENTITY = (
    b'<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>'
    b"<Arn>arn:aws:iam::111122223333:user/toy</Arn><UserId>TOY</UserId><Account>111122223333</Account>"
    b"</GetCallerIdentityResult><ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata>"
    b"</GetCallerIdentityResponse>"
)


def context(name: str) -> dict[str, Any]:
    return {"function_name": name, "memory_size": 256, "timeout": 30,
            "function_arn": f"arn:aws:lambda:us-east-1:123456789012:function:{name}"}


class FakeMoto:
    """Answers the process's AWS calls as the local system's process would (or not: `answer=None`)."""

    def __init__(self, answer: bool = True) -> None:
        self.answer = answer
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []

    def __call__(self, method: str, url: str, headers: list[tuple[str, str]], body: bytes) -> Optional[Any]:
        self.requests.append((method, url, dict(headers), body))
        return (200, [("Content-Type", "text/xml")], IDENTITY) if self.answer else None


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "app.py").write_text(textwrap.dedent(APP))
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                        ("AWS_DEFAULT_REGION", "us-east-1"), ("AWS_MAX_ATTEMPTS", "1")):
        monkeypatch.setenv(name, value)
    return tmp_path


def started(project: Path, moto: Optional[FakeMoto] = None) -> Iterator[LambdaProcess]:
    endpoint = f"http://127.0.0.1:{free_port()}"  # nothing listens there: only the socket answers
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_ENDPOINT_URL", endpoint)
        process = LambdaProcess(project, "123456789012", endpoint, moto).start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
def lambdas(project: Path) -> Iterator[LambdaProcess]:
    yield from started(project)


def test_a_handler_runs_in_the_process_with_its_event_and_context(lambdas: LambdaProcess) -> None:
    result = lambdas.run("echo", {"caseId": "C-1"}, context("echo"))

    assert result == {"event": {"caseId": "C-1"}, "name": "echo", "memory": 256, "pid": lambdas.pid,
                      "arn": "arn:aws:lambda:us-east-1:123456789012:function:echo"}


def test_failures_come_back_as_lambda_reports_them(lambdas: LambdaProcess) -> None:
    with pytest.raises(FunctionError) as raised:
        lambdas.run("fail", {"claim": "CL-9"}, context("fail"))
    assert (raised.value.error_type, raised.value.message) == ("ValueError", "no such claim: CL-9")

    with pytest.raises(FunctionError) as unmarshalable:
        lambdas.run("unmarshalable", {}, context("unmarshalable"))
    assert unmarshalable.value.error_type == "Runtime.MarshalError"

    with pytest.raises(FunctionError) as missing:
        lambdas.run("nobody", {}, context("nobody"))
    assert missing.value.error_type == "Runtime.HandlerNotFound"
    assert lambdas.run("echo", {}, context("echo"))["event"] == {}  # the process goes on after each


def test_a_crash_fails_the_call_in_flight_and_the_next_call_starts_the_process_again(lambdas: LambdaProcess) -> None:
    first = lambdas.pid

    with pytest.raises(FunctionError) as crashed:
        lambdas.run("crash", {}, context("crash"))

    assert crashed.value.error_type == "Runtime.ExitError"
    assert lambdas.run("echo", {}, context("echo"))["pid"] == lambdas.pid != first


def test_concurrent_callers_run_at_the_same_time(lambdas: LambdaProcess) -> None:
    intervals: list[list[float]] = []
    callers = [threading.Thread(target=lambda: intervals.append(lambdas.run("interval", {"seconds": 1.0},
                                                                               context("interval"))))
               for _ in range(2)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()

    (start_a, end_a), (start_b, end_b) = intervals
    assert start_a < end_b and start_b < end_a  # each began before the other ended: not one after the other


def test_its_aws_calls_are_answered_over_the_socket(project: Path) -> None:
    moto = FakeMoto()
    for lambdas in started(project, moto):
        assert lambdas.run("account", {}, context("account")) == "111122223333"
        assert lambdas.run("account", {}, context("account")) == "111122223333"

    [(method, url, headers, body), _] = moto.requests
    assert (method, body) == ("POST", b"Action=GetCallerIdentity&Version=2011-06-15")
    assert url.startswith("http://127.0.0.1:") and headers["Authorization"].startswith("AWS4-HMAC-SHA256")


def test_without_an_answer_its_aws_calls_go_over_http(project: Path) -> None:
    moto = FakeMoto(answer=False)
    for lambdas in started(project, moto):
        with pytest.raises(FunctionError) as raised:
            lambdas.run("account", {}, context("account"))

    assert len(moto.requests) == 1
    assert raised.value.error_type == "EndpointConnectionError"  # nothing listens on the endpoint's port


def test_after_the_stop_calls_fail_and_nothing_is_left(project: Path) -> None:
    running = started(project)
    lambdas = next(running)
    lambdas.run("echo", {}, context("echo"))
    process, folder = lambdas._process, lambdas._folder

    lambdas.stop()

    assert process is not None and process.poll() is not None
    assert not folder.exists()
    with pytest.raises(FunctionError) as raised:
        lambdas.run("echo", {}, context("echo"))
    assert raised.value.error_type == "Runtime.Unknown"


def test_the_process_ends_when_the_system_s_process_is_gone(project: Path, tmp_path: Path) -> None:
    """A system killed with SIGKILL (no stop), here even before its Lambda process is up, must not leave it behind."""
    import os
    import signal
    import subprocess
    import sys
    import time

    script = tmp_path / "system.py"
    script.write_text(textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})
        from pathlib import Path
        from local.lambda_process import LambdaProcess
        process = LambdaProcess(Path({str(project)!r}), "123456789012", "http://127.0.0.1:1", None).start()
        print(process.pid, flush=True)
        time.sleep(60)
    """))
    system = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    assert system.stdout is not None
    lambdas = int(system.stdout.readline())

    os.kill(system.pid, signal.SIGKILL)
    system.wait()

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(lambdas, 0)  # still there (or a zombie not yet reaped by init)
        except ProcessLookupError:
            return
        with open(f"/proc/{lambdas}/stat") as stat:
            if stat.read().rsplit(")", 1)[1].split()[0] == "Z":
                return
        time.sleep(0.1)
    os.kill(lambdas, signal.SIGKILL)
    pytest.fail("the Lambda process outlived the system's process")
