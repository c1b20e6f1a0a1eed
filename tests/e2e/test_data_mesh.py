"""The data mesh on the running local system, over HTTP as a client would: a customer merged from the sample
CRM (HTTP port) and risk dataset (S3), a case opened with its customer's snapshot, and that case's rows in
the case data product bucket, valid against the contract and traceable to the case's history."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import boto3
import jsonschema

from tests.e2e.test_workflow import complete_all_tasks, open_tasks

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "chalicelib" / "data_products" / "cases" / "v1" / "schema.json").read_text())
CRM, RISK = "crm.customer-profile", "risk.customer-accounts"


def s3(local_stack: dict[str, Any]) -> Any:
    return boto3.client("s3", endpoint_url=local_stack["awsEndpoint"], region_name=local_stack["region"],
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def case_rows(local_stack: dict[str, Any], case_id: str, prefix: str = "cases/v1/") -> list[dict[str, Any]]:
    """The case's rows of one contract version (its prefix)."""
    client, bucket = s3(local_stack), local_stack["mesh"]["dataProductBucket"]
    rows = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            if f"/{case_id}-" in obj["Key"]:
                body = client.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
                rows += [json.loads(line) for line in body.splitlines()]
    return sorted(rows, key=lambda r: r["auditSeq"])


def test_the_stack_file_lists_the_mesh_endpoints(local_stack):
    mesh = local_stack["mesh"]
    assert mesh["crmUrl"].startswith("http://127.0.0.1:")
    assert mesh["accountsDataset"].startswith("s3://") and mesh["caseDataProduct"].startswith("s3://")
    assert {CRM, RISK, "cases.case-events"} <= set(mesh["products"])
    assert sorted(p.name for p in Path(mesh["catalogDir"]).glob("*.json")) == [
        "cases.case-events.json", "crm.customer-profile.json", "risk.customer-accounts.json",
    ]


def test_a_customer_merged_from_the_crm_and_the_risk_dataset(api):
    response = api("bob").get("/customers/CUST-1001")
    assert response.status_code == 200, response.text
    view = response.json()
    assert view["status"] == "COMPLETE"
    sources = {name: field["source"] for name, field in view["fields"].items()}
    assert sources["name"] == sources["email"] == CRM
    assert sources["riskScore"] == sources["accountStatus"] == RISK
    assert all(field["ageSeconds"] >= 0 and field["asOf"] for field in view["fields"].values())
    assert api("bob").get("/customers/CUST-99999").status_code == 404
    bad = api("bob").get("/customers/nobody")
    assert bad.status_code == 400 and bad.json()["error"]["details"][0]["field"] == "customerId"


def test_an_opened_case_keeps_its_snapshot_and_appears_in_the_data_product(api, local_stack, drain_lambdas):
    alice = api("alice")
    created = alice.post("/cases", json={
        "title": "Mesh e2e: hail damage", "description": "Roof tiles broken", "caseType": "GENERAL",
        "priority": "LOW", "customerId": "CUST-1002",
    })
    assert created.status_code == 201, created.text
    case = created.json()
    assert case["customerSnapshot"]["status"] == "COMPLETE"
    assert case["customerSnapshot"]["fields"]["name"]["source"] == CRM
    assert alice.get(f"/cases/{case['id']}").json()["customerSnapshot"] == case["customerSnapshot"]

    drain_lambdas()
    deadline = time.monotonic() + 30  # the workflow's first steps (Lambda tasks) write more changes meanwhile
    rows = case_rows(local_stack, case["id"])
    while not rows and time.monotonic() < deadline:
        time.sleep(0.5)
        drain_lambdas()
        rows = case_rows(local_stack, case["id"])
    assert rows and rows[0]["eventType"] == "CASE_CREATED" and rows[0]["caseNumber"] == case["number"]
    history = {e["seq"]: e for e in alice.get(f"/cases/{case['id']}/history", params={"limit": 100}).json()["items"]}
    text = json.dumps(rows)
    for row in rows:
        jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(row)
        assert history[row["auditSeq"]]["hash"] == row["auditHash"]
    for personal in ("Mesh e2e: hail damage", "Roof tiles broken", "CUST-1002", "alice",
                     case["customerSnapshot"]["fields"]["name"]["value"]):
        assert personal not in text

    described = alice.get("/data-products/cases")
    assert described.status_code == 200, described.text
    product = described.json()
    assert product["location"] == local_stack["mesh"]["caseDataProduct"]
    assert product["descriptor"]["owner"] and product["descriptor"]["classification"] == "INTERNAL"
    assert product["contract"]["$id"] == SCHEMA["$id"]
    assert product["freshness"]["newestRowPublishedAt"] is not None
    finish_work(api, case["id"])


def finish_work(api, case_id: str, timeout: float = 30) -> None:
    """The case gave alice's team a task: do it, so other tests on the shared system find capacity as it was."""
    ada, deadline = api("ada"), time.monotonic() + timeout
    while not open_tasks(ada, case_id) and time.monotonic() < deadline:
        time.sleep(0.2)
    complete_all_tasks(api, ada, case_id)
