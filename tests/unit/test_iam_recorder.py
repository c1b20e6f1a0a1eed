"""The IAM action recorder: botocore calls (and presigned URLs) of the running function become IAM permissions."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import boto3
import pytest
from botocore.stub import Stubber

from local.iam_actions import Permission, permissions
from local.iam_recorder import ActionRecorder, read_records, running

REGION, ACCOUNT = "eu-west-1", "111122223333"
TABLE_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/cases"


def needed(prefix: str, operation: str, params: dict, presigned: bool = False) -> list[Permission]:
    return list(permissions(prefix, operation, params, presigned=presigned, region=REGION, account=ACCOUNT))


def test_a_transaction_needs_the_action_of_each_item() -> None:
    params = {"TransactItems": [
        {"Put": {"TableName": "cases"}}, {"Update": {"TableName": "cases"}}, {"ConditionCheck": {"TableName": "other"}},
    ]}
    assert needed("dynamodb", "TransactWriteItems", params) == [
        Permission("dynamodb:PutItem", TABLE_ARN), Permission("dynamodb:UpdateItem", TABLE_ARN),
        Permission("dynamodb:ConditionCheckItem", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/other"),
    ]


def test_a_query_of_an_index_needs_the_index() -> None:
    assert needed("dynamodb", "Query", {"TableName": "cases", "IndexName": "inbox"}) == [
        Permission("dynamodb:Query", f"{TABLE_ARN}/index/inbox"),
    ]


def test_s3_operations_are_authorised_by_their_iam_names() -> None:
    assert needed("s3", "HeadObject", {"Bucket": "b", "Key": "k"}) == [Permission("s3:GetObject", "arn:aws:s3:::b/k")]
    assert needed("s3", "GetObject", {"Bucket": "b", "Key": "k", "VersionId": "v"}) == [
        Permission("s3:GetObjectVersion", "arn:aws:s3:::b/k"),
    ]
    assert needed("s3", "GetObjectLockConfiguration", {"Bucket": "b"}) == [
        Permission("s3:GetBucketObjectLockConfiguration", "arn:aws:s3:::b"),
    ]
    assert needed("s3", "ListObjectVersions", {"Bucket": "b", "Prefix": "k"}) == [
        Permission("s3:ListBucketVersions", "arn:aws:s3:::b"),
    ]


def test_step_functions_resources_are_the_machine_the_execution_or_none() -> None:
    machine = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:m"
    execution = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:m:e"
    assert needed("states", "StartExecution", {"stateMachineArn": machine}) == [
        Permission("states:StartExecution", machine)]
    assert needed("states", "DescribeExecution", {"executionArn": execution}) == [
        Permission("states:DescribeExecution", execution),
    ]
    assert needed("states", "SendTaskSuccess", {"taskToken": "t"}) == [Permission("states:SendTaskSuccess", "*")]


@pytest.fixture
def recorder(tmp_path: Path) -> Iterator[ActionRecorder]:
    recorder = ActionRecorder(tmp_path / "actions.jsonl", REGION, ACCOUNT)
    recorder.install()
    try:
        yield recorder
    finally:
        recorder.uninstall()


def client(service: str):
    # A session of its own, created after install(), as the app's are.
    return boto3.session.Session(
        region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing",
    ).client(service)


def test_records_the_running_functions_calls_once_and_nothing_outside_a_function(recorder: ActionRecorder) -> None:
    dynamodb = client("dynamodb")
    with Stubber(dynamodb) as stub:
        for _ in range(3):
            stub.add_response("get_item", {})
        dynamodb.get_item(TableName="cases", Key={"PK": {"S": "x"}})  # no function is running: not recorded
        with running("wf_assign"):
            dynamodb.get_item(TableName="cases", Key={"PK": {"S": "x"}})
            dynamodb.get_item(TableName="cases", Key={"PK": {"S": "y"}})
    assert [(r["function"], r["action"], r["resource"]) for r in read_records(recorder.path)] == [
        ("wf_assign", "dynamodb:GetItem", TABLE_ARN),
    ]


def test_presigned_urls_record_what_they_grant(recorder: ActionRecorder) -> None:
    s3 = client("s3")
    with running("api_handler"):
        s3.generate_presigned_post(Bucket="docs", Key="cases/1/doc", Fields={}, Conditions=[], ExpiresIn=60)
        s3.generate_presigned_url("get_object", Params={"Bucket": "docs", "Key": "cases/1/doc", "VersionId": "v1"})
    assert [(r["action"], r["resource"], r["presigned"]) for r in read_records(recorder.path)] == [
        ("s3:PutObject", "arn:aws:s3:::docs/cases/1/doc", True),
        ("s3:GetObjectVersion", "arn:aws:s3:::docs/cases/1/doc", True),
    ]


def test_uninstall_stops_recording_for_new_sessions(recorder: ActionRecorder) -> None:
    recorder.uninstall()
    with running("api_handler"):
        client("s3").generate_presigned_url("get_object", Params={"Bucket": "docs", "Key": "k"})
    assert read_records(recorder.path) == []
