"""The case data product from the real stream of a table in moto, published to a moto bucket: every row
validates against the contract, no personal data in any row, each row's provenance hash is the case
history's, re-delivered stream records never add a row, and each v2 row is its v1 row with the custom fields."""
from __future__ import annotations

import json
import random
import uuid
from typing import Any

import boto3
import jsonschema
import pytest

from chalicelib.adapters.dynamo.cases import DynamoCaseRepository
from chalicelib.adapters.object_store import S3ObjectStore
from chalicelib.domain import audit
from chalicelib.domain.case_rows import PREFIX, customer_key
from chalicelib.services.case_data_product import CaseDataProduct, contract
from chalicelib.services.cases import CaseNumbers, CaseService
from tests.support import principal, case_types

REGION = "us-east-1"

KEY = b"integration-test-pseudonym-key"
ALICE = principal("alice", "caseworker", team="claims")
SAM = principal("sam", "supervisor", team="claims")
PERSONAL = ["Burst pipe at Ada Costa's", "Water everywhere, call +31 6 12345678", "CUST-1001", "CUST-2002",
            "alice", "sam", "Spoke to Ada on the phone", "vip-customer"]


def client(service: str, endpoint: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint, region_name=REGION)


@pytest.fixture
def bucket(moto_endpoint: str) -> str:
    name = f"data-products-{uuid.uuid4().hex[:8]}"
    client("s3", moto_endpoint).create_bucket(Bucket=name)
    return name


@pytest.fixture
def cases(dynamo_models, moto_endpoint):
    repo = DynamoCaseRepository(dynamo_models)
    service = CaseService(repo, case_types(), CaseNumbers(repo, 1))
    first = service.create(ALICE, {
        "title": PERSONAL[0], "description": PERSONAL[1], "caseType": "CLAIM", "priority": "HIGH",
        "customerId": "CUST-1001", "compensation": {"amount": "1250.00", "currency": "EUR"}, "tags": [PERSONAL[7]],
    })
    second = service.create(SAM, {"title": "Late refund", "caseType": "COMPLAINT", "priority": "LOW",
                                  "customerId": "CUST-2002"})
    service.update(ALICE, first.id, {"priority": "CRITICAL"}, '"1"')
    service.add_comment(SAM, first.id, {"text": PERSONAL[6]})
    return repo, [first.id, second.id]


def stream_records(models, endpoint: str) -> list[dict[str, Any]]:
    """Every record on the table's stream, as Lambda gets them (DynamoDB JSON images)."""
    arn = client("dynamodb", endpoint).describe_table(TableName=models.case.Meta.table_name)["Table"]["LatestStreamArn"]
    streams = client("dynamodbstreams", endpoint)
    records: list[dict[str, Any]] = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        page = streams.get_records(ShardIterator=iterator, Limit=1000)
        records += page["Records"]
    return json.loads(json.dumps(records, default=str))  # as the Lambda event carries them: plain JSON


def product(repo, bucket: str, endpoint: str) -> tuple[CaseDataProduct, S3ObjectStore]:
    store = S3ObjectStore(bucket, lambda: client("s3", endpoint))
    return CaseDataProduct(store, bucket, lambda: KEY, repo.get_event), store


def rows(store: S3ObjectStore, prefix: str = PREFIX) -> dict[str, dict[str, Any]]:
    found = {}
    for key in store.keys(prefix):
        lines = store.get(key).decode().splitlines()
        assert len(lines) == 1, key
        found[key] = json.loads(lines[0])
    return found


def test_every_row_validates_and_names_its_audit_event(cases, dynamo_models, moto_endpoint, bucket):
    repo, case_ids = cases
    publisher, store = product(repo, bucket, moto_endpoint)
    assert publisher.publish(stream_records(dynamo_models, moto_endpoint)) == []
    published = rows(store)
    # One row per change of a case: 2 creates, 1 update, 1 comment.
    assert len(published) == 4
    validator = jsonschema.Draft202012Validator(contract()[1], format_checker=jsonschema.FormatChecker())
    for key, row in published.items():
        validator.validate(row)
        assert key == f"cases/v1/dt={row['eventAt'][:10]}/{row['caseId']}-{row['auditSeq']:010d}.jsonl"
    by_case = {case_id: sorted((r for r in published.values() if r["caseId"] == case_id), key=lambda r: r["auditSeq"])
               for case_id in case_ids}
    assert [(r["eventType"], r["priority"]) for r in by_case[case_ids[0]]] == [
        ("CASE_CREATED", "HIGH"), ("CASE_UPDATED", "CRITICAL"), ("COMMENT_ADDED", "CRITICAL"),
    ]
    assert by_case[case_ids[0]][0]["compensationAmount"] == "1250.00"


def test_each_v2_row_is_its_v1_row_with_the_case_type_version_and_fields(
    cases, dynamo_models, moto_endpoint, bucket,
):
    repo, _ = cases
    publisher, store = product(repo, bucket, moto_endpoint)
    publisher.publish(stream_records(dynamo_models, moto_endpoint))
    v1, v2 = rows(store), rows(store, "cases/v2/")
    assert [key.replace("cases/v1/", "cases/v2/") for key in sorted(v1)] == sorted(v2)
    validator = jsonschema.Draft202012Validator(contract("2")[1], format_checker=jsonschema.FormatChecker())
    for key, row in v2.items():
        validator.validate(row)
        extra = {"schemaVersion": "2", "caseTypeVersion": 1, "fields": {}}  # every case pins its type's version
        assert row == {**v1[key.replace("cases/v2/", "cases/v1/")], **extra}


def test_no_personal_data_in_any_row(cases, dynamo_models, moto_endpoint, bucket):
    repo, _ = cases
    publisher, store = product(repo, bucket, moto_endpoint)
    publisher.publish(stream_records(dynamo_models, moto_endpoint))
    published = rows(store)
    text = json.dumps(list(published.values()))
    for value in PERSONAL:
        assert value not in text
    allowed = set(contract()[1]["properties"])
    assert all(set(row) == allowed for row in published.values())
    # The customer is a keyed pseudonym: stable per customer, not the plain SHA-256 of the id.
    keys = {row["customerKey"] for row in published.values()}
    assert keys == {customer_key(KEY, "CUST-1001"), customer_key(KEY, "CUST-2002")}
    import hashlib

    assert hashlib.sha256(b"CUST-1001").hexdigest() not in keys


def test_each_rows_hash_is_the_hash_of_its_event_in_the_case_history(cases, dynamo_models, moto_endpoint, bucket):
    repo, case_ids = cases
    publisher, store = product(repo, bucket, moto_endpoint)
    publisher.publish(stream_records(dynamo_models, moto_endpoint))
    for row in rows(store).values():
        history = repo.list_events(row["caseId"])
        event = history[row["auditSeq"] - 1]
        assert (event.seq, event.hash, event.type, event.at) == (
            row["auditSeq"], row["auditHash"], row["eventType"], row["eventAt"])
        assert row["auditEventId"] == f"{row['caseId']}:{event.seq}"
        assert audit.verify_chain(history[: row["auditSeq"]]).valid


def test_redelivered_and_reordered_records_never_add_a_row(cases, dynamo_models, moto_endpoint, bucket):
    repo, _ = cases
    publisher, store = product(repo, bucket, moto_endpoint)
    records = stream_records(dynamo_models, moto_endpoint)
    publisher.publish(records)
    first = {key: store.get(key) for key in store.keys(PREFIX)}
    # At-least-once delivery: the whole stream again, shuffled and in small batches that split each case
    # change from its audit event (the publisher then reads the event from the table).
    shuffled = records[:]
    random.Random(7).shuffle(shuffled)
    for start in range(0, len(shuffled), 2):
        assert publisher.publish(shuffled[start:start + 2]) == []
    assert {key: store.get(key) for key in store.keys(PREFIX)} == first


def test_a_case_change_whose_hash_is_not_its_events_is_refused(cases, dynamo_models, moto_endpoint, bucket):
    repo, _ = cases
    publisher, store = product(repo, bucket, moto_endpoint)
    records = stream_records(dynamo_models, moto_endpoint)
    tampered = json.loads(json.dumps(records))
    target = next(r for r in tampered if r["dynamodb"]["Keys"]["SK"]["S"] == "CASE")
    target["dynamodb"]["NewImage"]["auditHash"] = {"S": "0" * 64}
    assert publisher.publish(tampered) == [target["dynamodb"]["SequenceNumber"]]
    assert len(store.keys(PREFIX)) == 3  # every other change was published


def test_freshness_is_the_time_of_the_newest_row(cases, dynamo_models, moto_endpoint, bucket):
    repo, _ = cases
    publisher, store = product(repo, bucket, moto_endpoint)
    admin = principal("ada", "admin")
    assert publisher.view(admin).freshness.newest_row_published_at is None
    publisher.publish(stream_records(dynamo_models, moto_endpoint))
    view = publisher.view(admin)
    newest = max(o["LastModified"] for o in client("s3", moto_endpoint).list_objects_v2(Bucket=bucket)["Contents"])
    assert view.freshness.newest_row_published_at == newest.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert view.location == f"s3://{bucket}/cases/v1/"
    assert view.descriptor.port("s3").location == f"s3://{bucket}/cases/v1/"
