"""Calls served in-process by local/inprocess_aws.py get what the same calls get over HTTP from the same moto
server: the same results, errors and headers, moto sees the same environ, and other hosts are left alone."""
from __future__ import annotations

import io
import itertools
import json
import threading
import urllib.request
from contextlib import contextmanager
from typing import Any, Callable, Iterator

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer

from local.inprocess_aws import ENV_VAR, SOURCE_PINS, InProcessAWS, changed_sources, install_for
from local.moto_atomic import SerialisedDynamoDB, serialise_dynamodb

REGION = "us-east-1"
KEYS = ["plain.txt", "with space.txt", "unicodé ü/ñame.txt", "a+b.txt", "a%2Fb.txt", "100%.txt", "?&=#;.txt"]
BINARY = bytes(range(256)) * 5
MACHINE = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "Result": {"ok": True}, "End": True}}}
# Differ from one call to the next: ids, times, signatures (compared by their presence only).
VOLATILE_HEADERS = {"date", "x-amzn-requestid", "x-amz-request-id", "x-amz-id-2", "last-modified"}
VOLATILE_ENVIRON = {"HTTP_AUTHORIZATION", "HTTP_X_AMZ_DATE", "HTTP_AMZ_SDK_INVOCATION_ID", "REMOTE_PORT",
                    "werkzeug.socket", "wsgi.input", "moto.preserved_header_names"}


class Recording:
    """A WSGI layer in front of moto's app: what each request's environ held, and on which thread it ran."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self.environs: list[dict[str, Any]] = []
        self.threads: list[int] = []

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        seen = {k: v for k, v in environ.items() if k not in VOLATILE_ENVIRON}
        seen.update(body=body, preserved=dict(environ.get("moto.preserved_header_names") or {}))
        self.environs.append(seen)
        self.threads.append(threading.get_ident())
        return self.app(environ, start_response)


@pytest.fixture(scope="module")
def server(moto_endpoint: str) -> Iterator[Any]:
    """A moto server of its own (as the local system's: DynamoDB serialised), with Step Functions executing."""
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    serialise_dynamodb(moto)
    request = urllib.request.Request(
        f"{moto_endpoint}/moto-api/config", method="POST", headers={"Content-Type": "application/json"},
        data=json.dumps({"stepfunctions": {"execute_state_machine": True}}).encode(),
    )
    urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request).read()
    try:
        yield moto._server
    finally:
        moto.stop()


@pytest.fixture
def recording(server: Any) -> Iterator[Recording]:
    wrapper = Recording(server.app)
    server.app = wrapper
    try:
        yield wrapper
    finally:
        server.app = wrapper.app


def endpoint(server: Any) -> str:
    host, port = server.server_address[:2]
    return f"http://{host}:{port}"


@contextmanager
def clients(server: Any, in_process: bool) -> Iterator[Callable[[str], Any]]:
    """Clients of one session, with the in-process handler installed meanwhile (or not), and a check that moto
    answered each of their calls on this thread (in-process) or never on it (over HTTP)."""
    handler = InProcessAWS(server).install() if in_process else None
    session = boto3.session.Session(region_name=REGION)
    recording = server.app = Recording(server.app)
    try:
        yield lambda service: session.client(service, endpoint_url=endpoint(server))
    finally:
        server.app = recording.app
        if handler is not None:
            handler.uninstall()
    here = threading.get_ident()
    assert recording.threads and all((thread == here) is in_process for thread in recording.threads)


def both(server: Any, scenario: Callable[[Callable[[str], Any], str], list[Any]]) -> tuple[list[Any], list[Any]]:
    """The scenario over HTTP and in-process, each on resources of its own, with the run's name masked."""
    runs = []
    run = next(_runs)
    for tag, in_process in ((f"via-http-{run}", False), (f"via-proc-{run}", True)):  # one length: one Content-Length
        with clients(server, in_process) as aws:
            observed = scenario(aws, tag)
        runs.append(json.loads(json.dumps(observed, default=repr).replace(tag, "<run>")))
    return runs[0], runs[1]


_runs = itertools.count()


def meta(response: dict[str, Any], volatile_length: bool = False) -> dict[str, Any]:
    """Status and headers, volatile values replaced by their presence (the length too when the body holds a
    volatile value: a time's digits vary)."""
    metadata = response["ResponseMetadata"]
    volatile = VOLATILE_HEADERS | ({"content-length"} if volatile_length else set())
    headers = {k: ("<present>" if k in volatile else v) for k, v in metadata["HTTPHeaders"].items()}
    return {"status": metadata["HTTPStatusCode"], "headers": headers}


def result(response: dict[str, Any], *volatile: str) -> dict[str, Any]:
    """The response without its metadata, the named fields replaced by their presence, with `meta`."""
    body = {k: ("<present>" if k in volatile else v) for k, v in response.items() if k != "ResponseMetadata"}
    return {"body": body, **meta(response, volatile_length=bool(volatile))}


def error(call: Callable[[], Any]) -> dict[str, Any]:
    with pytest.raises(ClientError) as raised:
        call()
    response = raised.value.response
    return {"error": response["Error"], "reasons": response.get("CancellationReasons"), **meta(response)}


# -- the same results --------------------------------------------------------------------------------------


def dynamodb_scenario(aws: Callable[[str], Any], tag: str) -> list[Any]:
    db = aws("dynamodb")
    table = f"inproc-{tag}"
    created = db.create_table(
        TableName=table, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": name, "AttributeType": "S"} for name in ("PK", "SK")],
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
    )
    item = {"PK": {"S": "CASE#1"}, "SK": {"S": "META"}, "title": {"S": "ünïcode + spaces"}, "n": {"N": "1"},
            "blob": {"B": BINARY}}
    observed: list[Any] = [created["TableDescription"]["TableStatus"], result(db.put_item(TableName=table, Item=item))]
    observed.append(result(db.get_item(TableName=table, Key={"PK": {"S": "CASE#1"}, "SK": {"S": "META"}})))
    observed.append(result(db.get_item(TableName=table, Key={"PK": {"S": "none"}, "SK": {"S": "none"}})))
    observed.append(result(db.query(
        TableName=table, KeyConditionExpression="PK = :pk", ExpressionAttributeValues={":pk": {"S": "CASE#1"}},
    )))
    observed.append(error(lambda: db.transact_write_items(TransactItems=[
        {"Put": {"TableName": table, "Item": {"PK": {"S": "CASE#2"}, "SK": {"S": "META"}}}},
        {"Update": {"TableName": table, "Key": {"PK": {"S": "CASE#1"}, "SK": {"S": "META"}},
                    "UpdateExpression": "SET n = n + :one", "ConditionExpression": "n = :zero",
                    "ExpressionAttributeValues": {":one": {"N": "1"}, ":zero": {"N": "0"}},
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
    ])))
    observed.append(error(lambda: db.get_item(TableName="missing-table", Key={"PK": {"S": "x"}})))
    observed.append(db.scan(TableName=table)["Count"])  # the failed transaction wrote nothing
    return observed


def s3_scenario(aws: Callable[[str], Any], tag: str) -> list[Any]:
    s3 = aws("s3")
    bucket = f"inproc-{tag}"
    observed: list[Any] = [result(s3.create_bucket(Bucket=bucket), "Location")]
    for key in KEYS:
        put = s3.put_object(Bucket=bucket, Key=key, Body=BINARY, Metadata={"my_name": "x", "plain": "y z"})
        got = s3.get_object(Bucket=bucket, Key=key)
        body = got.pop("Body").read()
        observed += [result(put), result(got, "LastModified"), body == BINARY]
        observed.append(result(s3.head_object(Bucket=bucket, Key=key), "LastModified"))
    observed.append(result(s3.put_object(Bucket=bucket, Key="empty", Body=b"")))
    observed.append(s3.get_object(Bucket=bucket, Key="empty")["Body"].read())
    observed.append(result(s3.put_object(Bucket=bucket, Key="from-a-file", Body=io.BytesIO(b"a file's body"))))
    observed.append(s3.get_object(Bucket=bucket, Key="from-a-file", Range="bytes=2-5")["Body"].read())
    listed = s3.list_objects_v2(Bucket=bucket)
    observed.append([(o["Key"], o["Size"], o["ETag"]) for o in listed["Contents"]])
    observed.append(s3.list_objects_v2(Bucket=bucket, Prefix="unicodé ü/", Delimiter="/")["KeyCount"])
    observed.append(error(lambda: s3.get_object(Bucket=bucket, Key="missing key")))
    observed.append(error(lambda: s3.head_object(Bucket=bucket, Key="missing key")))
    observed.append(error(lambda: s3.get_object(Bucket="inproc-missing-bucket", Key="x")))
    for key in KEYS:
        observed.append(result(s3.delete_object(Bucket=bucket, Key=key)))
    observed.append([o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])])
    return observed


def messaging_scenario(aws: Callable[[str], Any], tag: str) -> list[Any]:
    sqs, events, sts = aws("sqs"), aws("events"), aws("sts")
    url = sqs.create_queue(QueueName=f"inproc-{tag}")["QueueUrl"]
    sent = sqs.send_message(QueueUrl=url, MessageBody="ünïcode & <xml> + %2F",
                            MessageAttributes={"kind": {"DataType": "String", "StringValue": "test"}})
    received = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"], WaitTimeSeconds=1)["Messages"]
    bus = events.create_event_bus(Name=f"inproc-{tag}")["EventBusArn"]
    put = events.put_events(Entries=[{"EventBusName": bus, "Source": "cms", "DetailType": "t", "Detail": "{}"}])
    return [
        url.rsplit("/", 1)[-1], result(sent, "MessageId"),
        [(m["Body"], m["MD5OfBody"], m["MessageAttributes"]) for m in received],
        error(lambda: sqs.get_queue_url(QueueName="inproc-missing")),
        put["FailedEntryCount"], len(put["Entries"]), meta(put),
        result(sts.get_caller_identity()),
    ]


def workflow_scenario(aws: Callable[[str], Any], tag: str) -> list[Any]:
    sfn, iam = aws("stepfunctions"), aws("iam")
    role = iam.create_role(RoleName=f"inproc-{tag}", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    machine = sfn.create_state_machine(name=f"inproc-{tag}", definition=json.dumps(MACHINE), roleArn=role)
    arn = machine["stateMachineArn"]
    started = sfn.start_execution(stateMachineArn=arn, name="run-1", input=json.dumps({"in": "ü"}))
    from tests.support import wait_for

    done = wait_for(lambda: (d := sfn.describe_execution(executionArn=started["executionArn"]))["status"] != "RUNNING"
                    and d, "the execution to end")
    return [
        arn, result(started, "startDate"), done["status"], done["input"], done["output"],
        error(lambda: sfn.start_execution(stateMachineArn=arn + "-missing", name="x")),
    ]


def cognito_scenario(aws: Callable[[str], Any], tag: str) -> list[Any]:
    idp = aws("cognito-idp")
    pool = idp.create_user_pool(PoolName=f"inproc-{tag}")["UserPool"]["Id"]
    app = idp.create_user_pool_client(UserPoolId=pool, ClientName="app", ExplicitAuthFlows=["USER_PASSWORD_AUTH"])
    client_id = app["UserPoolClient"]["ClientId"]
    idp.admin_create_user(UserPoolId=pool, Username="ann", MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool, Username="ann", Password="Passw0rd!x", Permanent=True)
    # InitiateAuth is unsigned: moto finds Cognito by the X-Amz-Target header alone
    auth = idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                             AuthParameters={"USERNAME": "ann", "PASSWORD": "Passw0rd!x"})
    return [
        sorted(auth["AuthenticationResult"]), auth["AuthenticationResult"]["TokenType"], meta(auth),
        error(lambda: idp.admin_get_user(UserPoolId=pool, Username="bob")),
        error(lambda: idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                                        AuthParameters={"USERNAME": "ann", "PASSWORD": "wrong"})),
    ]


@pytest.mark.parametrize("scenario", [dynamodb_scenario, s3_scenario, messaging_scenario, workflow_scenario,
                                      cognito_scenario], ids=lambda s: s.__name__)
def test_calls_get_what_they_get_over_http(server: Any, scenario: Callable[..., list[Any]]) -> None:
    over_http, in_process = both(server, scenario)
    for got, expected in zip(in_process, over_http):
        assert got == expected, json.dumps([got, expected])
    assert in_process == over_http


def test_errors_keep_their_codes_messages_and_cancellation_reasons(server: Any) -> None:
    over_http, in_process = both(server, dynamodb_scenario)
    cancelled = in_process[5]
    assert cancelled["error"]["Code"] == "TransactionCanceledException"
    assert [r["Code"] for r in cancelled["reasons"]] == ["None", "ConditionalCheckFailed"]
    assert cancelled["reasons"][1]["Item"]["n"] == {"N": "1"}
    assert cancelled["status"] == 400 and cancelled == over_http[5]


# -- the same environ, on the caller's thread ----------------------------------------------------------------


def test_moto_sees_the_environ_werkzeugs_server_builds(server: Any, recording: Recording) -> None:
    """The same requests (byte for byte, but for their signature and time) over HTTP, then in-process."""
    with clients(server, False) as aws:
        aws("s3").create_bucket(Bucket="inproc-environ")

    def calls(aws: Callable[[str], Any]) -> None:
        s3, db, sqs = aws("s3"), aws("dynamodb"), aws("sqs")
        for key in KEYS:
            s3.put_object(Bucket="inproc-environ", Key=key, Body=b"x", Metadata={"my_name": "a", "my-name": "b"})
            s3.head_object(Bucket="inproc-environ", Key=key)
        s3.list_objects_v2(Bucket="inproc-environ", Prefix="a+", Delimiter="/")
        s3.delete_objects(Bucket="inproc-environ", Delete={"Objects": [{"Key": "a+b.txt"}]})
        s3.put_object(Bucket="inproc-environ", Key="a+b.txt", Body=io.BytesIO(b"from a file"))
        with pytest.raises(ClientError):
            db.get_item(TableName="inproc-no-table", Key={"PK": {"S": "x"}})
        with pytest.raises(ClientError):
            sqs.get_queue_url(QueueName="inproc-no-queue")
        aws("sts").get_caller_identity()

    with clients(server, False) as aws:
        calls(aws)
    over_http = recording.environs[1:]
    recording.environs.clear()
    with clients(server, True) as aws:
        calls(aws)
    assert len(recording.environs) == len(over_http)
    for http_environ, in_process_environ in zip(over_http, recording.environs):
        assert in_process_environ == http_environ


def test_the_app_runs_on_the_callers_thread_and_other_hosts_are_left_alone(
    server: Any, recording: Recording, moto_endpoint: str,
) -> None:
    handler = InProcessAWS(server).install()
    try:
        localhost = endpoint(server).replace("127.0.0.1", "localhost")  # as moto's Step Functions calls it
        boto3.client("sts", endpoint_url=localhost, region_name=REGION).get_caller_identity()
        assert recording.threads == [threading.get_ident()]
        # another moto server (another port) answers over HTTP: this one's app sees nothing of it
        boto3.client("sts", endpoint_url=moto_endpoint, region_name=REGION).get_caller_identity()
        for url in ("https://127.0.0.1:{port}/", "http://127.0.0.1:{other}/", "http://sts.amazonaws.com/",
                    "http://10.0.0.1:{port}/"):
            request = _Request(url.format(port=server.server_address[1], other=moto_endpoint.rsplit(":", 1)[1]))
            assert handler.on_send(request) is None
        assert len(recording.threads) == 1
    finally:
        handler.uninstall()


class _Request:
    """What `before-send` handlers get, as far as the handler reads it."""

    def __init__(self, url: str) -> None:
        self.url, self.method, self.body = url, "POST", b""
        self.headers: dict[str, str] = {}


def test_an_exception_in_moto_is_werkzeugs_500_page(server: Any, caplog: pytest.LogCaptureFixture) -> None:
    def failing(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        raise RuntimeError("boom")

    original, server.app = server.app, failing
    failures = []
    try:
        for in_process in (False, True):
            with clients(server, in_process) as aws, pytest.raises(Exception) as raised:
                aws("dynamodb").list_tables()
            failures.append((type(raised.value), str(raised.value)))
    finally:
        server.app = original
    assert "500" in failures[0][1] and failures[1] == failures[0]
    # logged on each attempt: by werkzeug's server (the traceback in the message), then here (as exc_info)
    logged_by_server = [r for r in caplog.records if "boom" in r.getMessage()]
    logged_here = [r for r in caplog.records if r.exc_info and "boom" in str(r.exc_info[1])]
    assert logged_here and len(logged_here) == len(logged_by_server)


def test_a_dynamodb_call_inside_a_dynamodb_request_fails_instead_of_waiting_forever(
    server: Any, caplog: pytest.LogCaptureFixture,
) -> None:
    """The SerialisedDynamoDB lock is not re-entrant; in-process, a nested call would run on the thread holding it."""
    serialised = server.app
    assert isinstance(serialised, SerialisedDynamoDB)
    inner = serialised._app
    nested: list[dict[str, Any]] = []

    def calls_dynamodb_again(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if not nested:
            with pytest.raises(ClientError) as raised:
                aws("dynamodb").list_tables()
            nested.append(raised.value.response)
        return inner(environ, start_response)

    with clients(server, True) as aws:
        serialised._app = calls_dynamodb_again
        try:
            answered = aws("dynamodb").list_tables()  # the outer request goes on once the nested one failed
        finally:
            serialised._app = inner
    assert nested[0]["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert "while this thread serves one" in caplog.text
    assert answered["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_uninstalled_it_leaves_every_request_to_http(server: Any, recording: Recording) -> None:
    from botocore import handlers

    handler = InProcessAWS(server).install()
    session = boto3.session.Session(region_name=REGION)  # has the handler
    handler.uninstall()
    assert not [spec for spec in handlers.BUILTIN_HANDLERS if spec[1] == handler.on_send]
    session.client("sts", endpoint_url=endpoint(server)).get_caller_identity()
    boto3.session.Session(region_name=REGION).client("sts", endpoint_url=endpoint(server)).get_caller_identity()
    assert threading.get_ident() not in recording.threads and len(recording.threads) == 2


def test_the_switch_or_a_changed_source_keeps_http(server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore import handlers

    monkeypatch.setenv(ENV_VAR, "1")
    assert install_for(server) is None
    monkeypatch.delenv(ENV_VAR)
    monkeypatch.setitem(SOURCE_PINS, "URLLib3Session.send", "another version")
    assert changed_sources() == ["URLLib3Session.send"] and install_for(server) is None
    monkeypatch.undo()
    assert changed_sources() == []
    handler = install_for(server)
    assert handler is not None
    assert [spec for spec in handlers.BUILTIN_HANDLERS if spec[1] == handler.on_send]
    handler.uninstall()
