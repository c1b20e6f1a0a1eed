"""The running local system, started exactly as `make run` starts it, driven over HTTP as a client would."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import pytest
import requests

from local.redis_server import RedisServer
from tests.local_system import Api, LocalProcess, login_to, stopped_after


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The IAM <-> code test reads what every other test made the functions call: it runs last."""

    def runs_last(item: pytest.Item) -> bool:
        module = getattr(item, "module", None)
        return module is not None and module.__name__.endswith("test_iam_policies")

    items.sort(key=runs_last)


@pytest.fixture(scope="session", autouse=True)
def iam_records(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The file every local system of the session appends its functions' AWS calls to (local/iam_recorder.py);
    tests/e2e/test_iam_policies.py compares them with the IAM policies."""
    LocalProcess.record_iam_to = tmp_path_factory.mktemp("iam") / "actions.jsonl"
    return LocalProcess.record_iam_to


@pytest.fixture(scope="session")
def local_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalProcess]:
    with stopped_after(LocalProcess(tmp_path_factory.mktemp("local-system")), "the tests") as process:
        yield process


@pytest.fixture(scope="session")
def local_stack(local_process: LocalProcess) -> dict[str, Any]:
    return local_process.wait_ready()


@pytest.fixture(scope="session")
def token(local_stack: dict[str, Any]) -> Callable[[str], str]:
    """`token("alice")`: an ID token from the local user pool, logged in as a front end does."""
    return login_to(local_stack)


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

    def inject(self, function: str, times: int = 1, error: str = "DependencyUnavailable",
               **more: Any) -> dict[str, Any]:
        """`more`: `caseId` (only that case's invocations), `when` ("before"/"after" the handler), `message`."""
        fault = {"function": function, "times": times, "error": error, **more}
        response = requests.post(self.url, json=fault, timeout=10)
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


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    """A redis-server of the module's own, for a local system started with it (`local_system_with`): the tests
    may kill it."""
    with RedisServer() as server:
        yield server
