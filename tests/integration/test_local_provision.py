"""Provisioning of the local system against a moto server: idempotent, and the resources are the
ones the app relies on (versioned bucket, table with stream, pool whose ID tokens carry team and groups)."""
from __future__ import annotations

import base64
import json
import socket
import uuid
from typing import Any, Iterator

import pytest
from moto.server import ThreadedMotoServer

from local.demo import DEMO_CASES, DEMO_PASSWORD, DEMO_USERS
from local.provision import Resources, client, has_cases, provision, seed_demo_cases
from local.snapshot import dump_objects, dump_table, moto_s3, moto_table, restore_objects, restore_table

ACCOUNT = "123456789012"  # moto's
# Unique names: moto's state is per process, and other tests may use the default names.
NAME = f"cms-it-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.MonkeyPatch.context() as env:
        for name, value in (
            ("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_DEFAULT_REGION", "us-east-1"), ("MOTO_PORT", str(port)),
        ):
            env.setenv(name, value)
        env.delenv("AWS_ENDPOINT_URL", raising=False)
        env.delenv("AWS_PROFILE", raising=False)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.stop()


@pytest.fixture(scope="module")
def provisioned(endpoint: str) -> tuple[Resources, Resources]:
    names: dict[str, Any] = {"table_name": NAME, "bucket_name": NAME, "pool_name": NAME}
    return provision(endpoint, **names), provision(endpoint, **names)


def _claims(jwt: str) -> dict[str, Any]:
    payload = jwt.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def test_provisioning_twice_reuses_every_resource(provisioned):
    first, second = provisioned
    assert first == second
    idp = client("cognito-idp", first.endpoint, first.region)
    pools = [p for p in idp.list_user_pools(MaxResults=60)["UserPools"] if p["Name"] == NAME]
    assert len(pools) == 1
    clients = idp.list_user_pool_clients(UserPoolId=first.user_pool_id, MaxResults=60)["UserPoolClients"]
    assert len(clients) == 1
    users = idp.list_users(UserPoolId=first.user_pool_id)["Users"]
    assert sorted(u["Username"] for u in users) == sorted(u.username for u in DEMO_USERS)
    for demo in DEMO_USERS:
        groups = idp.admin_list_groups_for_user(UserPoolId=first.user_pool_id, Username=demo.username)["Groups"]
        assert [g["GroupName"] for g in groups] == list(demo.groups)


def test_bucket_keeps_versions(provisioned):
    resources = provisioned[0]
    s3 = client("s3", resources.endpoint, resources.region)
    assert s3.get_bucket_versioning(Bucket=resources.bucket_name)["Status"] == "Enabled"


def test_table_streams_new_and_old_images(provisioned):
    resources = provisioned[0]
    table = client("dynamodb", resources.endpoint, resources.region).describe_table(TableName=resources.table_name)
    stream = table["Table"]["StreamSpecification"]
    assert stream == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert table["Table"]["LatestStreamArn"]


def test_demo_user_logs_in_and_the_id_token_carries_team_and_groups(provisioned):
    resources = provisioned[0]
    idp = client("cognito-idp", resources.endpoint, resources.region)
    result = idp.initiate_auth(
        AuthFlow="USER_PASSWORD_AUTH", ClientId=resources.user_pool_client_id,
        AuthParameters={"USERNAME": "bob", "PASSWORD": DEMO_PASSWORD},
    )["AuthenticationResult"]
    claims = _claims(result["IdToken"])
    assert claims["token_use"] == "id"
    assert claims["custom:team"] == "complaints"
    assert claims["cognito:groups"] == ["caseworker"]
    assert claims["aud"] == resources.user_pool_client_id


def test_demo_cases_are_seeded_once(provisioned):
    resources = provisioned[0]
    assert not has_cases(resources)
    assert seed_demo_cases(resources) == len(DEMO_CASES)
    assert has_cases(resources)
    assert seed_demo_cases(resources) == 0
    items = client("dynamodb", resources.endpoint, resources.region).scan(
        TableName=resources.table_name, FilterExpression="SK = :sk", ExpressionAttributeValues={":sk": {"S": "CASE"}},
    )["Items"]
    assert len(items) == len(DEMO_CASES)
    assert {i["createdBy"]["S"] for i in items} == {"alice", "bob"}


def test_snapshot_restores_every_item_into_a_fresh_table(provisioned, tmp_path):
    source = provisioned[0]
    seed_demo_cases(source)
    dynamodb = client("dynamodb", source.endpoint, source.region)
    dynamodb.put_item(TableName=source.table_name, Item={
        "PK": {"S": "SNAPSHOT#binary"}, "SK": {"S": "X"}, "blob": {"B": b"\x00\xff"},
        "nested": {"M": {"list": {"L": [{"B": b"\x01"}, {"N": "7"}]}}}, "set": {"BS": [b"a", b"b"]},
    })
    path = tmp_path / "snapshot" / "dynamodb.json"
    table = lambda name: moto_table(ACCOUNT, source.region, name)  # noqa: E731 (the embedded moto's tables)
    saved = dump_table(table(source.table_name), path)
    assert saved > len(DEMO_CASES)

    target = provision(source.endpoint, table_name=f"{NAME}-restored", bucket_name=NAME, pool_name=NAME)
    assert restore_table(table(target.table_name), path) == 0  # the snapshot holds only its own table
    path.write_text(path.read_text().replace(f'"{NAME}"', f'"{target.table_name}"'))
    assert restore_table(table(target.table_name), path) == saved

    def items(table: str) -> list[dict[str, Any]]:
        found = dynamodb.scan(TableName=table, ConsistentRead=True)["Items"]
        for item in found:  # a set has no order
            if "set" in item:
                item["set"]["BS"].sort()
        return sorted(found, key=lambda i: (i["PK"]["S"], i["SK"]["S"]))

    assert items(target.table_name) == items(source.table_name)
    assert has_cases(target)


def test_snapshot_restores_objects_with_their_content_type_and_time_of_writing(provisioned, tmp_path):
    s3 = client("s3", provisioned[0].endpoint, provisioned[0].region)
    source, target = f"{NAME}-rows", f"{NAME}-rows-restored"
    for bucket in (source, target):
        s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=source, Key="cases/v1/dt=2026-12-06/a.json", Body=b'{"row": 1}\n',
                  ContentType="application/x-ndjson")
    s3.put_object(Bucket=source, Key="other/b.json", Body=b"{}")
    path = tmp_path / "rows.json"
    assert dump_objects(moto_s3(ACCOUNT).get_bucket(source), "cases/v1/", path) == 1
    assert restore_objects(moto_s3(ACCOUNT), target, path) == 1

    before = s3.head_object(Bucket=source, Key="cases/v1/dt=2026-12-06/a.json")
    after = s3.head_object(Bucket=target, Key="cases/v1/dt=2026-12-06/a.json")
    assert (after["ContentType"], after["LastModified"]) == (before["ContentType"], before["LastModified"])
    assert s3.get_object(Bucket=target, Key="cases/v1/dt=2026-12-06/a.json")["Body"].read() == b'{"row": 1}\n'
    assert s3.list_objects_v2(Bucket=target)["KeyCount"] == 1
