"""Case workflow throughput and per-case cost on the running local system.

Run from the repo root:  .venv/bin/python bench/workflow_throughput.py [N]     (N GENERAL cases, default 100)
Options: --complaints M (default 20), --threads T (default 4), --timeout S per case (default 120),
         --poll S (default 0.2), --budget S (default 245: no case starts later than this after the script
         started, so a run stays under 5 minutes even on a busy machine; cases not started are reported;
         the COMPLAINT batch runs first and starts no case after 75 s),
         --no-count (no DynamoDB request counting), --keep (keep the temporary state folders).

What it does
- for each batch, starts a fresh local system (empty table) as `make run` does, as a subprocess:
  `python -m local run --port <free> --moto-port <free> --state-dir <tmp> --no-seed`, waits for
  stack.json and GET /health, and logs the demo users in with Cognito InitiateAuth (USER_PASSWORD_AUTH)
  against the stack's awsEndpoint, as tests/local_system.py does. Every request goes to loopback.
- GENERAL happy path: T client threads work N cases, one case at a time per thread (a closed loop, so at
  most T cases are in flight): alice POSTs the case; the thread polls GET /cases/{id} (as ada, every
  --poll seconds) until the workflow waits for its tasks (stage TASKS, as tests/e2e/test_workflow.py
  does), completes every OPEN task as its assignee (as ada when it sits unassigned in the team queue),
  and polls until the case is CLOSED. Time to close = from just before the POST to the first poll that
  sees CLOSED (so it includes up to one poll interval). A case not CLOSED within --timeout is a failure.
- COMPLAINT path (M cases, compensation 120.00 EUR): bob POSTs; at stage APPROVAL, ava finds the
  approval with GET /approvals?caseId= and approves it; at stage PAYMENT, fin confirms the payment with
  a reference; at stage TASKS the tasks are completed; then it polls until CLOSED.
- per-case cost, read after each batch has finished:
  * state transitions: the states entered in GET /cases/{id}/workflow `history` (once the run has
    SUCCEEDED); Lambda invocations: the entered states whose ASL type is Task, cross-checked with the
    in-process dispatcher's `invoked` counter (GET <awsEndpoint>/_local/lambda/drain?timeout=...), which
    also reports the DynamoDB stream records handed to the stream handler (`delivered`);
  * DynamoDB requests (unless --no-count): the subprocess gets a `sitecustomize` on PYTHONPATH that
    registers botocore `before-call`/`after-call` hooks on every client created in it (the app's pynamodb
    clients included) and attributes each call to where it ran — an API route (chalice.local), a Lambda
    task or the stream handler (local.lambdas) — by walking the calling thread's frames; counts and time
    spent are written to a JSON file every 0.2 s. The same file registers a SIGUSR1 stack dump
    (faulthandler). Nothing else in the subprocess changes. The API side includes the benchmark's own
    polling, so only the workflow side (Lambdas + stream handler) is a per-case cost of the workflow.
  * mean latency of each AWS call while the first fifth of the cases completed vs the last fifth: shows
    which calls slow down as the table grows.
- prints figures and a markdown table; stops each subprocess with SIGINT (kills it on errors, and when it
  has not exited 10 s after printing "stopped"; the first system finishes exiting while the second one
  starts). The temporary state folders (logs, snapshots) are kept when a case failed, the log has ERROR
  lines or a process had to be killed.

Why a fresh system per batch: the local system slows down as its table grows. moto 5.2.5's
TransactWriteItems deep-copies the whole table for every item of a transaction (a rollback copy), and
local/moto_atomic.py runs DynamoDB requests one at a time, so every DynamoDB request waits behind those
copies (measured separately: 2-put TransactWriteItems 13 ms on a 64-item table, 156 ms on 1,126 items;
GetItem and PutItem flat). moto also keeps every copy alive (BaseModel.__new__ appends each new Table
and Item to the class's `instances_tracked` list), so memory grows with writes x table size. A
second batch on the first one's table would measure mostly that.

Prints figures only (no assertions on timing). moto serves every AWS call in the same process as the
app (one GIL, 2 cores here), so times are upper bounds, not predictions of AWS.
"""
from __future__ import annotations

import argparse
import collections
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

import boto3
import requests

from harness import ROOT, keep_or_remove, log
from harness.local_system import EXIT_GRACE, REQUESTS, Api, LocalProcess, login_all, requests_lock
from harness.stats import percentile

ASL_FILE = ROOT / "stepfunctions" / "case_workflow.asl.json"
COMPLAINT_WINDOW = 75.0  # the COMPLAINT batch (run first) starts no case later than this after the script started
HARD_LIMIT_AFTER_LAST_START = 25.0  # a case still open this long after the last start time gives up

GENERAL = {"title": "Change of address", "caseType": "GENERAL", "priority": "MEDIUM", "customerId": "CUST-9018"}
COMPLAINT = {"title": "Late delivery refund", "caseType": "COMPLAINT", "priority": "HIGH", "customerId": "CUST-9018",
             "compensation": {"amount": "120.00", "currency": "EUR"}}


# -- HTTP clients ---------------------------------------------------------------------------------

class Users:
    """Per-thread sessions for every demo user."""

    def __init__(self, api_url: str, tokens: dict[str, str]) -> None:
        self.api_url, self.tokens = api_url, tokens
        self._local = threading.local()
        self._all: list[Api] = []
        self._lock = threading.Lock()

    def __getitem__(self, username: str) -> Api:
        sessions = getattr(self._local, "sessions", None)
        if sessions is None:
            sessions = self._local.sessions = {}
        if username not in sessions:
            sessions[username] = Api(self.api_url, self.tokens[username])
            with self._lock:
                self._all.append(sessions[username])
        return sessions[username]

    def close(self) -> None:
        for api in self._all:
            api.session.close()


def drain_stats(stack: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
    url = stack.get("lambdaDrainUrl") or stack["awsEndpoint"] + "/_local/lambda/drain"
    with requests.Session() as http:
        http.trust_env = False
        response = http.get(url, params={"timeout": timeout}, timeout=timeout + 10)
    body = dict(response.json())
    body["status"] = response.status_code
    return body


# -- one case --------------------------------------------------------------------------------------

class CaseFailed(Exception):
    pass


@dataclass
class CaseRun:
    index: int
    kind: str
    case_id: Optional[str] = None
    post_s: Optional[float] = None  # POST /cases latency
    marks: dict[str, float] = field(default_factory=dict)  # first time a stage was seen / an action done
    close_s: Optional[float] = None  # POST sent -> CLOSED seen
    error: Optional[str] = None
    assignees: list[str] = field(default_factory=list)  # per completed task; "(queue)" when unassigned
    last_seen: Optional[dict[str, Any]] = None
    skipped: bool = False  # not started: the time budget was used up


def stage_of(case: dict[str, Any]) -> Optional[str]:
    return (case.get("workflow") or {}).get("stage")


class Driver:
    def __init__(self, users: Users, poll: float, timeout: float, hard_deadline: float) -> None:
        """A case gives up `timeout` seconds after its POST, and in any case at `hard_deadline` (perf_counter)."""
        self.users, self.poll, self.timeout, self.hard_deadline = users, poll, timeout, hard_deadline

    def _deadline(self, t0: float) -> float:
        return min(t0 + self.timeout, self.hard_deadline)

    def _wait_case(self, run: CaseRun, t0: float, predicate: Callable[[dict[str, Any]], bool],
                   what: str) -> dict[str, Any]:
        deadline = self._deadline(t0)
        admin = self.users["ada"]
        while True:
            response = admin.call("GET", f"/cases/{run.case_id}", "GET /cases/{id} (poll)")
            if response.status_code == 200:
                case = response.json()
                run.last_seen = {"status": case.get("status"), "stage": stage_of(case)}
                if predicate(case):
                    return case
                if case.get("status") == "NEEDS_ATTENTION" or stage_of(case) == "FAILED":
                    raise CaseFailed(f"workflow failed while waiting to be {what}: {run.last_seen}")
            elif response.status_code not in (429, 503):
                raise CaseFailed(f"GET /cases/{{id}} -> {response.status_code}: {response.text[:200]}")
            if time.perf_counter() + self.poll > deadline:
                raise CaseFailed(f"not {what} after {time.perf_counter() - t0:.0f}s (timeout {self.timeout:.0f}s or "
                                 f"the run's time limit); last seen {run.last_seen}")
            time.sleep(self.poll)

    def _wait_stage(self, run: CaseRun, t0: float, stage: str) -> dict[str, Any]:
        case = self._wait_case(run, t0, lambda c: stage_of(c) == stage or c.get("status") == "CLOSED",
                               f"at stage {stage}")
        run.marks.setdefault(stage, time.perf_counter() - t0)
        if case.get("status") == "CLOSED":
            raise CaseFailed(f"closed before reaching stage {stage}")
        return case

    def _complete_tasks(self, run: CaseRun, t0: float) -> None:
        admin = self.users["ada"]
        response = admin.call("GET", "/tasks", "GET /tasks?caseId=", params={"caseId": run.case_id})
        if response.status_code != 200:
            raise CaseFailed(f"GET /tasks?caseId -> {response.status_code}: {response.text[:200]}")
        tasks = [t for t in response.json()["items"] if t["status"] == "OPEN"]
        if not tasks:
            raise CaseFailed("stage TASKS but no open task")
        for task in tasks:
            assignee = task.get("assignee")
            worker = self.users[assignee] if assignee in self.users.tokens else admin
            run.assignees.append(assignee or "(queue)")
            sent = time.perf_counter()
            done = worker.call("POST", f"/tasks/{task['id']}/complete", "POST /tasks/{id}/complete",
                               json={"outcome": "done"})
            if done.status_code != 200:
                took = time.perf_counter() - sent
                listed = [(t["id"].rsplit("-", 1)[-1], t.get("type"), t["status"], t.get("assignee")) for t in tasks]
                now = admin.call("GET", f"/tasks/{task['id']}", "GET /tasks/{id} (diagnosis)")
                state = now.json() if now.status_code == 200 else {}
                raise CaseFailed(
                    f"completing task {task['id']} as {assignee or 'ada'} -> {done.status_code} after {took:.1f}s: "
                    f"{done.text[:160]}; open tasks listed before: {listed}; the task now: status "
                    f"{state.get('status')}, completed by {state.get('completedBy')} at {state.get('completedAt')}")
        run.marks["tasks done"] = time.perf_counter() - t0

    def _create(self, run: CaseRun, user: str, body: dict[str, Any]) -> float:
        t0 = time.perf_counter()
        response = self.users[user].call("POST", "/cases", "POST /cases",
                                         json={**body, "title": f"{body['title']} #{run.index}"})
        run.post_s = time.perf_counter() - t0
        if response.status_code != 201:
            raise CaseFailed(f"POST /cases -> {response.status_code}: {response.text[:200]}")
        run.case_id = response.json()["id"]
        return t0

    def _finish(self, run: CaseRun, t0: float) -> None:
        self._wait_case(run, t0, lambda c: c.get("status") == "CLOSED", "CLOSED")
        run.close_s = time.perf_counter() - t0

    def general(self, index: int) -> CaseRun:
        return self._reported(CaseRun(index, "GENERAL"), self._general)

    def complaint(self, index: int) -> CaseRun:
        return self._reported(CaseRun(index, "COMPLAINT"), self._complaint)

    @staticmethod
    def _reported(run: CaseRun, work: Callable[[CaseRun], None]) -> CaseRun:
        try:
            work(run)
        except Exception as exc:  # noqa: BLE001 - any failure of one case is reported, the batch goes on
            run.error = f"{type(exc).__name__}: {exc}"
        return run

    def _general(self, run: CaseRun) -> None:
        t0 = self._create(run, "alice", GENERAL)
        self._wait_stage(run, t0, "TASKS")
        self._complete_tasks(run, t0)
        self._finish(run, t0)

    def _complaint(self, run: CaseRun) -> None:
        t0 = self._create(run, "bob", COMPLAINT)
        self._wait_stage(run, t0, "APPROVAL")
        self._approve(run, t0)
        self._wait_stage(run, t0, "PAYMENT")
        paid = self.users["fin"].call("POST", f"/cases/{run.case_id}/compensation/payment",
                                      "POST /cases/{id}/compensation/payment",
                                      json={"reference": f"PAY-BENCH-{run.index}"})
        if paid.status_code != 200:
            raise CaseFailed(f"payment -> {paid.status_code}: {paid.text[:200]}")
        run.marks["paid"] = time.perf_counter() - t0
        self._wait_stage(run, t0, "TASKS")
        self._complete_tasks(run, t0)
        self._finish(run, t0)

    def _approve(self, run: CaseRun, t0: float) -> None:
        """The approval opens just after the case shows stage APPROVAL: poll for it, approve what is pending."""
        approver = self.users["ava"]
        deadline = self._deadline(t0)
        while True:
            response = approver.call("GET", "/approvals", "GET /approvals?caseId=", params={"caseId": run.case_id})
            if response.status_code != 200:
                raise CaseFailed(f"GET /approvals?caseId -> {response.status_code}: {response.text[:200]}")
            pending = [a for a in response.json()["items"] if a["status"] == "PENDING"]
            if pending:
                break
            if time.perf_counter() + self.poll > deadline:
                raise CaseFailed("no pending approval appeared")
            time.sleep(self.poll)
        for approval in pending:
            decided = approver.call("POST", f"/approvals/{approval['id']}/decision", "POST /approvals/{id}/decision",
                                    json={"decision": "APPROVE", "comment": "bench"})
            if decided.status_code != 200:
                raise CaseFailed(f"decision -> {decided.status_code}: {decided.text[:200]}")
        run.marks["approved"] = time.perf_counter() - t0


# -- a batch ---------------------------------------------------------------------------------------

@dataclass
class Batch:
    kind: str
    runs: list[CaseRun]
    wall_s: float
    histories: dict[str, list[str]]  # case id -> states entered
    workflow_status: collections.Counter[str]
    dispatch: dict[str, Any]  # delta of the dispatcher's counters over the batch, its drained flag and errors
    aws_calls: collections.Counter[str]  # delta of origin|service.Operation over the batch
    requests: collections.Counter[str]  # what the benchmark sent
    windows: dict[str, tuple[collections.Counter[str], collections.Counter[str]]]  # "first"/"last": (calls, seconds)

    @property
    def closed(self) -> list[CaseRun]:
        return [r for r in self.runs if r.close_s is not None]

    @property
    def failed(self) -> list[CaseRun]:
        return [r for r in self.runs if r.close_s is None and not r.skipped]

    @property
    def skipped(self) -> list[CaseRun]:
        return [r for r in self.runs if r.skipped]


def run_batch(kind: str, n: int, work: Callable[[int], CaseRun], threads: int, stack: dict[str, Any],
              users: Users, local: LocalProcess, start_deadline: float) -> Batch:
    """Work n cases on `threads` threads; no case starts after `start_deadline` (perf_counter time)."""
    before_dispatch = drain_stats(stack)
    before_calls = local.aws_calls()
    with requests_lock:
        before_requests = REQUESTS.copy()
    log(f"{kind}: {n} cases on {threads} threads ...")

    def guarded(index: int) -> CaseRun:
        if time.perf_counter() > start_deadline:
            return CaseRun(index, kind, skipped=True, error="not started: time budget used up")
        return work(index)

    runs: list[CaseRun] = []
    # Snapshots of the AWS call counters when the first fifth of the cases is done and when four fifths
    # are, to compare per-operation latency early and late in the batch (the table grows in between).
    first_mark, last_mark = max(1, n // 5), n - max(1, n // 5)
    window_calls: dict[str, Any] = {"start": before_calls}
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix=f"bench-{kind.lower()}") as pool:
        futures = [pool.submit(guarded, index) for index in range(1, n + 1)]
        for future in as_completed(futures):
            run = future.result()
            runs.append(run)
            if len(runs) == first_mark:
                window_calls["first"] = local.aws_calls()
            if len(runs) == last_mark:
                window_calls["last"] = local.aws_calls()
            if len(runs) % 10 == 0 or (run.error and not run.skipped):
                elapsed = time.perf_counter() - started
                note = f"  FAILED case #{run.index}: {run.error}" if run.error and not run.skipped else ""
                log(f"  {len(runs)}/{n} done after {elapsed:.1f}s{note}")
    wall = time.perf_counter() - started
    time.sleep(0.4)  # the counting hook writes its file every 0.2 s
    end_calls = local.aws_calls()
    runs.sort(key=lambda r: r.index)
    windows = {}
    if n >= 10 and "first" in window_calls and "last" in window_calls:
        windows["first"] = _delta(window_calls["first"], window_calls["start"])
        windows["last"] = _delta(end_calls, window_calls["last"])

    # Per-case cost, after the batch: the run ends just after the Close task returns.
    histories: dict[str, list[str]] = {}
    statuses: collections.Counter[str] = collections.Counter()
    admin = users["ada"]
    for run in runs:
        if run.case_id is None:
            continue
        view: dict[str, Any] = {}
        for _ in range(50):  # bounded: up to ~10 s per case
            response = admin.call("GET", f"/cases/{run.case_id}/workflow", "GET /cases/{id}/workflow (after)")
            view = response.json() if response.status_code == 200 else {}
            if view.get("status") != "RUNNING" or run.close_s is None:
                break
            time.sleep(0.2)
        statuses[str(view.get("status"))] += 1
        histories[run.case_id] = [step["state"] for step in view.get("history", [])]
    after_dispatch = drain_stats(stack)
    time.sleep(0.6)  # the counting hook writes its file every 0.2 s
    calls, _ = _delta(local.aws_calls(), before_calls)
    with requests_lock:
        sent = REQUESTS.copy()
    sent.subtract(before_requests)
    dispatch: dict[str, Any] = {k: int(after_dispatch[k]) - int(before_dispatch[k])
                for k in ("invoked", "delivered", "duplicates", "failures")}
    dispatch["drained"] = bool(after_dispatch.get("drained"))
    if after_dispatch.get("errors"):
        dispatch["errors"] = after_dispatch["errors"][-5:]
    return Batch(kind, runs, wall, histories, statuses, dispatch, calls, +sent, windows)


def _delta(after: tuple[collections.Counter[str], collections.Counter[str]],
           before: tuple[collections.Counter[str], collections.Counter[str]]
           ) -> tuple[collections.Counter[str], collections.Counter[str]]:
    calls, seconds = after[0].copy(), after[1].copy()
    calls.subtract(before[0])
    seconds.subtract(before[1])
    return +calls, +seconds


# -- reporting -------------------------------------------------------------------------------------

def fmt_s(value: float) -> str:
    return f"{value:.2f}" if not math.isnan(value) else "n/a"


def report(batch: Batch, task_states: set[str], lines: list[str]) -> dict[str, Any]:
    closed, failed = batch.closed, batch.failed
    times = [r.close_s for r in closed if r.close_s is not None]
    n_closed = len(closed)
    figures: dict[str, Any] = {"n": len(batch.runs), "closed": n_closed, "failed": len(failed),
                               "skipped": len(batch.skipped),
                               "wall": batch.wall_s, "rate": n_closed / batch.wall_s if batch.wall_s else 0.0,
                               "p50": percentile(times, 0.5), "p95": percentile(times, 0.95),
                               "max": max(times) if times else float("nan")}
    lines.append(f"### {batch.kind}: {len(batch.runs)} cases")
    skipped = f", NOT STARTED (time budget used up) {len(batch.skipped)}" if batch.skipped else ""
    lines.append(f"- wall time {batch.wall_s:.1f} s; closed {n_closed}, failed {len(failed)}{skipped}; "
                 f"{figures['rate']:.2f} cases closed/s")
    lines.append(f"- time to close (POST -> CLOSED seen): p50 {fmt_s(figures['p50'])} s, "
                 f"p95 {fmt_s(figures['p95'])} s, "
                 f"max {fmt_s(figures['max'])} s, mean {fmt_s(statistics.fmean(times) if times else float('nan'))} s")
    posts = [r.post_s for r in batch.runs if r.post_s is not None]
    lines.append(f"- POST /cases latency: p50 {percentile(posts, 0.5) * 1000:.0f} ms, "
                 f"p95 {percentile(posts, 0.95) * 1000:.0f} ms")
    # Where the time goes: the first time each mark was reached, median over closed cases.
    mark_names = list(dict.fromkeys(m for r in closed for m in r.marks))
    if mark_names:
        parts = [f"{m} {statistics.median([r.marks[m] for r in closed if m in r.marks]):.2f}" for m in mark_names]
        lines.append(f"- median seconds since POST when first seen/done: {', '.join(parts)}, "
                     f"CLOSED {fmt_s(figures['p50'])}")
    # Does it slow down as the table grows? Compare the first and the last fifth (in order of start).
    ordered = sorted(closed, key=lambda r: r.index)
    fifth = max(1, len(ordered) // 5)
    if len(ordered) >= 10:
        first, last = ordered[:fifth], ordered[-fifth:]
        # Closed cases have both times.
        close_first, close_last = (statistics.median([r.close_s or 0.0 for r in part]) for part in (first, last))
        post_first, post_last = (statistics.median([r.post_s or 0.0 for r in part]) for part in (first, last))
        lines.append(
            f"- first {fifth} vs last {fifth} cases: time to close p50 {close_first:.2f} s vs {close_last:.2f} s; "
            f"POST /cases p50 {post_first * 1000:.0f} ms vs {post_last * 1000:.0f} ms")
        figures["first_last"] = (close_first, close_last)
    assignees = collections.Counter(a for r in batch.runs for a in r.assignees)
    by_assignee = ", ".join(f"{k} {v}" for k, v in sorted(assignees.items()))
    lines.append(f"- tasks completed: {sum(assignees.values())} ({by_assignee})")
    if failed:
        reasons = collections.Counter((r.error or "?").split(";")[0][:160] for r in failed)
        lines.append(f"- FAILURES ({len(failed)}):")
        for reason, count in reasons.most_common(5):
            lines.append(f"  - {count}x {reason}")

    # State transitions and Lambda invocations per closed case.
    histories = [batch.histories[r.case_id] for r in closed if r.case_id in batch.histories]
    lengths = [len(h) for h in histories]
    lambdas = [sum(1 for s in h if s in task_states) for h in histories]
    figures["states"] = statistics.median(lengths) if lengths else float("nan")
    figures["lambdas"] = statistics.median(lambdas) if lambdas else float("nan")
    lines.append(f"- workflow runs after the batch: {dict(batch.workflow_status)}")
    if histories:
        shapes = collections.Counter(" -> ".join(h) for h in histories)
        lines.append(f"- state transitions (states entered) per case: median {figures['states']:g}, "
                     f"min {min(lengths)}, max {max(lengths)}; distinct paths: {len(shapes)}")
        lines.append(f"  - one case: {len(histories[0])} states: {' -> '.join(histories[0])}")
        for shape, count in shapes.most_common()[1:4]:
            lines.append(f"  - other path ({count}x): {shape}")
        lines.append("- Lambda invocations per case from the history (Task states entered): "
                     f"median {figures['lambdas']:g}")
    n_all = len([r for r in batch.runs if r.case_id])
    if batch.windows:
        lines.extend(latency_table(batch))
    if n_all:
        d = batch.dispatch
        figures["invoked"] = d["invoked"] / n_all
        figures["delivered"] = d["delivered"] / n_all
        lines.append(f"- dispatcher over the batch ({n_all} cases created): {d['invoked']} synchronous Lambda invokes "
                     f"({d['invoked'] / n_all:.2f}/case), {d['delivered']} stream records delivered "
                     f"({d['delivered'] / n_all:.1f}/case), {d['duplicates']} duplicates dropped, "
                     f"{d['failures']} handler failures; drained: {d['drained']}")
        if d.get("errors"):
            lines.append(f"  - latest dispatcher errors: {d['errors']}")

    # DynamoDB requests per case, by where they ran.
    if batch.aws_calls and n_all:
        by_origin: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
        for key, count in batch.aws_calls.items():
            origin, op = key.split("|", 1)
            by_origin[origin][op] += count

        def ddb(ops: collections.Counter[str]) -> int:
            return sum(c for op, c in ops.items() if op.startswith("dynamodb."))

        workflow_ddb = sum(ddb(ops) for origin, ops in by_origin.items() if origin != "api")
        api_ddb = ddb(by_origin.get("api", collections.Counter()))
        figures["ddb_workflow"] = workflow_ddb / n_all
        figures["ddb_api"] = api_ddb / n_all
        lines.append(f"- DynamoDB requests per case: workflow (Lambda tasks + stream handler) "
                     f"{workflow_ddb / n_all:.1f}; "
                     f"API routes {api_ddb / n_all:.1f} (includes this benchmark's polling: "
                     f"{sum(batch.requests.values()) / n_all:.1f} HTTP requests/case)")
        lines.append("")
        lines.append("| where | DynamoDB requests / case | operations / case | other AWS calls / case |")
        lines.append("|---|---|---|---|")
        def per_case(ops: dict[str, int]) -> str:
            return ", ".join(f"{k} {v / n_all:.2f}" for k, v in sorted(ops.items(), key=lambda kv: -kv[1])) or "-"

        for origin in sorted(by_origin, key=lambda o: (o == "api", o == "other", o)):
            ops = by_origin[origin]
            dyn = {op.split(".", 1)[1]: c for op, c in ops.items() if op.startswith("dynamodb.")}
            rest = {op: c for op, c in ops.items() if not op.startswith("dynamodb.")}
            lines.append(f"| {origin} | {sum(dyn.values()) / n_all:.2f} | {per_case(dyn)} | {per_case(rest)} |")
        lines.append("")
    lines.append(f"- HTTP requests sent by the benchmark: "
                 f"{', '.join(f'{k} {v}' for k, v in sorted(batch.requests.items()))}")
    lines.append("")
    return figures


def latency_table(batch: Batch) -> list[str]:
    """Mean latency of each AWS call the subprocess made, while the first fifth of the cases ran vs the last."""
    (calls_a, seconds_a), (calls_b, seconds_b) = batch.windows["first"], batch.windows["last"]
    by_op: dict[str, list[float]] = collections.defaultdict(lambda: [0, 0.0, 0, 0.0])
    for key, count in calls_a.items():
        op = key.split("|", 1)[1]
        by_op[op][0] += count
        by_op[op][1] += seconds_a.get(key, 0.0)
    for key, count in calls_b.items():
        op = key.split("|", 1)[1]
        by_op[op][2] += count
        by_op[op][3] += seconds_b.get(key, 0.0)
    out = ["- AWS calls made by the local system (the app's clients and moto's Step Functions interpreter), mean "
           "latency as the caller sees it (DynamoDB lock and GIL waits included), while the first fifth of the "
           "cases completed vs the last fifth:", "",
           "| call | calls (first / last fifth) | mean ms, first fifth | mean ms, last fifth |", "|---|---|---|---|"]
    for op, (na, sa, nb, sb) in sorted(by_op.items(), key=lambda kv: -(kv[1][1] + kv[1][3])):
        if na + nb < 10:
            continue
        mean = lambda n, t: f"{t / n * 1000:.1f}" if n else "-"  # noqa: E731
        out.append(f"| {op} | {na:g} / {nb:g} | {mean(na, sa)} | {mean(nb, sb)} |")
    out.append("")
    return out


def markdown_table(results: dict[str, dict[str, Any]], threads: int) -> list[str]:
    names = {"GENERAL": "GENERAL", "COMPLAINT": "COMPLAINT, 120 EUR compensation"}
    cols = [(names[kind], figures) for kind, figures in results.items()]
    rows = [
        ("cases (closed / failed)", lambda f: f"{f['n']} ({f['closed']} / {f['failed']})"
         + (f", {f['skipped']} not started (time budget)" if f["skipped"] else "")),
        ("wall time", lambda f: f"{f['wall']:.1f} s"),
        (f"throughput ({threads} client threads, closed loop)", lambda f: f"**{f['rate']:.2f} cases closed/s**"),
        ("time to close p50 / p95 / max", lambda f: f"{fmt_s(f['p50'])} / {fmt_s(f['p95'])} / {fmt_s(f['max'])} s"),
        ("time to close p50, first vs last fifth of the batch",
         lambda f: f"{f['first_last'][0]:.2f} vs {f['first_last'][1]:.2f} s" if "first_last" in f else "n/a"),
        ("table items after the batch; local system's peak RSS", lambda f: f"{f['items']}; {f.get('rss') or 0:.0f} MB"),
        ("state transitions per case (median)", lambda f: f"{f['states']:g}"),
        ("Lambda task invocations per case (history; dispatcher)",
         lambda f: f"{f['lambdas']:g}; {f.get('invoked', float('nan')):.2f}"),
        ("stream records delivered per case", lambda f: f"{f.get('delivered', float('nan')):.1f}"),
        ("DynamoDB requests per case, workflow (Lambdas + stream)",
         lambda f: f"{f['ddb_workflow']:.1f}" if "ddb_workflow" in f else "not counted"),
        ("DynamoDB requests per case, API (people's actions + polling)",
         lambda f: f"{f['ddb_api']:.1f}" if "ddb_api" in f else "not counted"),
    ]
    out = ["| happy path | " + " | ".join(name for name, _ in cols) + " |",
           "|---|" + "---|" * len(cols)]
    for label, cell in rows:
        out.append(f"| {label} | " + " | ".join(cell(f) for _, f in cols) + " |")
    return out


# -- main ------------------------------------------------------------------------------------------

def load_average() -> str:
    try:
        return " / ".join(f"{v:.2f}" for v in os.getloadavg()) + " (1 / 5 / 15 min)"
    except OSError:
        return "n/a"


def git_describe() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, timeout=10).stdout.splitlines()
    except (OSError, subprocess.SubprocessError):
        return "git n/a"
    return f"commit {head or '?'}" + (f" + {len(dirty)} modified tracked file(s)" if dirty else "")


def table_items(stack: dict[str, Any]) -> int:
    """Items in the table (a COUNT scan from this process, so the counting hook does not see it)."""
    dynamodb = boto3.client("dynamodb", endpoint_url=stack["awsEndpoint"], region_name=stack["region"],
                            aws_access_key_id="testing", aws_secret_access_key="testing")
    total, kwargs = 0, {"TableName": stack["tableName"], "Select": "COUNT"}
    for _ in range(10_000):  # bounded paging
        page = dynamodb.scan(**kwargs)
        total += int(page["Count"])
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return total


def batch_on_fresh_system(kind: str, n: int, args: argparse.Namespace, tmp: Path, task_states: set[str],
                          lines: list[str], start_deadline: float,
                          before_batch: Callable[[], Any]) -> tuple[dict[str, Any], Callable[[], bool]]:
    """Start a local system with an empty table, call `before_batch` once it is ready, run one batch, report
    it and send SIGINT. Returns the figures and a callable that waits for the process to exit (killing it
    if it does not), adds the stop to the report and returns True when the state folder should be kept."""
    folder = tmp / kind.lower()
    folder.mkdir()
    t_start = time.perf_counter()
    local = LocalProcess(folder, count_calls=not args.no_count)
    users: Optional[Users] = None
    stopping = False
    try:
        stack = local.wait_ready()
        startup = time.perf_counter() - t_start
        users = Users(stack["apiUrl"], login_all(stack))
        before_batch()
        driver = Driver(users, args.poll, args.timeout, hard_deadline=start_deadline + HARD_LIMIT_AFTER_LAST_START)
        work = driver.general if kind == "GENERAL" else driver.complaint
        batch = run_batch(kind, n, work, args.threads, stack, users, local, start_deadline)
        items = table_items(stack)
        if local.proc.poll() is not None:
            raise RuntimeError(f"the local system died during the run ({local.proc.returncode}):\n"
                               f"{local.output_tail()}")
        figures = report(batch, task_states, lines)
        errors = local.error_lines()
        users.close()
        users = None
        memory = local.memory_mb()
        local.begin_stop()
        stopping = True
        figures["items"] = items
        figures["rss"] = memory.get("VmHWM")
        summary = (f"- local system: started in {startup:.1f} s; table items after the batch: {items}; "
                   f"memory (RSS now / peak) {memory.get('VmRSS', 0):.0f} / {memory.get('VmHWM', 0):.0f} MB")
        position = len(lines)  # the stop's line goes here once the process has exited
        if errors:
            lines.append(f"- ERROR lines in the local system's log ({local.log_file} kept):")
            lines.extend(f"  - {e}" for e in errors)
        lines.append("")
    finally:
        if users is not None:
            users.close()
        if not stopping:
            local.kill()
            local._log_handle.close()
            log(f"error: the local system was killed; its log: {local.log_file}\n{local.output_tail()}")

    def finish() -> bool:
        stop = local.finish_stop()
        said = f"\"stopped\" (snapshot written) {stop.get('stopped', float('nan')):.1f} s after SIGINT"
        if stop.get("killed"):
            how = (f"{said}, but the process had not exited {EXIT_GRACE:.0f} s later (main thread: "
                   f"{stop.get('main_thread')}), so it was killed")
        else:
            how = f"{said}; exited within {stop['seconds']:.1f} s (exit code {stop['exit_code']})"
        lines.insert(position, f"{summary}; {how}")
        return bool(errors or batch.failed or stop.get("killed") or local.proc.returncode != 0)

    return figures, finish


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", nargs="?", type=int, default=100, help="GENERAL cases (default 100)")
    parser.add_argument("--complaints", type=int, default=20, help="COMPLAINT cases (default 20; 0 skips)")
    parser.add_argument("--threads", type=int, default=4, help="client threads (default 4)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds for one case to close (default 120)")
    parser.add_argument("--poll", type=float, default=0.2, help="poll interval in seconds (default 0.2)")
    parser.add_argument("--no-count", action="store_true", help="do not count DynamoDB requests in the subprocess")
    parser.add_argument("--keep", action="store_true", help="keep the temporary state folders (logs, snapshots)")
    parser.add_argument("--budget", type=float, default=245.0,
                        help="seconds after start within which cases may start (default 245; keeps the whole run "
                             "under 5 minutes on a busy machine: cases not started are reported)")
    args = parser.parse_args(argv)
    if args.n < 0 or args.threads < 1 or args.complaints < 0 or args.n + args.complaints == 0:
        parser.error("N and --complaints must be >= 0 (not both 0), --threads >= 1")

    import moto  # only for the version line

    task_states = {name for name, state in json.loads(ASL_FILE.read_text())["States"].items()
                   if state.get("Type") == "Task"}
    tmp = Path(tempfile.mkdtemp(prefix="cms-bench-wf-"))
    t_start = time.perf_counter()
    given = " ".join(sys.argv[1:] if argv is None else argv)
    lines = [
        f"command: .venv/bin/python bench/workflow_throughput.py{' ' + given if given else ''}",
        f"python {platform.python_version()}, moto {moto.__version__}, {os.cpu_count()} cores. Each batch runs on its "
        f"own fresh local system (`python -m local run --port <free> --moto-port <free> --state-dir <tmp> --no-seed`, "
        f"empty table); {args.threads} client threads, one case at a time each (closed loop); polling every "
        f"{args.poll} s; per-case timeout {args.timeout:.0f} s; DynamoDB request counting "
        f"{'off' if args.no_count else 'on (botocore before-call hook loaded into the subprocess)'}.",
        f"code: {git_describe()}; load average before the run: {load_average()}",
        "",
    ]
    results: dict[str, dict[str, Any]] = {}
    batch_lines: dict[str, list[str]] = {"GENERAL": [], "COMPLAINT": []}
    tail: list[str] = []
    keep = args.keep
    pending: list[Callable[[], bool]] = []  # the previous system's finish_stop, not called yet

    def finish_previous() -> None:
        nonlocal keep
        while pending:
            keep = pending.pop()() or keep

    try:
        # The small COMPLAINT batch runs first, within a window of its own, so that on a slow machine the time
        # budget cuts the last GENERAL cases rather than most of the complaints. The report lists GENERAL first.
        # A stopped system finishes exiting while the next one starts (not while the next batch runs).
        for kind, n, deadline in (("COMPLAINT", args.complaints, t_start + min(COMPLAINT_WINDOW, args.budget)),
                                  ("GENERAL", args.n, t_start + args.budget)):
            if n:
                results[kind], finish = batch_on_fresh_system(kind, n, args, tmp, task_states, batch_lines[kind],
                                                              start_deadline=deadline, before_batch=finish_previous)
                pending.append(finish)
        finish_previous()
        tail.append("Markdown for the README:")
        tail.append("")
        tail.extend(markdown_table({k: results[k] for k in ("GENERAL", "COMPLAINT") if k in results}, args.threads))
        tail.append("")
        tail.append(f"total {time.perf_counter() - t_start:.1f} s; load average after the run: {load_average()} "
                    f"(this benchmark keeps about 2 cores busy; more means something else was running)")
    except BaseException:
        keep = True
        raise
    finally:
        try:
            finish_previous()
        except Exception as exc:  # noqa: BLE001 - the report is printed whatever happens
            log(f"error while stopping the local system: {exc}")
        print("\n".join(lines + batch_lines["GENERAL"] + batch_lines["COMPLAINT"] + tail), flush=True)
        keep_or_remove(tmp, keep)
    return 0


if __name__ == "__main__":
    sys.exit(main())
