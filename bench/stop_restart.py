"""Ctrl-C and restart of the local system with 5,000 cases' worth of data, without creating 5,000 cases over HTTP.

Run from the repo root:  .venv/bin/python bench/stop_restart.py [--real 150] [--cases 5000] [--keep]
                         .venv/bin/python bench/stop_restart.py --state DIR   (measure again on a kept state)
Options: --project-dir D (default: this checkout; another checkout measures its code, e.g. before a change;
         its snapshot must be of the version that code reads).

What it does
- starts `python -m local run --no-seed` (bench/local_scale.py's LocalProcess: a subprocess on free ports, as
  `make run`), and bob (caseworker) creates `--real` COMPLAINT cases over HTTP; then Ctrl-C (SIGINT);
- THE ITEMS ARE REPLICATED, NOT CREATED: the snapshot's items of each real case (every item whose key names the
  case's id: the case, its events, tasks, list and index entries) are copied with the case id replaced by a new
  one, in every attribute (keys and GSI attributes included), until the table holds `--cases` cases; the case
  data product's rows are copied the same way. Items that belong to no case (case types, counters) are kept once.
  The copies are consistent for the key schema but are not what 5,000 HTTP creates would make (e.g. the copies
  of a case share its case number and its timestamps, and their workflows are in whatever stage the original's was);
- starts the system on that state and measures the seconds until GET /health answers, a few GETs as the
  admin (the first page of cases, one replicated case and its history), the cases the admin lists, the data
  product's rows, and the time from SIGINT until the process exited (its snapshot written).
Prints figures only, with the machine's load average (no assertions on timing).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Optional

from harness import ROOT, keep_or_remove, log
from harness.local_system import login_all
from local_scale import ADMIN, CREATOR, Client, LocalProcess, case_count, data_product_rows

KEY_ATTRIBUTES = ("PK", "SK")  # the table's key: an item is a case's when its key names the case id


def create_real_cases(state: Path, n: int) -> None:
    system = LocalProcess(ROOT, state, "create.log")
    try:
        stack, started = system.wait_ready()
        log(f"first start {started:.1f} s; creating {n} cases over HTTP")
        client = Client(stack["apiUrl"], login_all(stack))

        def create(i: int) -> str:
            body = {"title": f"Stop case {i}", "caseType": "COMPLAINT", "priority": "MEDIUM",
                    "customerId": f"CUST-{2001 + i % 30}", "description": "bench/stop_restart.py"}
            response = client.call(CREATOR, "POST", "/cases", json=body)
            response.raise_for_status()
            return str(response.json()["id"])

        with ThreadPoolExecutor(max_workers=4) as pool:
            ids = list(pool.map(create, range(n)))
        log(f"created {len(ids)} cases, e.g. {ids[0]}; letting workflows run for 20 s")
        time.sleep(20)
    finally:
        stopped = system.stop()
    log(f"stopped in {stopped:.1f} s")


def replicate(snapshot_dir: Path, cases: int, rows: int) -> tuple[int, int]:
    """Copy the real cases' items (and up to `rows` data product rows) with new case ids until the table holds
    `cases` cases; returns the items and rows written."""
    table_file, rows_file = snapshot_dir / "dynamodb.json", snapshot_dir / "case-data-product.json"
    snapshot = json.loads(table_file.read_text())
    (name, items), = snapshot["tables"].items()
    real = [item["id"]["S"] for item in items if item["SK"] == {"S": "CASE"}]
    by_case: dict[str, list[str]] = {case_id: [] for case_id in real}
    for item in items:
        key = " ".join(item[attribute]["S"] for attribute in KEY_ATTRIBUTES)
        owner = next((case_id for case_id in real if case_id in key), None)
        if owner is not None:
            by_case[owner].append(json.dumps(item))
    copies = [item for item in items]
    for n in range(cases - len(real)):
        original = real[n % len(real)]
        new_id = _new_id(original, n)
        copies.extend(json.loads(text.replace(original, new_id)) for text in by_case[original])
    snapshot["tables"][name] = copies
    table_file.write_text(json.dumps(snapshot))

    product = json.loads(rows_file.read_text())
    objects = product["objects"]
    by_case_rows: dict[str, list[str]] = {case_id: [] for case_id in real}
    for row in objects:
        owner = next((case_id for case_id in real if case_id in row["key"]), None)
        if owner is not None:
            by_case_rows[owner].append(json.dumps(row))
    n = 0
    while len(objects) < rows and n < cases - len(real):
        original = real[n % len(real)]
        objects.extend(json.loads(text.replace(original, _new_id(original, n))) for text in by_case_rows[original])
        n += 1
    rows_file.write_text(json.dumps(product))
    return len(copies), len(objects)


def _new_id(case_id: str, n: int) -> str:
    return f"{n:08x}" + case_id[8:]  # as long as a real id (hex), unique per copy


def timed_get(client: Client, path: str) -> tuple[int, float, Any]:
    """The status, milliseconds and body of a GET as the admin."""
    start = time.perf_counter()
    response = client.call(ADMIN, "GET", path)
    return response.status_code, (time.perf_counter() - start) * 1000, response.json()


def measure(project_dir: Path, state: Path, log_name: str) -> dict[str, Any]:
    load = os.getloadavg()[0]
    system = LocalProcess(project_dir, state, log_name)
    try:
        stack, restart_s = system.wait_ready()
        client = Client(stack["apiUrl"], login_all(stack))
        gets = {"first page": timed_get(client, "/cases?limit=25")}
        case_id = gets["first page"][2]["items"][-1]["id"]
        gets["a case"] = timed_get(client, f"/cases/{case_id}")
        gets["its history"] = timed_get(client, f"/cases/{case_id}/history")
        listed, failures = case_count(client)
        rows = data_product_rows(stack)
        time.sleep(5)  # the recovery thread resumes lost runs meanwhile: Ctrl-C stops it between two cases
        stop_load = os.getloadavg()[0]
    except BaseException:
        if system.proc.poll() is None:
            system.proc.kill()
        raise
    stop_s = system.stop()
    saved_rows = len(json.loads((state / "snapshot" / "case-data-product.json").read_text())["objects"])
    return {"restart_s": restart_s, "gets": gets, "listed": listed, "list_failures": failures, "rows": rows,
            "saved_rows": saved_rows, "stop_s": stop_s, "load_at_start": load, "load_at_stop": stop_load,
            "log": system.log_file}


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--real", type=int, default=150, help="cases created over HTTP (default 150)")
    parser.add_argument("--cases", type=int, default=5000, help="cases after replication (default 5000)")
    parser.add_argument("--rows", type=int, default=18000, help="data product rows after replication")
    parser.add_argument("--state", type=Path, help="a kept state folder: measure on it again, no creates")
    parser.add_argument("--project-dir", type=Path, default=ROOT)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)

    tmp = args.state.parent if args.state else Path(tempfile.mkdtemp(prefix="stop-restart-"))
    state = args.state or tmp / "state"
    if args.state is None:
        create_real_cases(state, args.real)
        items, rows = replicate(state / "snapshot", args.cases, args.rows)
        log(f"replicated: {items} items, {rows} data product rows")
    snapshot = state / "snapshot"
    sizes = {path.name: path.stat().st_size for path in snapshot.iterdir() if path.is_file()}
    run = measure(args.project_dir.resolve(), state, "restart.log")
    print(f"\nbench/stop_restart.py, project {args.project_dir.resolve()}, on {state}")
    print(f"(items replicated from {args.real} real cases; snapshot files "
          f"{', '.join(f'{n} {s / 1e6:.0f} MB' for n, s in sizes.items())})")
    print(f"restart until GET /health answers: {run['restart_s']:.1f} s (load average {run['load_at_start']:.1f})")
    for label, (status, ms, _) in run["gets"].items():
        print(f"GET {label}: {status} in {ms:.0f} ms")
    print(f"cases listed by the admin: {run['listed']} ({run['list_failures']} page requests repeated); "
          f"case data product rows listed: {run['rows']}, saved at the stop: {run['saved_rows']}")
    print(f"Ctrl-C (SIGINT until exited, snapshot written): {run['stop_s']:.1f} s "
          f"(load average {run['load_at_stop']:.1f}); log {run['log']}")
    keep_or_remove(tmp, args.keep or args.state is not None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
