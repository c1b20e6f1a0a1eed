"""Time from upload to READY on the running local system.

Run from the repo root:  .venv/bin/python bench/document_ready.py [N]     (N uploads per kind, default 10)
Options: --burst B (default 8: B uploads posted at once after the sequential runs), --poll S (default 0.05).

What it does
- starts a fresh local system as `make run` does (a subprocess: bench/harness/local_system.py), logs
  alice in with Cognito, opens one GENERAL case;
- for each kind of file (a 1 KiB text file, a 1 MiB text file, a 3-page PDF made with pypdf), N times one
  after another: POST /cases/{id}/documents (the presigned form), POST the file to S3 with that form, and poll
  GET /cases/{id}/documents/{documentId} every --poll seconds until its version is READY. "Upload to READY" is
  from just before the S3 POST to the first poll that sees READY: the S3 event Lambda registering the version,
  the document workflow's execution, the Fargate runner starting the processor (a new Python process, as a
  new Fargate task would be a new container) and the result being recorded;
- then B uploads of the 1 KiB file posted at once from B threads (each polling every 0.25 s): the time
  until all are READY.
Prints figures only (no assertions on timing). Everything runs on one machine (moto, Step Functions'
local engine, the processor subprocesses), so the figures are upper bounds of the orchestration's share,
not predictions of AWS: Fargate's own task start (image pull, ENI) takes tens of seconds on AWS.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

import requests

from harness import log
from harness.local_system import Api, LocalProcess, login_all
from harness.stats import spread_row

BURST_POLL = 0.25  # B pollers at --poll would load the one-process system more than the uploads do
CASE = {"title": "Evidence upload benchmark", "caseType": "GENERAL", "priority": "LOW", "customerId": "CUST-9018"}


def pdf_bytes(pages: int = 3) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


KINDS: dict[str, tuple[Callable[[], bytes], str, str]] = {
    "text 1 KiB": (lambda: b"line of evidence\n" * 60, "note.txt", "text/plain"),
    "text 1 MiB": (lambda: b"0123456789abcdef" * 65536, "log.txt", "text/plain"),
    "PDF, 3 pages": (pdf_bytes, "report.pdf", "application/pdf"),
}


def upload_and_wait(alice: Api, case_id: str, content: bytes, filename: str, content_type: str,
                    poll: float, timeout: float = 120.0) -> tuple[float, str]:
    body = {"filename": filename, "contentType": content_type, "size": len(content),
            "sha256": hashlib.sha256(content).hexdigest()}
    ticket = alice.call("POST", f"/cases/{case_id}/documents", "upload form", json=body)
    ticket.raise_for_status()
    form = ticket.json()
    path = f"/cases/{case_id}/documents/{form['documentId']}"
    started = time.perf_counter()
    posted = requests.post(form["upload"]["url"], data=form["upload"]["fields"],
                           files={"file": (filename, content, content_type)}, timeout=60)
    posted.raise_for_status()
    deadline = started + timeout
    while time.perf_counter() < deadline:
        versions = alice.call("GET", path, "poll").json().get("versions") or []
        if versions and versions[-1]["status"] in ("READY", "QUARANTINED"):
            return time.perf_counter() - started, versions[-1]["status"]
        time.sleep(poll)
    raise RuntimeError(f"{path} was not processed within {timeout:.0f}s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=10)
    parser.add_argument("--burst", type=int, default=8)
    parser.add_argument("--poll", type=float, default=0.05)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-docs-") as tmp:
        system = LocalProcess(Path(tmp), count_calls=False)
        try:
            stack = system.wait_ready()
            tokens = login_all(stack)
            alice = Api(stack["apiUrl"], tokens["alice"])
            case = alice.call("POST", "/cases", "create", json=CASE)
            case.raise_for_status()
            case_id = case.json()["id"]
            lines = ["| file | uploads | p50 (s) | p90 (s) | min (s) | max (s) |", "|---|---|---|---|---|---|"]
            statuses: dict[str, int] = {}
            for name, (make, filename, content_type) in KINDS.items():
                content = make()
                times = []
                for _ in range(args.n):
                    seconds, status = upload_and_wait(alice, case_id, content, filename, content_type, args.poll)
                    times.append(seconds)
                    statuses[status] = statuses.get(status, 0) + 1
                lines.append(spread_row(f"{name} ({len(content):,} B)", times, digits=2, count=True))
                log(f"{name}: p50 {statistics.median(times):.2f} s")

            make, filename, content_type = KINDS["text 1 KiB"]
            sessions = [Api(stack["apiUrl"], tokens["alice"]) for _ in range(args.burst)]
            started = time.perf_counter()
            with ThreadPoolExecutor(args.burst) as pool:
                burst = list(pool.map(
                    lambda s: upload_and_wait(s, case_id, make(), filename, content_type, BURST_POLL)[0], sessions))
            wall = time.perf_counter() - started
        finally:
            system.begin_stop()
            system.finish_stop()

    print(f"upload to READY on the local system (one case; sequential uploads; poll every {args.poll} s)")
    print("\n".join(lines))
    print(f"\nburst: {args.burst} uploads of 1 KiB at once: all READY after {wall:.2f} s "
          f"(each: p50 {statistics.median(burst):.2f} s, max {max(burst):.2f} s); "
          f"{args.burst / wall:.2f} documents/s")
    print(f"verdicts: {statuses}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
