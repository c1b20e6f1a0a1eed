"""The data mesh's cost: one customer view assembled from the two sample products (the CRM's HTTP port on
loopback, the risk dataset in moto's S3), with and without the read cache, and what it adds to opening a
case; also a source that never answers (the budget bounds it).

Run from the repo root:  .venv/bin/python bench/customer_view.py

Starts moto's ThreadedMotoServer and the sample CRM server in this process, registers the products in a
catalog folder exactly as the local system does (local/mesh.py), and times CustomerDirectory.view and
CaseService.create (in-memory case repository: only the mesh's share is measured). Prints figures only.
"""
from __future__ import annotations

import logging
import os
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"), ("AWS_DEFAULT_REGION", "us-east-1")):
    os.environ.setdefault(name, value)
os.environ.pop("AWS_ENDPOINT_URL", None)

from moto.server import ThreadedMotoServer  # noqa: E402

from chalicelib.adapters.memory.cases import InMemoryCaseRepository  # noqa: E402
from chalicelib.bootstrap import customer_directory  # noqa: E402
from chalicelib.cache.memory import InProcessCache  # noqa: E402
from chalicelib.domain.access import Principal  # noqa: E402
from chalicelib.domain.case_types import DEFAULT_CASE_TYPES  # noqa: E402
from chalicelib.services.cases import CaseNumbers, CaseService  # noqa: E402
from chalicelib.settings import Settings  # noqa: E402
from local.mesh import CUSTOMER_IDS, CrmServer, provision_mesh  # noqa: E402
from local.provision import client  # noqa: E402

RUNS = 200
ALICE = Principal("alice", frozenset({"caseworker"}), "claims")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def timed(call: Callable[[int], object], runs: int = RUNS) -> list[float]:
    times = []
    for i in range(runs):
        started = time.perf_counter()
        call(i)
        times.append((time.perf_counter() - started) * 1000)
    return times


def describe(label: str, times: list[float]) -> None:
    ordered = sorted(times)
    p = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    print(f"{label:<58} p50 {statistics.median(times):7.2f} ms   p90 {p(0.9):7.2f} ms   p99 {p(0.99):7.2f} ms")


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per moto request
    port = free_port()
    os.environ["MOTO_PORT"] = str(port)
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    moto.start()
    endpoint = f"http://127.0.0.1:{port}"
    crm = CrmServer().start()
    state = Path(tempfile.mkdtemp(prefix="mesh-bench-"))
    try:
        mesh = provision_mesh(client("s3", endpoint, "us-east-1"), "us-east-1", state, crm.url)
        settings = Settings.from_env({
            "AUTH_MODE": "apigateway", "AWS_ENDPOINT_URL": endpoint, "DATA_CATALOG_DIR": str(mesh.catalog_dir),
            "MESH_TIMEOUT_SECONDS": "1",
        })
        repository = InMemoryCaseRepository()
        plain = customer_directory(settings, repository)
        cached = customer_directory(settings, repository, InProcessCache())
        ids = [CUSTOMER_IDS[i % len(CUSTOMER_IDS)] for i in range(RUNS)]
        plain.view(ALICE, ids[0])  # warm: clients built, the dataset fetched once
        print(f"customer views of {RUNS} lookups over {len(CUSTOMER_IDS)} customers (CRM over HTTP + risk dataset in S3)")
        describe("no cache: both products asked", timed(lambda i: plain.view(ALICE, ids[i])))
        for customer in CUSTOMER_IDS:
            cached.view(ALICE, customer)
        describe("read cache (in-process), every answer cached", timed(lambda i: cached.view(ALICE, ids[i])))

        without = CaseService(repository, DEFAULT_CASE_TYPES, CaseNumbers(repository))
        with_mesh = CaseService(repository, DEFAULT_CASE_TYPES, CaseNumbers(repository), customer_snapshot=plain.snapshot)
        body = lambda i: {"title": "Bench", "caseType": "GENERAL", "priority": "LOW", "customerId": ids[i]}  # noqa: E731
        describe("POST /cases service call, no snapshot", timed(lambda i: without.create(ALICE, body(i))))
        describe("POST /cases service call, snapshot from the mesh (no cache)", timed(lambda i: with_mesh.create(ALICE, body(i))))

        crm.stop()  # refused connections: the CRM is down, its last known records are served
        describe("CRM down (connection refused), last known served", timed(lambda i: plain.view(ALICE, ids[i]), 50))
        silent = socket.socket()
        silent.bind(("127.0.0.1", 0))
        silent.listen(100)  # accepts, never answers
        hanging = Path(mesh.catalog_dir) / "crm.customer-profile.json"
        hanging.write_text(hanging.read_text().replace(crm.url, f"http://127.0.0.1:{silent.getsockname()[1]}"))
        budget = customer_directory(settings, repository)
        describe("CRM silent (never answers): bounded by MESH_TIMEOUT_SECONDS=1", timed(lambda i: budget.view(ALICE, ids[i]), 5))
        silent.close()
    finally:
        crm.stop()
        moto.stop()


if __name__ == "__main__":
    main()
