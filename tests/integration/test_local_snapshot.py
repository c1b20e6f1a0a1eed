"""local/snapshot.py: a table written to a snapshot and put back into a new table of the same name answers as
before, value for value (every attribute type, binary as bytes, sets, nested maps and lists, numbers exact), and
the file is DynamoDB JSON (binary in base64, as AWS's exports). The stream records a stop left are kept in order.
The case data product's rows the benchmarks list through S3 are the rows the snapshot saves."""
from __future__ import annotations

import base64
import json
import sys
import uuid
from pathlib import Path
from typing import Any, Callable

import pytest

from chalicelib.domain.case_rows import ROWS_PREFIX, object_key
from local.snapshot import dump_backlog, dump_objects, dump_table, moto_s3, moto_table, read_backlog, restore_table

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))  # the benchmarks' own modules
from local_scale import data_product_rows

REGION = "us-east-1"
RAW = bytes(range(256))  # not UTF-8: must come back byte for byte

ITEMS: list[dict[str, Any]] = [
    {"PK": {"S": "A"}, "SK": {"S": "1"}, "gpk": {"S": "G"}, "num": {"N": "123456789012345678901234567890.000001"},
     "text": {"S": "ünïcødé ✓ \"quoted\" \\ back"}, "blob": {"B": RAW}, "yes": {"BOOL": True},
     "no": {"BOOL": False}, "nothing": {"NULL": True}, "tags": {"SS": ["a", "b"]},
     "nums": {"NS": ["1", "-0.5", "1e10"]},
     "blobs": {"BS": [b"\x00", RAW]}, "small": {"N": "-0.000000000000000000000000000001"}},
    {"PK": {"S": "A"}, "SK": {"S": "2"}, "gpk": {"S": "G"},
     "nested": {"M": {"list": {"L": [{"N": "1"}, {"S": "two"}, {"B": b"\xff\xfe"}, {"M": {}}, {"L": []},
                                      {"M": {"deep": {"L": [{"NULL": True}, {"SS": ["x"]}, {"BS": [b"\x01"]}]}}}]},
                         "empty": {"M": {}}, "flag": {"BOOL": False}}}},
    {"PK": {"S": "B"}, "SK": {"S": "1"}},  # not in the index (sparse)
]


KEY = {"AttributeName": "SK", "KeyType": "RANGE"}
TABLE = {  # a sparse index over the table's sort key
    "BillingMode": "PAY_PER_REQUEST",
    "AttributeDefinitions": [{"AttributeName": name, "AttributeType": "S"} for name in ("PK", "SK", "gpk")],
    "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"}, KEY],
    "GlobalSecondaryIndexes": [{"IndexName": "by-g", "Projection": {"ProjectionType": "ALL"},
                                "KeySchema": [{"AttributeName": "gpk", "KeyType": "HASH"}, KEY]}],
}


@pytest.fixture
def dynamodb(aws: Callable[[str], Any]) -> Any:
    return aws("dynamodb")


def create(dynamodb: Any, name: str) -> None:
    dynamodb.create_table(TableName=name, **TABLE)


def everything(dynamodb: Any, name: str) -> list[dict[str, Any]]:
    items = dynamodb.scan(TableName=name, ConsistentRead=True)["Items"]
    return sorted(items, key=lambda item: (item["PK"]["S"], item["SK"]["S"]))


def test_every_attribute_type_comes_back_as_it_was(dynamodb: Any, tmp_path: Path) -> None:
    name = f"snapshot-{uuid.uuid4().hex[:8]}"
    create(dynamodb, name)
    for item in ITEMS:
        dynamodb.put_item(TableName=name, Item=item)
    # Values changed by an update expression, as moto holds them after one (sets grown, a map member set).
    dynamodb.update_item(
        TableName=name, Key={"PK": {"S": "A"}, "SK": {"S": "2"}},
        UpdateExpression="ADD grown :s, tally :one SET nested.added = :b",
        ExpressionAttributeValues={":s": {"SS": ["p", "q"]}, ":one": {"N": "1"}, ":b": {"B": b"\x00\x01"}},
    )
    before = everything(dynamodb, name)
    path = tmp_path / "dynamodb.json"

    assert dump_table(moto_table("123456789012", REGION, name), path) == 3
    saved = json.loads(path.read_text())
    assert saved["version"] == 1
    first = next(i for i in saved["tables"][name] if i["SK"] == {"S": "1"} and i["PK"] == {"S": "A"})
    assert first["blob"] == {"B": base64.b64encode(RAW).decode()}  # DynamoDB JSON: binary as base64 text
    assert first["num"] == {"N": "123456789012345678901234567890.000001"}  # numbers as written, not floats

    dynamodb.delete_table(TableName=name)
    create(dynamodb, name)
    assert restore_table(moto_table("123456789012", REGION, name), path) == 3

    assert everything(dynamodb, name) == before
    got = dynamodb.get_item(TableName=name, Key={"PK": {"S": "A"}, "SK": {"S": "1"}})["Item"]
    assert got["blob"] == {"B": RAW} and got["blobs"]["BS"] == [b"\x00", RAW]
    indexed = dynamodb.query(TableName=name, IndexName="by-g", KeyConditionExpression="gpk = :g",
                             ExpressionAttributeValues={":g": {"S": "G"}})["Items"]
    assert [item["SK"]["S"] for item in indexed] == ["1", "2"]
    # Restored items take writes as any other: conditions, updates of nested values, and a second snapshot.
    dynamodb.update_item(
        TableName=name, Key={"PK": {"S": "A"}, "SK": {"S": "2"}}, UpdateExpression="SET nested.flag = :t",
        ConditionExpression="nested.added = :b",
        ExpressionAttributeValues={":t": {"BOOL": True}, ":b": {"B": b"\x00\x01"}},
    )
    assert dump_table(moto_table("123456789012", REGION, name), tmp_path / "again.json") == 3


def test_a_missing_snapshot_restores_nothing(dynamodb: Any, tmp_path: Path) -> None:
    name = f"snapshot-{uuid.uuid4().hex[:8]}"
    create(dynamodb, name)
    assert restore_table(moto_table("123456789012", REGION, name), tmp_path / "none.json") == 0
    assert everything(dynamodb, name) == []


def test_the_backlog_keeps_each_functions_records_in_order_and_each_record_once(tmp_path: Path) -> None:
    records = [{"eventID": f"e{n}", "eventSource": "aws:dynamodb", "dynamodb": {"Keys": {"PK": {"S": f"K{n}"}}}}
               for n in range(3)]
    backlog = {"publish": records, "notify": records[1:]}
    path = tmp_path / "stream-backlog.json"

    assert dump_backlog(backlog, path) == 5
    assert len(json.loads(path.read_text())["records"]) == 3
    assert read_backlog(path) == backlog
    assert dump_backlog({}, path) == 0  # replayed once: an empty backlog replaces it
    assert read_backlog(path) == {} and read_backlog(tmp_path / "none.json") == {}


def test_the_benchmarks_list_every_row_the_snapshot_saves(aws: Callable[[str], Any], moto_endpoint: str,
                                                           tmp_path: Path) -> None:
    """bench/stop_restart.py once listed cases/v1/ only and reported half of the saved rows as restored."""
    bucket, s3 = f"rows-{uuid.uuid4().hex[:8]}", aws("s3")
    s3.create_bucket(Bucket=bucket)
    for n in range(1, 1201):  # more than a page of ListObjectsV2: a v1 and a v2 row per event, as the product
        for version in ("1", "2"):
            row = {"schemaVersion": version, "eventAt": "2026-12-06T10:00:00Z", "caseId": f"case{n % 7}", "auditSeq": n}
            s3.put_object(Bucket=bucket, Key=object_key(row), Body=b"{}\n")
    saved = dump_objects(moto_s3("123456789012").get_bucket(bucket), ROWS_PREFIX, tmp_path / "rows.json")
    stack = {"awsEndpoint": moto_endpoint, "region": REGION, "dataProductBucket": bucket}
    assert data_product_rows(stack) == saved == 2400
