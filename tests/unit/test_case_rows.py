"""The case data product's rows and contract, without AWS: the allowlist keeps personal data out, the
customer pseudonym is keyed, keys are deterministic, and the descriptor's columns are the schema's."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from chalicelib.domain import audit
from chalicelib.domain.case_rows import build_row, customer_key, from_dynamodb_json, object_key
from chalicelib.services.case_data_product import contract, descriptor_for

ROOT = Path(__file__).resolve().parents[2]
KEY = b"unit-test-pseudonym-key"

CASE_IMAGE = {
    "id": "c0ffee", "number": "CASE-2026-000042", "title": "Ada Costa's kitchen", "description": "call +31 6 1234",
    "caseType": "CLAIM", "priority": "HIGH", "customerId": "CUST-1001", "status": "OPEN", "team": "claims",
    "assignee": "alice", "createdBy": "alice", "updatedBy": "sam", "participants": ["alice", "sam"],
    "tags": ["vip"], "requiredDocuments": ["claim-form", "proof-of-loss"],
    "compensation": '{"amount": "1250.00", "currency": "EUR"}', "workflow": '{"stage": "ASSIGNED", "run": 1}',
    "customerSnapshot": '{"fields": {"name": {"value": "Ada Costa"}}}',
    "createdAt": "2026-03-01T12:00:00.000Z", "updatedAt": "2026-03-01T12:05:00.000Z",
    "dueAt": "2026-03-06T12:00:00.000Z",
    "auditSeq": 2, "auditHash": "",
}


def event(seq: int = 2):
    first = audit.next_event(case_id="c0ffee", prev_seq=0, prev_hash="", type="CASE_CREATED", actor="alice",
                             at="2026-03-01T12:00:00.000Z", data={})
    if seq == 1:
        return first
    return audit.next_event(case_id="c0ffee", prev_seq=1, prev_hash=first.hash, type="TASKS_ASSIGNED", actor="system",
                            at="2026-03-01T12:05:00.000Z", data={})


def test_a_row_holds_the_allowlisted_fields_only_and_validates():
    row = build_row(CASE_IMAGE, event(), KEY)
    jsonschema.Draft202012Validator(contract()[1], format_checker=jsonschema.FormatChecker()).validate(row)
    text = json.dumps(row)
    for personal in ("Ada Costa", "+31 6", "CUST-1001", "alice", "sam", "vip", "claim-form"):
        assert personal not in text
    assert (row["auditSeq"], row["auditHash"], row["eventType"]) == (2, event().hash, "TASKS_ASSIGNED")
    assert (row["compensationAmount"], row["workflowStage"], row["requiredDocumentCount"]) == ("1250.00", "ASSIGNED", 2)
    assert row["hasAssignee"] is True and row["customerKey"] == customer_key(KEY, "CUST-1001")


def test_the_customer_key_is_keyed():
    assert customer_key(KEY, "CUST-1") == customer_key(KEY, "CUST-1")
    assert customer_key(KEY, "CUST-1") != customer_key(b"another-key-of-16-bytes", "CUST-1")
    assert customer_key(KEY, "CUST-1") != customer_key(KEY, "CUST-2")


def test_the_object_key_is_the_events_and_its_date():
    row = build_row(CASE_IMAGE, event(), KEY)
    assert object_key(row) == "cases/v1/dt=2026-03-01/c0ffee-0000000002.jsonl"
    assert object_key(build_row(CASE_IMAGE, event(), KEY)) == object_key(row)


@pytest.mark.parametrize("value, expected", [
    ({"S": "x"}, "x"), ({"N": "3"}, 3), ({"N": "2.5"}, 2.5), ({"BOOL": True}, True), ({"NULL": True}, None),
    ({"L": [{"S": "a"}, {"N": "1"}]}, ["a", 1]), ({"M": {"k": {"S": "v"}}}, {"k": "v"}),
    ({"SS": ["a", "b"]}, ["a", "b"]),
])
def test_dynamodb_json_is_read_as_plain_values(value, expected):
    assert from_dynamodb_json(value) == expected


def test_the_descriptors_columns_are_the_contracts_fields():
    descriptor = descriptor_for("bucket-x")
    schema = contract()[1]
    assert [f.name for f in descriptor.schema_fields] == list(schema["properties"])
    assert {f.name for f in descriptor.schema_fields if not f.nullable} == {
        name for name, spec in schema["properties"].items()
        if "null" not in (spec.get("type") if isinstance(spec.get("type"), list) else [spec.get("type")])
    }
    assert not any(f.pii for f in descriptor.schema_fields)
    assert descriptor.port("s3").location == "s3://bucket-x/cases/v1/"
    assert descriptor.owner and descriptor.lineage and descriptor.freshness_sla_seconds > 0


def test_the_glue_table_resource_has_every_column_and_the_dt_partition():
    import importlib.util

    spec = importlib.util.spec_from_file_location("glue_table", ROOT / "scripts" / "case_data_product_glue_table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    table = module.glue_table_resource()["CaseDataProductTable"]["Properties"]["TableInput"]
    assert [c["Name"] for c in table["StorageDescriptor"]["Columns"]] == list(contract()[1]["properties"])
    assert table["PartitionKeys"][0]["Name"] == "dt"
    assert table["StorageDescriptor"]["Location"] == {"Fn::Sub": "s3://${DataProductBucket}/cases/v1/"}
