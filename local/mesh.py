"""The local system's own data mesh: sample customer data products of two other domains, and the catalog.

- `crm.customer-profile`: the CRM's profile of each customer over an HTTP output port (a small server on
  loopback, in a thread of the local system's process);
- `risk.customer-accounts`: the risk domain's account and risk dataset, JSON Lines in an S3 bucket;
- `cases.case-events`: this system's own case data product (its descriptor from chalicelib/data_products).

The customers are synthetic and generated deterministically (the same ids and values on every start;
their `updatedAt` times are set relative to the start, so the data is fresh within the products' SLAs)."""
from __future__ import annotations

import json
import logging
import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Optional

from chalicelib.domain.customers import iso
from chalicelib.services.case_data_product import descriptor_for

from .provision import _bucket as ensure_bucket
from .server_thread import ServerThread

log = logging.getLogger("local.mesh")

SOURCE_BUCKET = "cms-local-data-mesh"  # stands in for the risk domain's own bucket
DATA_PRODUCT_BUCKET = "cms-local-data-products"  # DataProductBucket
ACCOUNTS_KEY = "risk/customer-accounts/v1/accounts.jsonl"
CRM_PRODUCT = "crm.customer-profile"
ACCOUNTS_PRODUCT = "risk.customer-accounts"
DAY = 24 * 3600

# Demo cases and the README use CUST-1001, CUST-1002, CUST-2001, CUST-2002 and CUST-7.
CUSTOMER_IDS = tuple(
    [f"CUST-{n}" for n in range(1, 21)] + [f"CUST-{n}" for n in range(1001, 1031)]
    + [f"CUST-{n}" for n in range(2001, 2031)]
)
_FIRST = ("Ada", "Ben", "Chloe", "Dev", "Elif", "Femi", "Greta", "Hugo", "Ines", "Jon", "Kemal", "Lena", "Mira", "Noor")
_LAST = ("Andersen", "Baptiste", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Horvat", "Ivanova", "Jansen")
_CITIES = ("Amsterdam", "Berlin", "Dublin", "Lisbon", "Lyon", "Milan", "Porto", "Tallinn", "Vienna")
_SEGMENTS = ("RETAIL", "PREMIUM", "SMALL_BUSINESS")
_LANGUAGES = ("en", "de", "fr", "nl", "pt")


def crm_profile(customer_id: str, now: datetime) -> dict[str, Any]:
    rng = random.Random(f"crm/{customer_id}")
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    return {
        "customerId": customer_id, "name": f"{first} {last}",
        "email": f"{first}.{last}.{customer_id[5:]}@example.com".lower(),
        "phone": f"+31 6 {rng.randint(10_000_000, 99_999_999)}", "city": rng.choice(_CITIES),
        "segment": rng.choice(_SEGMENTS), "preferredLanguage": rng.choice(_LANGUAGES),
        "updatedAt": iso(now - timedelta(minutes=rng.randint(5, 600))),
    }


def account_record(customer_id: str, now: datetime) -> dict[str, Any]:
    rng = random.Random(f"risk/{customer_id}")
    score = rng.randint(1, 99)
    return {
        "customerId": customer_id, "accountStatus": rng.choice(("ACTIVE", "ACTIVE", "ACTIVE", "IN_ARREARS", "CLOSED")),
        "riskScore": score, "riskBand": "LOW" if score < 40 else "MEDIUM" if score < 75 else "HIGH",
        "customerSince": f"{rng.randint(2005, 2025)}-{rng.randint(1, 12):02d}-01",
        "segment": rng.choice(_SEGMENTS), "openClaims": rng.randint(0, 3),
        "updatedAt": iso(now - timedelta(minutes=rng.randint(5, 600))),
    }


def catalog_entries(crm_url: str, data_product_bucket: str) -> list[dict[str, Any]]:
    """The descriptors the local catalog holds."""
    crm = {
        "id": CRM_PRODUCT, "name": "Customer profile", "domain": "crm", "owner": "crm team <crm@example.com>",
        "description": "The CRM's master data of each customer, one JSON object per GET /customers/{id}.",
        "entity": "customer", "version": "1",
        "outputPorts": [{"name": "http-api", "protocol": "http", "location": crm_url, "format": "json"}],
        "schema": [
            {"name": "customerId", "type": "string", "nullable": False},
            {"name": "name", "type": "string", "pii": True}, {"name": "email", "type": "string", "pii": True},
            {"name": "phone", "type": "string", "pii": True}, {"name": "city", "type": "string", "pii": True},
            {"name": "segment", "type": "string"}, {"name": "preferredLanguage", "type": "string"},
            {"name": "updatedAt", "type": "timestamp", "nullable": False},
        ],
        "freshnessSlaSeconds": DAY, "classification": "CONFIDENTIAL", "lineage": ["CRM system"],
    }
    accounts = {
        "id": ACCOUNTS_PRODUCT, "name": "Customer accounts and risk", "domain": "risk",
        "owner": "risk team <risk@example.com>",
        "description": "Account status and risk score per customer, refreshed in batches: JSON Lines in S3.",
        "entity": "customer", "version": "1",
        "outputPorts": [{"name": "s3-jsonl", "protocol": "s3", "location": f"s3://{SOURCE_BUCKET}/{ACCOUNTS_KEY}",
                         "format": "jsonl"}],
        "schema": [
            {"name": "customerId", "type": "string", "nullable": False}, {"name": "accountStatus", "type": "string"},
            {"name": "riskScore", "type": "integer"}, {"name": "riskBand", "type": "string"},
            {"name": "customerSince", "type": "date"}, {"name": "segment", "type": "string"},
            {"name": "openClaims", "type": "integer"}, {"name": "updatedAt", "type": "timestamp", "nullable": False},
        ],
        "freshnessSlaSeconds": DAY, "classification": "CONFIDENTIAL", "lineage": ["core banking", "risk models"],
    }
    cases = descriptor_for(data_product_bucket).to_api()
    return [crm, accounts, cases]


class _CrmHandler(BaseHTTPRequestHandler):
    server: "_CrmHttpServer"
    _PATH = re.compile(r"^/customers/([^/?#]{1,64})$")

    def do_GET(self) -> None:
        match = self._PATH.match(self.path)
        if self.path == "/health":
            self._send(200, {"status": "ok"})
        elif match and match.group(1) in self.server.profiles:
            self._send(200, self.server.profiles[match.group(1)])
        else:
            self._send(404, {"error": "not found"})

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # one line per lookup would drown the API's log
        pass


class _CrmHttpServer(ThreadingHTTPServer):
    daemon_threads = True
    profiles: dict[str, dict[str, Any]]


class CrmServer:
    """The CRM product's HTTP output port on loopback, in a thread."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, now: Optional[datetime] = None) -> None:
        self._server = _CrmHttpServer((host, port), _CrmHandler)
        now = now or datetime.now(timezone.utc)
        self._server.profiles = {cid: crm_profile(cid, now) for cid in CUSTOMER_IDS}
        self._served = ServerThread(self._server, "crm-port", join_timeout=5)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        if isinstance(host, bytes):  # only an AF_UNIX address is bytes; decoded, not printed as b'...'
            host = host.decode()
        return f"http://{host}:{port}"

    def start(self) -> "CrmServer":
        self._served.start()
        return self

    def stop(self) -> None:
        self._served.stop()


@dataclass(frozen=True)
class MeshResources:
    catalog_dir: Path
    crm_url: str
    accounts_dataset: str
    data_product_bucket: str

    def to_stack(self) -> dict[str, Any]:
        return {
            "catalogDir": str(self.catalog_dir), "crmUrl": self.crm_url, "accountsDataset": self.accounts_dataset,
            "dataProductBucket": self.data_product_bucket,
            "caseDataProduct": f"s3://{self.data_product_bucket}/cases/v1/",
            "products": [CRM_PRODUCT, ACCOUNTS_PRODUCT, "cases.case-events"],
        }


def provision_mesh(s3: Any, region: str, state_dir: Path, crm_url: str,
                   now: Optional[datetime] = None) -> MeshResources:
    """The buckets (the data product bucket, the risk domain's bucket with its dataset) and the catalog files."""
    now = now or datetime.now(timezone.utc)
    for bucket in (DATA_PRODUCT_BUCKET, SOURCE_BUCKET):
        # Not versioned: a row written again replaces itself (same key), leaving no second version behind.
        ensure_bucket(s3, bucket, region, versioned=False)
    lines = "".join(json.dumps(account_record(cid, now)) + "\n" for cid in CUSTOMER_IDS)
    s3.put_object(Bucket=SOURCE_BUCKET, Key=ACCOUNTS_KEY, Body=lines.encode(), ContentType="application/x-ndjson")
    catalog_dir = state_dir / "catalog"
    catalog_dir.mkdir(parents=True, exist_ok=True)
    for stale in catalog_dir.glob("*.json"):
        stale.unlink()
    for entry in catalog_entries(crm_url, DATA_PRODUCT_BUCKET):
        (catalog_dir / f"{entry['id']}.json").write_text(json.dumps(entry, indent=2) + "\n")
    return MeshResources(catalog_dir, crm_url, f"s3://{SOURCE_BUCKET}/{ACCOUNTS_KEY}", DATA_PRODUCT_BUCKET)

