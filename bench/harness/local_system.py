"""The local system as a subprocess, as `make run` starts it (`python -m local run` on free ports, a state folder
of its own, no seed data), its demo users logged in with Cognito, and one user's HTTP session to its API."""
from __future__ import annotations

import collections
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Optional

import boto3
import requests

from harness import ROOT, free_port, log

START_TIMEOUT = 90.0
STOP_TIMEOUT = 30.0  # SIGINT -> "stopped" (snapshot written)
EXIT_GRACE = 10.0  # "stopped" -> the process has exited (it should be at once)
HTTP_TIMEOUT = 30.0

# Put on the subprocess's PYTHONPATH. BENCH_DUMP_STACKS: SIGUSR1 dumps every thread's stack into the log (to
# see why a stop hangs). BENCH_AWS_CALLS_FILE: count and time every botocore call made in the subprocess.
SITECUSTOMIZE = r'''
import os as _os

if _os.environ.get("BENCH_DUMP_STACKS"):  # SIGUSR1 prints every thread's stack to the log (a hung stop)
    import faulthandler as _faulthandler
    import signal as _signal

    _faulthandler.register(_signal.SIGUSR1, all_threads=True)

if _os.environ.get("BENCH_AWS_CALLS_FILE"):
    import collections as _collections
    import json as _json
    import sys as _sys
    import threading as _threading

    import botocore.session as _botocore_session

    _OUT = _os.environ["BENCH_AWS_CALLS_FILE"]
    _counts = _collections.Counter()
    _seconds = _collections.Counter()  # time from before-call to after-call (lock and GIL waits included)
    _lock = _threading.Lock()
    _clock = __import__("time").perf_counter

    def _origin():
        frame = _sys._getframe(2)
        while frame is not None:
            module = frame.f_globals.get("__name__")
            if module == "local.lambdas":
                function = frame.f_locals.get("function")
                name = getattr(function, "function_name", "?")
                return ("stream:" if frame.f_code.co_name == "_run_async" else "lambda:") + name
            if module == "chalice.local":
                return "api"
            frame = frame.f_back
        return "other"

    def _on_call(event_name=None, context=None, **_):
        parts = (event_name or "").split(".")  # before-call.<service>.<Operation>
        key = _origin() + "|" + ".".join(parts[1:3])
        with _lock:
            _counts[key] += 1
        if context is not None:
            context["bench_call"] = (key, _clock())

    def _after_call(context=None, **_):
        started = (context or {}).get("bench_call")
        if started is not None:
            with _lock:
                _seconds[started[0]] += _clock() - started[1]

    _create_client = _botocore_session.Session.create_client

    def _counting_create_client(self, *args, **kwargs):
        client = _create_client(self, *args, **kwargs)
        client.meta.events.register("before-call", _on_call)
        client.meta.events.register("after-call", _after_call)
        return client

    _botocore_session.Session.create_client = _counting_create_client

    def _writer():
        import time
        last = None
        while True:
            time.sleep(0.2)
            with _lock:
                snapshot = {"counts": dict(_counts), "seconds": dict(_seconds)}
            if snapshot != last:
                tmp = _OUT + ".tmp"
                with open(tmp, "w") as handle:
                    _json.dump(snapshot, handle)
                _os.replace(tmp, _OUT)
                last = snapshot

    _threading.Thread(target=_writer, name="bench-aws-calls", daemon=True).start()
'''


# -- the local system as a subprocess -------------------------------------------------------------

class LocalProcess:
    def __init__(self, state_dir: Path, count_calls: bool) -> None:
        self.state_dir = state_dir
        self.log_file = state_dir / "local.log"
        self.calls_file: Optional[Path] = None
        env = {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"}  # always our own moto
        env["PYTHONUNBUFFERED"] = "1"
        env["BENCH_DUMP_STACKS"] = "1"
        hook_dir = state_dir / "hook"
        hook_dir.mkdir()
        (hook_dir / "sitecustomize.py").write_text(SITECUSTOMIZE)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(hook_dir), env.get("PYTHONPATH", "")) if p)
        if count_calls:
            self.calls_file = state_dir / "aws_calls.json"
            env["BENCH_AWS_CALLS_FILE"] = str(self.calls_file)
        self.command = [sys.executable, "-m", "local", "run", "--port", str(free_port()),
                        "--moto-port", str(free_port()), "--state-dir", str(state_dir / "state"), "--no-seed"]
        self._log_handle = self.log_file.open("wb")  # a file, not a pipe: a full pipe would block the server
        self.proc = subprocess.Popen(self.command, cwd=ROOT, env=env, stdout=self._log_handle,
                                     stderr=subprocess.STDOUT)

    def output_tail(self, lines: int = 40, max_bytes: int = 65536) -> str:
        """The last lines of the subprocess's log (reads at most the last `max_bytes`)."""
        if not self._log_handle.closed:
            self._log_handle.flush()
        with self.log_file.open("rb") as handle:
            handle.seek(max(0, self.log_file.stat().st_size - max_bytes))
            return "\n".join(handle.read().decode(errors="replace").splitlines()[-lines:])

    def wait_ready(self) -> dict[str, Any]:
        deadline = time.monotonic() + START_TIMEOUT
        stack_file = self.state_dir / "state" / "stack.json"
        with requests.Session() as http:
            http.trust_env = False  # loopback only: no proxy
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"the local system exited early ({self.proc.returncode}):\n{self.output_tail()}")
                if stack_file.is_file():
                    try:
                        stack = json.loads(stack_file.read_text())
                        if http.get(f"{stack['apiUrl']}/health", timeout=2).status_code == 200:
                            return dict(stack)
                    except (ValueError, KeyError, requests.RequestException):
                        pass  # half-written file or server not listening yet
                time.sleep(0.2)
        raise RuntimeError(f"the local system was not ready within {START_TIMEOUT:.0f}s:\n{self.output_tail()}")

    def memory_mb(self) -> dict[str, float]:
        """The subprocess's resident memory now and at its peak (Linux /proc), in MB."""
        try:
            status = Path(f"/proc/{self.proc.pid}/status").read_text()
        except OSError:
            return {}
        values = {}
        for line in status.splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) / 1024
        return values

    def begin_stop(self) -> None:
        """SIGINT, as Ctrl-C: the system stops, writes its snapshot and prints "stopped"; returns then (or when
        the process has exited, or after STOP_TIMEOUT). The process should exit right after "stopped"."""
        self._stop: dict[str, Any] = {"sent": time.perf_counter()}
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            deadline = self._stop["sent"] + STOP_TIMEOUT
            while self.proc.poll() is None and time.perf_counter() < deadline:
                if re.search(r"^stopped\b", self.output_tail(5, 4096), re.MULTILINE):
                    self._stop["stopped"] = time.perf_counter() - self._stop["sent"]
                    break
                time.sleep(0.1)

    def finish_stop(self) -> dict[str, Any]:
        """Wait for the exit: up to EXIT_GRACE after "stopped" (STOP_TIMEOUT after SIGINT without it); a process
        still alive then gets SIGUSR1 (its threads' stacks go to the log) and is killed. May run a while
        after begin_stop (the next batch's system starts meanwhile): "exited within" is then an upper bound."""
        result = dict(self._stop)
        sent = result.pop("sent")
        limit = sent + (result["stopped"] + EXIT_GRACE if "stopped" in result else STOP_TIMEOUT)
        try:
            self.proc.wait(max(0.0, limit - time.perf_counter()))
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGUSR1)
            time.sleep(1.0)
            stack = self.output_tail(400)
            self.kill()
            result["killed"] = True
            current = stack.rsplit("Current thread", 1)
            result["main_thread"] = (" / ".join(line.strip() for line in current[1].splitlines()[1:4])
                                     if len(current) == 2 else "?")
            log(f"the local system had not exited {time.perf_counter() - sent - 1:.0f}s after SIGINT "
                f"(\"stopped\" printed after {result.get('stopped', float('nan')):.1f}s; main thread: "
                f"{result['main_thread']}): killed it")
        self._log_handle.close()
        result["seconds"] = time.perf_counter() - sent
        result["exit_code"] = self.proc.returncode
        return result

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def error_lines(self, limit: int = 6) -> list[str]:
        """Distinct ERROR/exception lines of the subprocess's log (Powertools JSON or logging), first seen first."""
        self._log_handle.flush()
        seen: dict[str, int] = {}
        lines = self.log_file.read_text(errors="replace").splitlines()
        for number, line in enumerate(lines):
            text = line.strip()
            if text.startswith("{"):
                try:
                    entry = json.loads(text)
                except ValueError:
                    continue
                if str(entry.get("level", "")).upper() not in ("ERROR", "CRITICAL"):
                    continue
                exc = str(entry.get("exception", "")).strip().splitlines()
                text = f"{entry.get('message')} ({entry.get('method', '')} {entry.get('path', '')}".rstrip() + ")"
                if exc:
                    text += f": {exc[-1]}"
            elif " ERROR " in text:
                # logging format: the traceback follows; its last line names the exception
                after = lines[number + 1:number + 80]
                tail = next((line for line in after if line and not line.startswith((" ", "Traceback"))), "")
                text = text.split(" ERROR ", 1)[1] + (f": {tail.strip()}" if tail else "")
            else:
                continue
            seen[text[:300]] = seen.get(text[:300], 0) + 1
        return [f"{count}x {text}" for text, count in list(seen.items())[:limit]]

    def aws_calls(self) -> tuple[collections.Counter[str], collections.Counter[str]]:
        """(calls, seconds spent in them) by "origin|service.Operation", as the hook last wrote them."""
        if self.calls_file is None or not self.calls_file.is_file():
            return collections.Counter(), collections.Counter()
        data = json.loads(self.calls_file.read_text())
        return collections.Counter(data["counts"]), collections.Counter(data["seconds"])


# -- HTTP clients ---------------------------------------------------------------------------------

REQUESTS: collections.Counter[str] = collections.Counter()  # what the benchmark sent, by kind
requests_lock = threading.Lock()


class Api:
    """One user's session (one per thread: requests.Session is not meant to be shared across threads)."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, kind: str, **kwargs: Any) -> requests.Response:
        with requests_lock:
            REQUESTS[kind] += 1
        return self.session.request(method, self.base_url + path, timeout=HTTP_TIMEOUT, **kwargs)


def login_all(stack: dict[str, Any]) -> dict[str, str]:
    idp = boto3.client("cognito-idp", endpoint_url=stack["awsEndpoint"], region_name=stack["region"],
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    tokens = {}
    for user in stack["users"]:
        result = idp.initiate_auth(
            AuthFlow="USER_PASSWORD_AUTH", ClientId=stack["userPoolClientId"],
            AuthParameters={"USERNAME": user["username"], "PASSWORD": user["password"]},
        )
        tokens[user["username"]] = result["AuthenticationResult"]["IdToken"]
    return tokens
