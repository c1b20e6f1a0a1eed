"""The local system as the end-to-end and browser tests run it: a subprocess started exactly as `make run` starts
it (its own ports and state folder), its users logged in through its user pool, and sessions on its API."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import boto3
import pytest
import requests

from local.iam_recorder import ENV_VAR as RECORD_IAM
from tests.support import free_port

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0


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


@contextmanager
def stopped_after(process: LocalProcess, what: str) -> Iterator[LocalProcess]:
    """Yields the process; stops it afterwards, and fails the run if it had died meanwhile."""
    try:
        yield process
    finally:
        crashed = process.proc.poll() is not None
        process.stop()
    if crashed:
        pytest.fail(f"the local system died during {what} ({process.proc.returncode}):\n{process.output()}")


def aws_client(stack: dict[str, Any], service: str) -> Any:
    """A boto3 client on a running local system's AWS endpoint."""
    return boto3.client(service, endpoint_url=stack["awsEndpoint"], region_name=stack["region"],
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def login_to(local_stack: dict[str, Any]) -> Callable[[str], str]:
    """The `token` fixture's login for any running local system's stack."""
    passwords = {u["username"]: u["password"] for u in local_stack["users"]}
    idp = aws_client(local_stack, "cognito-idp")
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


def complete_open_tasks(api: Callable[[Optional[str]], Api], case_id: str) -> None:
    """Complete a case's open tasks as their assignees (an admin those in a queue): gives the assignees their
    capacity back, since later cases are assigned by load."""
    for task in api("ada").get("/tasks", params={"caseId": case_id}).json()["items"]:
        if task["status"] == "OPEN":
            worker = api(task["assignee"]) if task["assignee"] else api("ada")
            response = worker.post(f"/tasks/{task['id']}/complete", json={})
            assert response.status_code == 200, response.text
