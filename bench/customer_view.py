"""The data mesh's cost: one customer view assembled from the two sample products (the CRM's HTTP port on
loopback, the risk dataset in moto's S3), with and without the read cache, and what it adds to opening a
case; also a source that never answers (the budget bounds it).

Run from the repo root:  .venv/bin/python bench/customer_view.py

Starts moto's ThreadedMotoServer and the sample CRM server in this process, registers the products in a
catalog folder exactly as the local system does (local/mesh.py), and times CustomerDirectory.view and
CaseService.create (in-memory case repository: only the mesh's share is measured). Prints figures only.
"""
from __future__ import annotations

import os
import socket
import tempfile
from pathlib import Path

from harness import free_port  # harness first: it makes chalicelib and local importable
from harness.inprocess import start_moto
from harness.stats import percentile, timed_ms

from chalicelib.adapters.memory.cases import InMemoryCaseRepository
from chalicelib.bootstrap import customer_directory
from chalicelib.cache.memory import InProcessCache
from chalicelib.domain.access import Principal
from chalicelib.adapters.memory.case_types import InMemoryCaseTypeStore
from chalicelib.services.case_types import CaseTypeCatalog
from chalicelib.services.cases import CaseNumbers, CaseService
from chalicelib.settings import Settings
from local.mesh import CUSTOMER_IDS, CrmServer, provision_mesh
from local.provision import client

for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                    ("AWS_DEFAULT_REGION", "us-east-1")):
    os.environ.setdefault(name, value)
os.environ.pop("AWS_ENDPOINT_URL", None)

RUNS = 200
ALICE = Principal("alice", frozenset({"caseworker"}), "claims")


def describe(label: str, times: list[float]) -> None:
    quantiles = "   ".join(f"p{round(q * 100)} {percentile(times, q):7.2f} ms" for q in (0.5, 0.9, 0.99))
    print(f"{label:<58} {quantiles}")


def main() -> None:
    port = free_port()
    os.environ["MOTO_PORT"] = str(port)
    moto = start_moto(port)
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
        plain.view(ids[0])  # warm: clients built, the dataset fetched once
        print(f"customer views of {RUNS} lookups over {len(CUSTOMER_IDS)} customers "
              "(CRM over HTTP + risk dataset in S3)")
        describe("no cache: both products asked", timed_ms(lambda i: plain.view(ids[i]), RUNS))
        for customer in CUSTOMER_IDS:
            cached.view(customer)
        describe("read cache (in-process), every answer cached", timed_ms(lambda i: cached.view(ids[i]), RUNS))

        case_types = CaseTypeCatalog(InMemoryCaseTypeStore(), lambda: ())
        without = CaseService(repository, case_types, CaseNumbers(repository))
        with_mesh = CaseService(repository, case_types, CaseNumbers(repository),
                                customer_snapshot=plain.snapshot)

        def body(i: int) -> dict[str, str]:
            return {"title": "Bench", "caseType": "GENERAL", "priority": "LOW", "customerId": ids[i]}

        describe("POST /cases service call, no snapshot", timed_ms(lambda i: without.create(ALICE, body(i)), RUNS))
        describe("POST /cases service call, snapshot from the mesh (no cache)",
                 timed_ms(lambda i: with_mesh.create(ALICE, body(i)), RUNS))

        crm.stop()  # refused connections: the CRM is down, its last known records are served
        describe("CRM down (connection refused), last known served", timed_ms(lambda i: plain.view(ids[i]), 50))
        silent = socket.socket()
        silent.bind(("127.0.0.1", 0))
        silent.listen(100)  # accepts, never answers
        hanging = Path(mesh.catalog_dir) / "crm.customer-profile.json"
        hanging.write_text(hanging.read_text().replace(crm.url, f"http://127.0.0.1:{silent.getsockname()[1]}"))
        budget = customer_directory(settings, repository)
        describe("CRM silent (never answers): bounded by MESH_TIMEOUT_SECONDS=1",
                 timed_ms(lambda i: budget.view(ids[i]), 5))
        silent.close()
    finally:
        crm.stop()
        moto.stop()


if __name__ == "__main__":
    main()
