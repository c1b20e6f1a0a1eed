"""The Lambda side of the local AWS: one moto function per Chalice handler that runs as its own Lambda,
so Step Functions and event sources can address it by ARN, and the DynamoDB stream mappings. The code
behind them runs in-process through local/lambdas.py."""
from __future__ import annotations

import io
import json
import logging
import threading
import time
import zipfile
from typing import Any, Callable, Iterable, Mapping
from urllib.parse import unquote_plus

from .lambdas import LambdaDispatcher, stream_sources

LAMBDA_ROLE = "cms-local-lambda"
STATES_ROLE = "cms-local-states"
RUNTIME = "python3.11"
DEFAULT_TIMEOUT = 60  # Chalice's default lambda_timeout
DEFAULT_MEMORY = 128  # Chalice's default lambda_memory_size
UPLOAD_FUNCTION = "on_document_uploaded"  # the app's handler of the documents bucket's notification
UPLOAD_PREFIX = "cases/"

log = logging.getLogger("local.functions")


def service_role(iam: Any, name: str, service: str) -> str:
    """The ARN of a role `service` (e.g. "lambda.amazonaws.com") may assume; created once."""
    try:
        return str(iam.get_role(RoleName=name)["Role"]["Arn"])
    except iam.exceptions.NoSuchEntityException:
        trust = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"},
        ]}
        return str(iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"])


def register_functions(
    lam: Any,
    iam: Any,
    names: Iterable[str],
    settings: Mapping[str, tuple[int, int]] | None = None,
) -> dict[str, str]:
    """Create (or find) a moto function per handler name; `settings` maps a name to (timeout s, memory MB),
    which the dispatcher passes on in the LambdaContext. Returns {name: function ARN}."""
    role = service_role(iam, LAMBDA_ROLE, "lambda.amazonaws.com")
    arns: dict[str, str] = {}
    for name in names:
        timeout, memory = (settings or {}).get(name, (DEFAULT_TIMEOUT, DEFAULT_MEMORY))
        try:
            arns[name] = str(lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"])
            lam.update_function_configuration(FunctionName=name, Timeout=timeout, MemorySize=memory)
        except lam.exceptions.ResourceNotFoundException:
            arns[name] = str(lam.create_function(
                FunctionName=name, Runtime=RUNTIME, Role=role, Handler=f"app.{name}",
                Code={"ZipFile": _placeholder_zip()}, Timeout=timeout, MemorySize=memory,
            )["FunctionArn"])
    return arns


def map_streams(
    lam: Any,
    dynamodb: Any,
    streams: Any,
    app: Any,
    dispatcher: LambdaDispatcher,
    default_table: str,
) -> dict[str, str]:
    """Map each `@app.on_dynamodb_record` handler to its table's real stream, starting at LATEST.

    The decorator's ARN is a placeholder locally (the real one exists only once the table does): a
    placeholder, or an ARN of a table this endpoint lacks, means `default_table`. moto ignores
    StartingPosition and would deliver every record since the table was created (a restored snapshot
    included) with the first write, so the records already in the shard are marked as handled.
    Returns {function name: stream ARN}."""
    mapped: dict[str, str] = {}
    for source in stream_sources(app):
        table = _table_of(source.stream_arn, dynamodb) or default_table
        stream_arn = str(dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"])
        existing = lam.list_event_source_mappings(FunctionName=source.name, EventSourceArn=stream_arn)
        if not existing["EventSourceMappings"]:
            dispatcher.skip_records(source.name, _event_ids(streams, stream_arn))
            lam.create_event_source_mapping(
                FunctionName=source.name, EventSourceArn=stream_arn, StartingPosition="LATEST",
                BatchSize=source.batch_size, Enabled=True,
            )
        mapped[source.name] = stream_arn
    return mapped


def _table_of(stream_arn: str, dynamodb: Any) -> str | None:
    # arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<label>
    parts = stream_arn.split(":", 5)[-1].split("/") if stream_arn.startswith("arn:") else []
    if len(parts) < 2 or parts[0] != "table":
        return None
    try:
        dynamodb.describe_table(TableName=parts[1])
    except dynamodb.exceptions.ResourceNotFoundException:
        log.warning("stream ARN %s names no local table; using the default table", stream_arn)
        return None
    return parts[1]


def _event_ids(streams: Any, stream_arn: str) -> list[str]:
    ids: list[str] = []
    for shard in streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON",
        )["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            if not page["Records"]:
                break  # moto's shard never closes: an empty page is its end
            ids.extend(record["eventID"] for record in page["Records"])
            iterator = page.get("NextShardIterator")
    return ids


def _placeholder_zip() -> bytes:
    """moto wants a deployment package; the code that runs is the app's, in this process."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "# runs in-process: see local/lambdas.py\n")
    return buffer.getvalue()


def notify_uploads(s3: Any, bucket: str, function_arn: str) -> None:
    """The bucket's notification, as the merged template declares it on AWS: every object created under
    `cases/` invokes the upload function."""
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "LambdaFunctionConfigurations": [{
            "Id": "document-uploads", "LambdaFunctionArn": function_arn, "Events": ["s3:ObjectCreated:*"],
            "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": UPLOAD_PREFIX}]}},
        }],
    })


def s3_version_filler(s3: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """moto's S3 notifications carry neither `versionId` nor `sequencer` (AWS's do). moto delivers them inside
    the upload request, right after the write, so the key's current version is the one just written: take
    it from head_object (list_object_versions when its ETag is not the event's, i.e. another upload got in
    between), and number it with a sequencer that grows with every upload in this process and, being a
    clock, across restarts too (the table outlives moto's S3)."""
    lock = threading.Lock()
    last = [0]

    def sequencer() -> str:
        with lock:
            last[0] = max(last[0] + 1, time.time_ns())
            return f"{last[0]:020X}"

    def version_of(bucket: str, key: str, etag: str | None) -> str | None:
        head = s3.head_object(Bucket=bucket, Key=key)
        if etag is None or head.get("ETag", "").strip('"') == etag:
            return head.get("VersionId")
        versions = s3.list_object_versions(Bucket=bucket, Prefix=key).get("Versions", [])
        matching = [v for v in versions if v["Key"] == key and v.get("ETag", "").strip('"') == etag]
        return matching[0]["VersionId"] if matching else head.get("VersionId")  # newest first

    def fill(event: dict[str, Any]) -> dict[str, Any]:
        for record in event.get("Records") or []:
            obj = (record.get("s3") or {}).get("object") or {}
            if record.get("eventSource") != "aws:s3" or obj.get("versionId") or "key" not in obj:
                continue
            bucket = record["s3"]["bucket"]["name"]
            version_id = version_of(bucket, unquote_plus(obj["key"]), obj.get("eTag"))
            if version_id and version_id != "null":
                obj["versionId"] = version_id
            obj.setdefault("sequencer", sequencer())
        return event

    return fill
