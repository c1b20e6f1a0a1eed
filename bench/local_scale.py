"""The local system as its data grows: create latency, listing latency, workflow lag, memory, stop and restart.

Run from the repo root:  .venv/bin/python bench/local_scale.py [N]      (N cases, default 5000)
Options: --rate R creates per second (default 5), --bucket B cases per bucket (default 500),
         --budget S (default 3600: no create starts later than this; the buckets reached are reported),
         --project-dir D (default: this checkout; another checkout measures its code, e.g. before a change),
         --keep (keep the temporary state folder).

What it does
- starts `python -m local run --no-seed` (fresh state folder, free ports) in D as a subprocess, as `make run`
  does, and logs the demo users in with Cognito InitiateAuth against the stack's endpoint;
- bob (caseworker, team complaints) creates N COMPLAINT cases over HTTP at a steady rate (an open loop: case i
  is sent at start + i/R by one of 8 client threads, so a slow system queues requests rather than lowering
  the rate); each create's latency is recorded;
- at the end of each bucket: 5 x `GET /cases?limit=25` as ada (admin, sees every case) and as alice
  (caseworker, team claims: sees none of bob's cases), and the subprocess's RSS (/proc) with its Lambda
  process's (`lambdaProcessPid` in the stack: the app's handlers run there, local/lambda_process.py);
- CPU per case: the CPU time (user + system) the subprocess used during the bucket, over the bucket's cases (and
  apart, its Lambda process's); with
  the machine's load average, it tells a slow bucket on a busy machine from a system that costs more per case
  (the process runs Python on one core at a time: it keeps pace with R creates/s only below 1000/R ms per case);
- workflow lag per case: from its CREATED audit event to its WORKFLOW_STARTED event (the case leaves NEW),
  read from `GET /cases/{id}/history` after the creates (timestamps written by the system itself);
- CPU per case with the consumers caught up: the subprocess's CPU from the first create until its stream and
  asynchronous Lambda queues are empty (`lambdaDrainUrl`, asked after the 10 s the last workflows get to start),
  over the cases: the whole of a case's work, which the buckets' figure leaves partly to later when the stream
  consumers fall behind (two runs compare on this one);
- stop time: SIGINT (Ctrl-C) until the process has exited (it writes its snapshot on the way);
  restart time: from starting the process again on the same state folder until GET /health answers,
  then the case count seen by ada is checked against N.
Prints figures only (no assertions on timing): moto serves every AWS call in the same process as the app.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any, Optional

import boto3
import requests

from harness import ROOT, free_port, keep_or_remove, log
from chalicelib.domain.case_rows import ROWS_PREFIX
from harness.local_system import login_all
from harness.stats import percentile

START_TIMEOUT = 180.0
HTTP_TIMEOUT = 120.0
CREATOR, ADMIN, BLIND_CASEWORKER = "bob", "ada", "alice"


class LocalProcess:
    """`python -m local run` on a state folder, its output in a log file."""

    def __init__(self, project_dir: Path, state_dir: Path, log_name: str) -> None:
        env = {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"}  # always its own moto
        env["PYTHONUNBUFFERED"] = "1"
        self.state_dir = state_dir
        self.log_file = state_dir.parent / log_name
        self._log = self.log_file.open("wb")  # a file, not a pipe: a full pipe would block the server
        command = [sys.executable, "-m", "local", "run", "--port", str(free_port()), "--moto-port",
                   str(free_port()), "--console-port", str(free_port()), "--state-dir", str(state_dir), "--no-seed"]
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(command, cwd=project_dir, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        self.lambda_pid: Optional[int] = None  # the process the Lambda handlers run in, from the stack

    def wait_ready(self) -> tuple[dict[str, Any], float]:
        """The stack and the seconds from process start until GET /health answered."""
        stack_file = self.state_dir / "stack.json"
        stack_file.unlink(missing_ok=True)  # a previous run's file names other ports
        deadline = self.started + START_TIMEOUT
        with requests.Session() as http:
            http.trust_env = False
            while time.perf_counter() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"the local system exited early; see {self.log_file}")
                try:
                    stack = json.loads(stack_file.read_text())
                    if http.get(f"{stack['apiUrl']}/health", timeout=2).status_code == 200:
                        self.lambda_pid = stack.get("lambdaProcessPid")
                        return stack, time.perf_counter() - self.started
                except (OSError, ValueError, KeyError, requests.RequestException):
                    pass  # not written yet, half-written, or the server is not listening yet
                time.sleep(0.05)
        raise RuntimeError(f"the local system was not ready within {START_TIMEOUT:.0f}s; see {self.log_file}")

    def rss_mb(self) -> tuple[float, float]:
        """RSS of the process and of its Lambda process (0 when it has none)."""
        return _rss_mb(self.proc.pid), _rss_mb(self.lambda_pid) if self.lambda_pid else 0.0

    def cpu_seconds(self) -> tuple[float, float]:
        """CPU time the process and its Lambda process (0 when it has none) have used so far."""
        return _cpu_seconds(self.proc.pid), _cpu_seconds(self.lambda_pid) if self.lambda_pid else 0.0

    def stop(self, timeout: float = 300.0) -> float:
        """SIGINT, as Ctrl-C; the seconds until the process exited."""
        sent = time.perf_counter()
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            log(f"killed: not exited {timeout:.0f}s after SIGINT")
        self._log.close()
        return time.perf_counter() - sent


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (/proc/PID/stat, fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Client:
    """Per-thread HTTP sessions per user (requests.Session is not meant to be shared across threads)."""

    def __init__(self, api_url: str, tokens: dict[str, str]) -> None:
        self.api_url, self.tokens, self._local = api_url, tokens, threading.local()

    def call(self, user: str, method: str, path: str, **kwargs: Any) -> requests.Response:
        sessions = self._local.__dict__.setdefault("sessions", {})
        if user not in sessions:
            session = sessions[user] = requests.Session()
            session.trust_env = False
            session.headers["Authorization"] = f"Bearer {self.tokens[user]}"
        return sessions[user].request(method, self.api_url + path, timeout=HTTP_TIMEOUT, **kwargs)

    def timed(self, user: str, method: str, path: str, **kwargs: Any) -> tuple[float, requests.Response]:
        start = time.perf_counter()
        response = self.call(user, method, path, **kwargs)
        return (time.perf_counter() - start) * 1000, response


def list_p50(client: Client, user: str, repeat: int = 5) -> tuple[float, str]:
    """p50 ms of GET /cases?limit=25, and the items on the last page (or the error statuses seen)."""
    times, items, errors = [], 0, []
    for _ in range(repeat):
        ms, response = client.timed(user, "GET", "/cases?limit=25")
        times.append(ms)
        if response.status_code == 200:
            items = len(response.json()["items"])
        else:
            errors.append(str(response.status_code))
    return statistics.median(times), f"{items} items" + (f", errors {' '.join(errors)}" if errors else "")


def workflow_lag(client: Client, case_id: str) -> Optional[float]:
    """Seconds from the case's CREATED event to its WORKFLOW_STARTED event (None: not started)."""
    response = client.call(ADMIN, "GET", f"/cases/{case_id}/history")
    if response.status_code != 200:
        return None
    body = response.json()
    events = body["items"] if isinstance(body, dict) else body
    at = {event["type"]: datetime.fromisoformat(event["at"].replace("Z", "+00:00")) for event in reversed(events)}
    if "CREATED" not in at and events:
        at["CREATED"] = datetime.fromisoformat(events[0]["at"].replace("Z", "+00:00"))
    if "WORKFLOW_STARTED" not in at:
        return None
    return (at["WORKFLOW_STARTED"] - at["CREATED"]).total_seconds()


def create_cases(client: Client, n: int, rate: float, bucket: int, budget: float, system: LocalProcess
                 ) -> tuple[list[dict[str, Any]], list[str]]:
    """Create up to n cases at `rate`/s; measure at each bucket's end. Returns the buckets and the case ids."""
    latencies: list[Optional[float]] = [None] * n
    ids: list[Optional[str]] = [None] * n
    errors: list[str] = []
    start = time.perf_counter()

    def create(i: int) -> None:
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        body = {"title": f"Scale case {i}", "caseType": "COMPLAINT", "priority": "MEDIUM",
                "customerId": f"CUST-{2001 + i % 30}", "description": "bench/local_scale.py"}
        try:
            ms, response = client.timed(CREATOR, "POST", "/cases", json=body)
        except requests.RequestException as exc:
            errors.append(f"case {i}: {exc}")
            return
        if response.status_code != 201:
            errors.append(f"case {i}: {response.status_code} {response.text[:200]}")
            return
        latencies[i], ids[i] = ms, response.json()["id"]

    buckets: list[dict[str, Any]] = []
    cpu_before = system.cpu_seconds()
    with ThreadPoolExecutor(max_workers=8) as pool:
        for first in range(0, n, bucket):
            last = min(n, first + bucket)
            if time.perf_counter() - start > budget:
                log(f"budget of {budget:.0f}s spent: stopped after {first} cases")
                break
            list(pool.map(create, range(first, last)))
            cpu_now = system.cpu_seconds()
            main_ms, lambda_ms = ((now - before) * 1000 / (last - first) for now, before in zip(cpu_now, cpu_before))
            cpu_before = cpu_now
            rss_main, rss_lambda = system.rss_mb()
            done = [ms for ms in latencies[first:last] if ms is not None]
            admin_ms, admin_items = list_p50(client, ADMIN)
            blind_ms, blind_items = list_p50(client, BLIND_CASEWORKER)
            buckets.append({
                "cases": f"{first + 1}-{last}", "created": len(done),
                "create_p50": percentile(done, 0.5), "create_p95": percentile(done, 0.95),
                "list_admin_p50": admin_ms, "admin_items": admin_items,
                "list_caseworker_p50": blind_ms, "caseworker_items": blind_items,
                "rss_mb": rss_main + rss_lambda, "lambda_rss_mb": rss_lambda, "elapsed_s": time.perf_counter() - start,
                "cpu_ms_per_case": main_ms, "lambda_cpu_ms_per_case": lambda_ms, "load": os.getloadavg()[0],
            })
            log(f"bucket {buckets[-1]}")
    for message in errors[:5]:
        log(message)
    return buckets, [i for i in ids if i is not None]


def drained(stack: dict[str, Any], timeout: float = 900.0) -> Optional[float]:
    """Seconds until the system's Lambda queues were empty (None: not within `timeout`)."""
    started = time.perf_counter()
    with requests.Session() as http:
        http.trust_env = False
        while time.perf_counter() - started < timeout:
            if http.get(stack["lambdaDrainUrl"], params={"timeout": 60}, timeout=HTTP_TIMEOUT).status_code == 200:
                return time.perf_counter() - started
    return None


def case_count(client: Client) -> tuple[int, int]:
    """The cases the admin lists, and the failed requests (each page is asked again until it answers)."""
    count, failures, cursor = 0, 0, None
    while True:
        path = "/cases?limit=100" + (f"&cursor={cursor}" if cursor else "")
        response = client.call(ADMIN, "GET", path)
        if response.status_code != 200:
            failures += 1
            time.sleep(1)
            continue
        body = response.json()
        count += len(body["items"])
        cursor = body.get("nextCursor")
        if not cursor:
            return count, failures


def data_product_rows(stack: dict[str, Any]) -> int:
    """The case data product's rows of every contract version (each change writes a v1 and a v2 row), as the
    snapshot saves them: counting cases/v1/ only found half the rows the stop had saved."""
    s3 = boto3.client("s3", endpoint_url=stack["awsEndpoint"], region_name=stack["region"],
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=stack["dataProductBucket"], Prefix=ROWS_PREFIX)
    return sum(page.get("KeyCount", 0) for page in pages)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("n", nargs="?", type=int, default=5000)
    parser.add_argument("--rate", type=float, default=5.0)
    parser.add_argument("--bucket", type=int, default=500)
    parser.add_argument("--budget", type=float, default=3600.0)
    parser.add_argument("--project-dir", type=Path, default=ROOT)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="local-scale-"))
    state = tmp / "state"
    system = LocalProcess(args.project_dir.resolve(), state, "run1.log")
    try:
        stack, first_start = system.wait_ready()
        client = Client(stack["apiUrl"], login_all(stack))
        cpu_start = system.cpu_seconds()
        buckets, ids = create_cases(client, args.n, args.rate, args.bucket, args.budget, system)
        time.sleep(10)  # the last workflows start
        drain_s = drained(stack)
        main_cpu, lambda_cpu = ((now - start) / max(len(ids), 1) for now, start in zip(system.cpu_seconds(), cpu_start))
        lags = [workflow_lag(client, case_id) for case_id in ids]
        per_bucket_lags = [lags[i:i + args.bucket] for i in range(0, len(lags), args.bucket)]
        rows_before = data_product_rows(stack)
        stop_s = system.stop()
        system = LocalProcess(args.project_dir.resolve(), state, "run2.log")
        stack, restart_s = system.wait_ready()
        client = Client(stack["apiUrl"], login_all(stack))
        restored, list_failures = case_count(client)
        rows_after = data_product_rows(stack)
        final_stop_s = system.stop()
    except BaseException:
        if system.proc.poll() is None:
            system.proc.kill()
        log(f"logs kept in {tmp}")
        raise

    print(f"\nbench/local_scale.py: {len(ids)} of {args.n} cases at {args.rate}/s, "
          f"project {args.project_dir.resolve()}")
    print(f"first start {first_start:.1f} s\n")
    print("| cases | create p50 / p95 ms | GET /cases p50 ms admin (items) | GET /cases p50 ms caseworker (items) "
          "| workflow lag p50 / p95 s (not started) | RSS MB (of it the Lambda process) "
          "| CPU ms per case, process / Lambda process | load average |")
    print("|---|---|---|---|---|---|---|---|")
    for row, bucket_lags in zip(buckets, per_bucket_lags):
        started = [lag for lag in bucket_lags if lag is not None]
        print(f"| {row['cases']} | {row['create_p50']:.0f} / {row['create_p95']:.0f} | {row['list_admin_p50']:.0f} "
              f"({row['admin_items']}) | {row['list_caseworker_p50']:.0f} ({row['caseworker_items']}) | "
              f"{percentile(started, 0.5):.1f} / {percentile(started, 0.95):.1f} ({len(bucket_lags) - len(started)}) "
              f"| {row['rss_mb']:.0f} ({row['lambda_rss_mb']:.0f}) | {row['cpu_ms_per_case']:.0f} / "
              f"{row['lambda_cpu_ms_per_case']:.0f} | {row['load']:.1f} |")
    caught_up = "not within 900 s" if drain_s is None else f"{drain_s:.1f} s after the 10 s wait"
    print(f"\nCPU per case, the consumers caught up (first create to empty Lambda queues, {caught_up}): "
          f"{main_cpu * 1000:.0f} ms in the process, {lambda_cpu * 1000:.0f} ms in its Lambda process")
    print(f"stop (SIGINT to exit, snapshot written): {stop_s:.1f} s")
    print(f"restart on the snapshot until GET /health answers: {restart_s:.1f} s; cases listed by the admin "
          f"after it: {restored} (created {len(ids)}; {list_failures} page requests failed and were repeated)")
    print(f"case data product rows before the stop: {rows_before}; after the restart: {rows_after}")
    print(f"second stop: {final_stop_s:.1f} s")
    keep_or_remove(tmp, args.keep)
    return 0


if __name__ == "__main__":
    sys.exit(main())
