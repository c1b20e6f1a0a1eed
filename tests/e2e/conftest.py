"""The running local system, started exactly as `make run` starts it, driven over HTTP as a client would."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import boto3
import pytest
import requests

from local.iam_recorder import ENV_VAR as RECORD_IAM

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LocalProcess:
    record_iam_to: Optional[Path] = None  # set by the `iam_records` fixture for the whole session

    def __init__(self, state_dir: Path, env: Optional[dict[str, str]] = None, seed: bool = True) -> None:
        """`env`: extra environment for the system (e.g. WAIT_SECONDS_APPROVAL); the local stage's
        `.chalice/config.json` variables still win for the keys it defines. `seed=False`: no demo cases."""
        self.state_dir = state_dir
        self.log = state_dir / "local.log"
        process_env = {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"}  # always our own moto
        process_env.update(env or {})
        process_env["PYTHONUNBUFFERED"] = "1"
        if LocalProcess.record_iam_to is not None:  # every system records its functions' AWS calls
            process_env[RECORD_IAM] = str(LocalProcess.record_iam_to)
        self._log_handle = self.log.open("wb")  # a file, not a pipe: a full pipe would block the server
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "local", "run", "--port", str(free_port()), "--moto-port", str(free_port()),
             "--console-port", str(free_port()),
             "--state-dir", str(state_dir), *([] if seed else ["--no-seed"])],
            cwd=ROOT, env=process_env, stdout=self._log_handle, stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        if not self._log_handle.closed:  # closed once stopped
            self._log_handle.flush()
        return self.log.read_text(errors="replace")

    def wait_ready(self) -> dict[str, Any]:
        deadline = time.monotonic() + START_TIMEOUT
        stack_file = self.state_dir / "stack.json"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"the local system exited early ({self.proc.returncode}):\n{self.output()}")
            if stack_file.is_file():
                try:
                    stack = json.loads(stack_file.read_text())
                    if requests.get(f"{stack['apiUrl']}/health", timeout=2).status_code == 200:
                        return dict(stack)
                except (ValueError, requests.RequestException):
                    pass  # half-written file or server not listening yet
            time.sleep(0.2)
        self.stop()
        pytest.fail(f"the local system was not ready within {START_TIMEOUT:.0f}s:\n{self.output()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # as Ctrl-C: stops cleanly and writes the snapshot
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log_handle.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The IAM <-> code test reads what every other test made the functions call: it runs last."""
    items.sort(key=lambda item: item.module is not None and item.module.__name__.endswith("test_iam_policies"))


@pytest.fixture(scope="session", autouse=True)
def iam_records(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The file every local system of the session appends its functions' AWS calls to (local/iam_recorder.py);
    tests/e2e/test_iam_policies.py compares them with the IAM policies."""
    LocalProcess.record_iam_to = tmp_path_factory.mktemp("iam") / "actions.jsonl"
    return LocalProcess.record_iam_to


@pytest.fixture(scope="session")
def local_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalProcess]:
    process = LocalProcess(tmp_path_factory.mktemp("local-system"))
    try:
        yield process
    finally:
        crashed = process.proc.poll() is not None
        process.stop()
    if crashed:
        pytest.fail(f"the local system died during the tests ({process.proc.returncode}):\n{process.output()}")


@pytest.fixture(scope="session")
def local_stack(local_process: LocalProcess) -> dict[str, Any]:
    return local_process.wait_ready()


@pytest.fixture(scope="session")
def token(local_stack: dict[str, Any]) -> Callable[[str], str]:
    """`token("alice")`: an ID token from the local user pool, logged in as a front end does."""
    return login_to(local_stack)


def login_to(local_stack: dict[str, Any]) -> Callable[[str], str]:
    """The `token` fixture's login for any running local system's stack."""
    passwords = {u["username"]: u["password"] for u in local_stack["users"]}
    idp = boto3.client(
        "cognito-idp", endpoint_url=local_stack["awsEndpoint"], region_name=local_stack["region"],
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )
    cache: dict[str, str] = {}

    def login(username: str) -> str:
        if username not in cache:
            result = idp.initiate_auth(
                AuthFlow="USER_PASSWORD_AUTH", ClientId=local_stack["userPoolClientId"],
                AuthParameters={"USERNAME": username, "PASSWORD": passwords[username]},
            )
            cache[username] = result["AuthenticationResult"]["IdToken"]
        return cache[username]

    return login


class Api(requests.Session):
    """A session whose paths are relative to the API and which sends the user's token, if any."""

    def __init__(self, base_url: str, token: Optional[str] = None) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")
        if token is not None:
            self.headers["Authorization"] = f"Bearer {token}"

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        kwargs.setdefault("timeout", 30)
        return super().request(method, self.base_url + url if url.startswith("/") else url, *args, **kwargs)


@pytest.fixture(scope="session")
def api(local_stack: dict[str, Any], token: Callable[[str], str]) -> Iterator[Callable[[Optional[str]], Api]]:
    """`api("alice").get("/cases")`; `api(None)` sends no token."""
    sessions: list[Api] = []

    def make(username: Optional[str] = None) -> Api:
        session = Api(local_stack["apiUrl"], token(username) if username else None)
        sessions.append(session)
        return session

    yield make
    for session in sessions:
        session.close()


@pytest.fixture(scope="session")
def drain_lambdas(local_stack: dict[str, Any]) -> Callable[..., dict[str, Any]]:
    """`drain_lambdas()`: wait until the local system has handled every queued DynamoDB stream batch
    (and the records those handlers' own writes produced); returns the dispatcher's counters. It does not
    wait for Step Functions executions the handlers started: poll the case or the execution for those."""
    return drainer(local_stack)


def drainer(local_stack: dict[str, Any]) -> Callable[..., dict[str, Any]]:
    def drain(timeout: float = 30.0) -> dict[str, Any]:
        response = requests.get(local_stack["lambdaDrainUrl"], params={"timeout": timeout}, timeout=timeout + 10)
        assert response.status_code == 200, f"stream handlers still busy after {timeout}s: {response.text}"
        return dict(response.json())

    return drain


class LambdaFaults:
    """Client of a local system's fault registry (local/faults.py): make its Lambda functions fail."""

    def __init__(self, local_stack: dict[str, Any]) -> None:
        self.url = local_stack["lambdaFaultsUrl"]

    def inject(self, function: str, times: int = 1, error: str = "DependencyUnavailable", **more: Any) -> dict[str, Any]:
        """`more`: `caseId` (only that case's invocations), `when` ("before"/"after" the handler), `message`."""
        response = requests.post(self.url, json={"function": function, "times": times, "error": error, **more}, timeout=10)
        assert response.status_code == 201, response.text
        return dict(response.json())

    def state(self) -> dict[str, Any]:
        """{"faults": what is still armed, "fired": the invocations faults failed}."""
        return dict(requests.get(self.url, timeout=10).json())

    def clear(self) -> None:
        response = requests.delete(self.url, timeout=10)
        assert response.status_code == 200, response.text


@pytest.fixture
def lambda_faults(local_stack: dict[str, Any]) -> Iterator[LambdaFaults]:
    """Faults on the session's local system, cleared after the test whatever its outcome."""
    faults = LambdaFaults(local_stack)
    faults.clear()
    try:
        yield faults
    finally:
        faults.clear()


class RunningSystem:
    """Another local system than the session's, with its own stack and helpers."""

    def __init__(self, process: LocalProcess, stack: dict[str, Any]) -> None:
        self.process, self.stack = process, stack
        self.token = login_to(stack)
        self.drain = drainer(stack)
        self.faults = LambdaFaults(stack)
        self._sessions: list[Api] = []

    def api(self, username: Optional[str] = None) -> Api:
        session = Api(self.stack["apiUrl"], self.token(username) if username else None)
        self._sessions.append(session)
        return session

    def close(self) -> Optional[str]:
        """Stop it; what went wrong, if it had died during the tests."""
        for session in self._sessions:
            session.close()
        crashed = self.process.proc.poll() is not None
        self.process.stop()
        return f"a local system died during the tests ({self.process.proc.returncode}):\n{self.process.output()}" \
            if crashed else None


@pytest.fixture(scope="module")
def local_system_with(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., RunningSystem]]:
    """`local_system_with({"WAIT_SECONDS_APPROVAL": "3"}, seed=False)`: a second local system started with
    extra environment, one per distinct (env, seed) in a module, stopped after the module. The session's
    system (`local_stack`, `api`, ...) is not affected."""
    systems: dict[tuple[Any, ...], RunningSystem] = {}

    def start(env: Optional[dict[str, str]] = None, seed: bool = True) -> RunningSystem:
        key = (tuple(sorted((env or {}).items())), seed)
        if key not in systems:
            process = LocalProcess(tmp_path_factory.mktemp("local-system-with"), env=env, seed=seed)
            try:
                stack = process.wait_ready()
            except BaseException:
                process.stop()
                raise
            systems[key] = RunningSystem(process, stack)
        return systems[key]

    try:
        yield start
    finally:
        problems = [problem for system in systems.values() if (problem := system.close())]
    if problems:
        pytest.fail("\n".join(problems))
