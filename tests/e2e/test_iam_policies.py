"""IAM <-> code: every AWS action a function called while the end-to-end tests ran is allowed by that function's
policy file, on that resource; and every action a policy grants was called by its function, unless the
suite cannot exercise it (NOT_EXERCISED, each with the reason).

The local systems of this session record their functions' calls (local/iam_recorder.py, through the
`iam_records` fixture); conftest.py runs this module after every other test.
"""
from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable, Mapping

import pytest

from local.iam_recorder import read_records

ROOT = Path(__file__).resolve().parents[2]
POLICIES = ROOT / ".chalice" / "policies"
E2E = Path(__file__).resolve().parent

# Granted, but no local run can call them: {action: why}. (What the Lambda platform does for every function -
# logs, X-Ray, network interfaces, the stack's key, dead-letter sends - is the deploy template's
# LambdaPlatformPolicy, not a policy file's.)
NOT_EXERCISED = {
    "dynamodb:DescribeStream": "Lambda's event source mapping reads the table's stream with the stream handlers' "
                               "roles; locally moto delivers the records itself",
    "dynamodb:GetRecords": "as dynamodb:DescribeStream",
    "dynamodb:GetShardIterator": "as dynamodb:DescribeStream",
    "dynamodb:ListStreams": "as dynamodb:DescribeStream",
}
# Granted to one function for a path the suite cannot stage: {(function, action): why}.
NOT_EXERCISED_BY = {
    ("doc_process_failed", "states:SendTaskSuccess"): "resuming the documents stage from a failed version happens only "
    "when an earlier resume was lost (a failed version never makes the required documents ready by itself)",
    ("doc_process_failed", "dynamodb:DeleteItem"): "as its states:SendTaskSuccess: taking the stage's task token",
    ("api_handler", "glue:GetTables"): "the local system reads the data catalog from a folder (DATA_CATALOG_DIR); "
    "on AWS it is a Glue database (DATA_CATALOG_DATABASE)",
    ("deliver_webhooks", "sqs:ReceiveMessage"): "Lambda's SQS event source mapping takes the queue's messages with "
    "the function's role; locally local/queues.py polls the queue for it",
    ("deliver_webhooks", "sqs:DeleteMessage"): "as its sqs:ReceiveMessage",
    ("deliver_webhooks", "sqs:GetQueueAttributes"): "as its sqs:ReceiveMessage",
    ("publish_case_data", "secretsmanager:GetSecretValue"): "the local stage has its pseudonym key in the "
    "environment (PSEUDONYM_KEY); on AWS it is a secret (PSEUDONYM_KEY_SECRET_ARN)",
}


# Granted for a path a run takes or not, by timing: {(function, action): why}. Neither "never called" nor
# "called after all" is checked for these.
RACE_DEPENDENT = {
    ("doc_process_start", "dynamodb:PutItem"): "marks a version PROCESSING only while it is still PENDING: the "
    "upload handler usually marks it first, right after starting the document workflow",
    ("doc_process_start", "dynamodb:UpdateItem"): "as its dynamodb:PutItem (the case's audit head, same write)",
}


def excused(function: str, action: str) -> bool:
    return action in NOT_EXERCISED or (function, action) in NOT_EXERCISED_BY or (function, action) in RACE_DEPENDENT


def as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def grants(function: str, values: Mapping[str, str | re.Pattern[str]]) -> list[tuple[str, str, re.Pattern[str]]]:
    """(action, resource as written, the ARNs it matches) of every statement of the function's policy."""
    policy = json.loads((POLICIES / f"{function}.json").read_text())
    return [
        (action, resource, arn_pattern(resource, values))
        for statement in policy["Statement"]
        for action in as_list(statement["Action"])
        for resource in as_list(statement["Resource"])
    ]


def arn_pattern(resource: str, values: Mapping[str, str | re.Pattern[str]]) -> re.Pattern[str]:
    """A policy resource with its `${...}` resolved for the local system, as IAM matches it (* and ?).
    A name the local system lacks (e.g. the KMS key) resolves to nothing a call could match."""
    parts = re.split(r"(\$\{[^}]+\})", resource)
    regex = ""
    for part in parts:
        if part.startswith("${"):
            name = part[2:-1]
            value = values.get(name)
            regex += r"(?!)" if value is None else value.pattern if isinstance(value, re.Pattern) else re.escape(value)
        else:
            regex += re.escape(part).replace(r"\*", ".*").replace(r"\?", ".")
    return re.compile(regex + r"\Z")


def local_values(stack: Mapping[str, Any]) -> dict[str, str | re.Pattern[str]]:
    """The merged template's names as the local system spells them."""
    machines = stack["stateMachines"]  # {"case_workflow": ARN, ...}
    region, account = stack["region"], next(iter(machines.values())).split(":")[4]
    table = f"arn:aws:dynamodb:{region}:{account}:table/{stack['tableName']}"
    values: dict[str, str | re.Pattern[str]] = {
        "AWS::Partition": "aws", "AWS::Region": region, "AWS::AccountId": account,
        "CasesTable.Arn": table, "CasesTable.StreamArn": f"{table}/stream/*",
        "DocumentsBucket.Arn": f"arn:aws:s3:::{stack['bucketName']}",
        "DataProductBucket.Arn": f"arn:aws:s3:::{stack['dataProductBucket']}",
        "EventBus.Arn": f"arn:aws:events:{region}:{account}:event-bus/{stack['eventBusName']}",
        "WebhookQueue.Arn": f"arn:aws:sqs:{region}:{account}:{stack['webhookQueueUrl'].rsplit('/', 1)[-1]}",
        "WebhookDeadLetterQueue.Arn":
            f"arn:aws:sqs:{region}:{account}:{stack['webhookDeadLetterUrl'].rsplit('/', 1)[-1]}",
        "MeshDatasetsBucket": stack["mesh"]["accountsDataset"].split("/")[2],  # s3://<bucket>/<key>
        # every local system of the session has a pool of its own (moto's pool ids are random)
        "UserPool.Arn": re.compile(re.escape(f"arn:aws:cognito-idp:{region}:{account}:userpool/{region}_") + r"\w+"),
        "NotificationSender": stack["notificationSender"],
    }
    for stem, arn in machines.items():
        logical_id = "".join(part.capitalize() for part in stem.split("_"))  # case_workflow -> CaseWorkflow
        values[logical_id] = arn
        values[f"{logical_id}.Name"] = arn.rsplit(":", 1)[-1]
    return values


def by_function(records: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        grouped[record["function"]].append(record)
    return grouped


def whole_suite_ran(session: pytest.Session) -> bool:
    ran = {Path(str(item.fspath)).resolve() for item in session.items}
    return all(path.resolve() in ran for path in E2E.glob("test_*.py"))


@pytest.fixture(scope="module")
def recorded(iam_records: Path, local_stack: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    records = by_function(read_records(iam_records))
    if not records:
        pytest.skip("no end-to-end test called AWS in this session: run the e2e tests with this module")
    return records


def test_every_call_is_allowed_by_its_functions_policy(
    recorded: dict[str, list[dict[str, Any]]], local_stack: dict[str, Any],
) -> None:
    values = local_values(local_stack)
    missing = []
    for function, records in sorted(recorded.items()):
        allowed = grants(function, values) if (POLICIES / f"{function}.json").is_file() else []
        for record in records:
            if not any(action == record["action"] and arns.match(record["resource"]) for action, _, arns in allowed):
                missing.append(f"{function}: {record['action']} on {record['resource']} ({record['operation']})")
    assert not missing, ("called but not allowed by .chalice/policies/<function>.json:\n"
                         + "\n".join(sorted(set(missing))))


def test_every_grant_is_called_or_cannot_be_here(
    recorded: dict[str, list[dict[str, Any]]], local_stack: dict[str, Any], request: pytest.FixtureRequest,
) -> None:
    if not whole_suite_ran(request.session):
        pytest.skip("only a whole e2e run calls everything a policy may grant")
    values = local_values(local_stack)
    unused = []
    for path in sorted(POLICIES.glob("*.json")):
        function = path.stem
        calls = recorded.get(function, [])
        for action, resource, arns in grants(function, values):
            if excused(function, action):
                continue
            if not any(call["action"] == action and arns.match(call["resource"]) for call in calls):
                unused.append(f"{function}: {action} on {resource}")
    assert not unused, ("granted but never called during the e2e tests (remove it, or exercise it):\n"
                        + "\n".join(unused))


def test_nothing_is_excused_that_the_suite_calls(recorded: dict[str, list[dict[str, Any]]]) -> None:
    called = {(function, record["action"]) for function, records in recorded.items() for record in records}
    assert not {action for _, action in called} & set(NOT_EXERCISED), \
        "called locally after all: take it off NOT_EXERCISED"
    assert not called & set(NOT_EXERCISED_BY), "called locally after all: take it off NOT_EXERCISED_BY"
