"""The case data product's rows and contracts, without AWS: the allowlist keeps personal data out, the
customer pseudonym is keyed, keys are deterministic, the descriptor's columns are the schema's, and v2 rows
carry custom fields except PII ones while v1 rows stay as they were."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from boto3.dynamodb.types import TypeSerializer

from chalicelib.adapters.object_store import InMemoryObjectStore
from chalicelib.domain import audit
from chalicelib.domain.case_rows import build_row, build_row_v2, customer_key, from_dynamodb_json, object_key
from chalicelib.domain.custom_fields import FieldDefinition
from chalicelib.services.case_data_product import CONTRACT_VERSIONS, CaseDataProduct, contract, descriptor_for, row_line
from tests.support import principal

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


@pytest.mark.parametrize("version", CONTRACT_VERSIONS)
def test_the_descriptors_columns_are_the_contracts_fields(version):
    descriptor = descriptor_for("bucket-x", version)
    schema = contract(version)[1]
    assert [f.name for f in descriptor.schema_fields] == list(schema["properties"])
    assert {f.name for f in descriptor.schema_fields if not f.nullable} == {
        name for name, spec in schema["properties"].items()
        if "null" not in (spec.get("type") if isinstance(spec.get("type"), list) else [spec.get("type")])
    }
    assert not any(f.pii for f in descriptor.schema_fields)
    assert schema["properties"]["schemaVersion"] == {"const": version} and descriptor.version == version
    assert descriptor.port("s3").location == f"s3://bucket-x/cases/v{version}/"
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


def test_v2_is_v1_with_the_case_type_version_and_only_the_non_pii_fields():
    definitions = [
        FieldDefinition(name="model", label="Model", type="string"),
        FieldDefinition(name="phone", label="Phone", type="string", pii=True),
    ]
    pinned = {**CASE_IMAGE, "caseTypeVersion": 3,
              "fields": '{"model": "X-100", "phone": "+31 6 9999", "dropped": "old field"}'}
    v1 = build_row(pinned, event(), KEY)
    v2 = build_row_v2(v1, pinned, definitions)
    assert v1 == build_row(CASE_IMAGE, event(), KEY)  # v1 does not look at the new attributes
    assert v2 == {**v1, "schemaVersion": "2", "caseTypeVersion": 3, "fields": {"model": "X-100"}}
    jsonschema.Draft202012Validator(contract("2")[1], format_checker=jsonschema.FormatChecker()).validate(v2)
    assert object_key(v2) == "cases/v2/dt=2026-03-01/c0ffee-0000000002.jsonl"


def test_a_case_without_a_type_version_or_fields_has_an_empty_v2_fields_object():
    v2 = build_row_v2(build_row(CASE_IMAGE, event(), KEY), CASE_IMAGE, [])
    assert (v2["caseTypeVersion"], v2["fields"]) == (None, {})
    jsonschema.Draft202012Validator(contract("2")[1]).validate(v2)


def stream_record(case_image: dict, change_event) -> dict:
    serialise = TypeSerializer().serialize
    return {
        "eventID": "1", "eventName": "MODIFY",
        "dynamodb": {
            "Keys": {"PK": {"S": f"CASE#{case_image['id']}"}, "SK": {"S": "CASE"}}, "SequenceNumber": "100",
            "NewImage": {k: serialise(v) for k, v in {**case_image, "auditHash": change_event.hash}.items()},
            "OldImage": {k: serialise(v) for k, v in {**case_image, "auditSeq": 1}.items()},
        },
    }


def test_published_v2_rows_never_carry_a_pii_field_and_v1_rows_stay_as_they_were():
    asked = []

    def field_definitions(case_type, version):
        asked.append((case_type, version))
        return [FieldDefinition(name="serial", label="Serial", type="string"),
                FieldDefinition(name="email", label="E-mail", type="string", pii=True),
                FieldDefinition(name="price", label="Price", type="money", pii=True)]

    store = InMemoryObjectStore()
    product = CaseDataProduct(store, "bucket-x", lambda: KEY, lambda case_id, seq: event(seq),
                              field_definitions=field_definitions)
    pinned = {**CASE_IMAGE, "caseTypeVersion": 2,
              "fields": {"serial": "SN-1", "email": "ada@example.com", "price": {"amount": "9.99", "currency": "EUR"}}}
    assert product.publish([stream_record(pinned, event())]) == []
    assert asked == [("CLAIM", 2)]
    assert store.keys("cases/") == [
        "cases/v1/dt=2026-03-01/c0ffee-0000000002.jsonl", "cases/v2/dt=2026-03-01/c0ffee-0000000002.jsonl",
    ]
    v1_bytes = store.get("cases/v1/dt=2026-03-01/c0ffee-0000000002.jsonl")
    assert v1_bytes == row_line(build_row({**CASE_IMAGE, "auditHash": event().hash}, event(), KEY))
    v2_bytes = store.get("cases/v2/dt=2026-03-01/c0ffee-0000000002.jsonl")
    assert json.loads(v2_bytes)["fields"] == {"serial": "SN-1"}
    for personal in (b"ada@example.com", b"9.99", b"email", b"price"):
        assert personal not in v1_bytes + v2_bytes


def test_the_view_lists_every_contract_version_and_keeps_v1_on_top():
    product = CaseDataProduct(InMemoryObjectStore(), "bucket-x", lambda: KEY, lambda case_id, seq: None)
    view = product.view(principal("ada", "admin"))
    assert (view.descriptor.version, view.location, view.contract) == ("1", "s3://bucket-x/cases/v1/", contract()[1])
    assert [(v.version, v.location, v.contract) for v in view.versions] == [
        ("1", "s3://bucket-x/cases/v1/", contract("1")[1]), ("2", "s3://bucket-x/cases/v2/", contract("2")[1]),
    ]
