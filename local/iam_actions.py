"""What IAM authorises for one botocore call: the actions and the resource ARNs it is checked against.

Most operations are authorised by the action of the same name on the service's prefix; the exceptions
below are AWS's (Service Authorization Reference): S3 renames several operations and checks
`...Version` actions when a version is named, and DynamoDB authorises a transaction by the action of
each item in it. A presigned URL or POST is signed here but used by a client later: it is authorised
as the action it grants, with the signer's permissions.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, Mapping

# S3 operations whose IAM action has another name.
_S3_RENAMED = {
    "HeadObject": "GetObject",
    "HeadBucket": "ListBucket",
    "ListObjects": "ListBucket",
    "ListObjectsV2": "ListBucket",
    "ListObjectVersions": "ListBucketVersions",
    "GetObjectLockConfiguration": "GetBucketObjectLockConfiguration",
    "PutObjectLockConfiguration": "PutBucketObjectLockConfiguration",
    "GetBucketNotificationConfiguration": "GetBucketNotification",
    "PutBucketNotificationConfiguration": "PutBucketNotification",
}
# S3 object actions that become their `...Version` action when the request names a version.
_S3_VERSIONED = {
    "GetObject": "GetObjectVersion",
    "DeleteObject": "DeleteObjectVersion",
    "GetObjectTagging": "GetObjectVersionTagging",
    "PutObjectTagging": "PutObjectVersionTagging",
    "GetObjectAcl": "GetObjectVersionAcl",
}
_S3_BUCKET_ACTIONS = {"ListBucket", "ListBucketVersions", "CreateBucket", "DeleteBucket"}
_TRANSACT_WRITE = {
    "Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem",
}
# Step Functions operations on one execution (the rest name the state machine, or nothing: task tokens).
_SFN_EXECUTION = {"DescribeExecution", "GetExecutionHistory", "StopExecution", "RedriveExecution"}


@dataclass(frozen=True, order=True)
class Permission:
    action: str  # "dynamodb:PutItem"
    resource: str  # an ARN, or "*" for actions without resource-level permissions


def permissions(
    prefix: str, operation: str, params: Mapping[str, Any], *, presigned: bool, region: str, account: str,
) -> Iterator[Permission]:
    """The permissions one call needs. `prefix`: the service's signing name (IAM's action prefix)."""
    if prefix == "s3":
        yield from _s3(operation, params, presigned)
    elif prefix == "dynamodb":
        yield from _dynamodb(operation, params, region, account)
    elif prefix == "states":
        yield Permission(f"states:{operation}", _states_resource(operation, params))
    elif prefix == "events" and operation == "PutEvents":  # each entry's bus (the default bus when unnamed)
        for bus in sorted({entry.get("EventBusName") or "default" for entry in params.get("Entries", [])}):
            yield Permission("events:PutEvents", f"arn:aws:events:{region}:{account}:event-bus/{bus}")
    elif prefix == "sqs" and "QueueUrl" in params:  # .../<account>/<queue name>
        yield Permission(f"sqs:{operation}", f"arn:aws:sqs:{region}:{account}:{params['QueueUrl'].rsplit('/', 1)[-1]}")
    elif prefix == "cognito-idp" and "UserPoolId" in params:
        pool = f"arn:aws:cognito-idp:{region}:{account}:userpool/{params['UserPoolId']}"
        yield Permission(f"{prefix}:{operation}", pool)
    elif prefix == "ses" and "Source" in params:  # sending is authorised on the sender's identity
        yield Permission(f"ses:{operation}", f"arn:aws:ses:{region}:{account}:identity/{params['Source']}")
    else:
        yield Permission(f"{prefix}:{operation}", "*")


def _s3(operation: str, params: Mapping[str, Any], presigned: bool) -> Iterator[Permission]:
    bucket = params.get("Bucket", "")
    if presigned and operation == "CreateBucket":
        # botocore builds a presigned POST on CreateBucket's model, without its key: the recorder records
        # the upload (s3:PutObject on bucket/key) where it knows the key.
        return
    action = _S3_RENAMED.get(operation, operation)
    if params.get("VersionId"):
        action = _S3_VERSIONED.get(action, action)
    bucket_level = action in _S3_BUCKET_ACTIONS or action.startswith(("GetBucket", "PutBucket", "DeleteBucket"))
    on_bucket = bucket_level or "Key" not in params
    resource = f"arn:aws:s3:::{bucket}" if on_bucket else f"arn:aws:s3:::{bucket}/{params['Key']}"
    yield Permission(f"s3:{action}", resource)


def _dynamodb(operation: str, params: Mapping[str, Any], region: str, account: str) -> Iterator[Permission]:
    def table(name: str, index: str | None = None) -> str:
        arn = f"arn:aws:dynamodb:{region}:{account}:table/{name}"
        return f"{arn}/index/{index}" if index else arn

    if operation == "TransactWriteItems":
        for item in params.get("TransactItems", []):
            for kind, body in item.items():
                yield Permission(f"dynamodb:{_TRANSACT_WRITE[kind]}", table(body["TableName"]))
    elif operation == "TransactGetItems":
        for item in params.get("TransactItems", []):
            yield Permission("dynamodb:GetItem", table(item["Get"]["TableName"]))
    elif operation in ("BatchGetItem", "BatchWriteItem"):
        for name in params.get("RequestItems", {}):
            yield Permission(f"dynamodb:{operation}", table(name))
    elif "StreamArn" in params:
        yield Permission(f"dynamodb:{operation}", params["StreamArn"])
    elif "TableName" in params:
        yield Permission(f"dynamodb:{operation}", table(params["TableName"], params.get("IndexName")))
    else:
        yield Permission(f"dynamodb:{operation}", "*")


def _states_resource(operation: str, params: Mapping[str, Any]) -> str:
    if operation in _SFN_EXECUTION:
        return str(params.get("executionArn", "*"))
    return str(params.get("stateMachineArn", "*"))
