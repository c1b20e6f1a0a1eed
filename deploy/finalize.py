"""Completes the CloudFormation template `chalice package --merge-template deploy/template.yml` wrote.

`python deploy/finalize.py build/sam.yaml` rewrites the file in place. For every Chalice function it:
- names it `cms-<Stage>-<handler>` (the state machines call functions by these names, see template.yml);
- puts it in the VPC (Globals' VpcConfig, which SAM could only add to, never take away), unless its
  `Metadata.Network` is `internet` (the webhook delivery function, whose receivers are outside);
- gives it a log group with retention, encrypted with the stack's key, and Errors and Throttles alarms;
- attaches LambdaPlatformPolicy to its role, and turns the `${...}` strings of its policy file into Fn::Sub
  (the documents bucket by its name: its notification calls a function, so a Ref would make a cycle).
For every state machine with a `Metadata.DefinitionFile`, it puts that ASL file in `Definition`, substitutes
each `${<Handler>FunctionArn}` (the local system's convention, local/statemachines.py) and lets StatesRole
invoke exactly those functions. For every Glue table with a `Metadata.TableInputScript`, it writes the
`TableInput` that script builds from the data product's descriptor.
"""
from __future__ import annotations

import copy
import importlib.util
import json
import re
import sys
from pathlib import Path
from typing import Any, Callable, Iterator

import yaml

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from local.statemachines import function_placeholder  # noqa: E402  (the project root must be importable first)

FUNCTION_TYPE = "AWS::Serverless::Function"
FUNCTION_NAME = "cms-${{Stage}}-{handler}"
FUNCTION_ARN = "arn:${{AWS::Partition}}:lambda:${{AWS::Region}}:${{AWS::AccountId}}:function:cms-${{Stage}}-{handler}"
API_HANDLER = "api_handler"  # chalice's name for the function behind the REST API (handler `app.app`)
PLATFORM_POLICY = "LambdaPlatformPolicy"
KEY = "DataKey"
INTERNET = "internet"  # a function's Metadata.Network that keeps it out of the VPC
# Referred to by name in policies: see the dependency rule at the top of template.yml.
BY_NAME = {"DocumentsBucket": "DocumentsBucketName"}
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_.:]+)\}")

# Actions IAM cannot scope to a resource: a statement granting only these on "*" is least privilege.
UNSCOPABLE_ACTIONS = frozenset({
    "states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat",
    "xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets",
    "cloudwatch:PutMetricData", "ecr:GetAuthorizationToken", "dynamodb:ListStreams",
})


class FinalizeError(ValueError):
    """The packaged template and the project disagree (an ASL placeholder nothing fills, a missing resource)."""


def functions(template: dict[str, Any]) -> dict[str, str]:
    """{logical id: chalice handler name} of every function in the template."""
    found = {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] == FUNCTION_TYPE:
            handler = resource["Properties"]["Handler"].split(".", 1)[1]
            found[logical_id] = API_HANDLER if handler == "app" else handler
    return found


def finalize(template: dict[str, Any], project_dir: Path = PROJECT_DIR) -> dict[str, Any]:
    resources = template["Resources"]
    for required in (KEY, PLATFORM_POLICY, *BY_NAME):
        if required not in resources:
            raise FinalizeError(f"the template has no {required}: "
                                "was it packaged with --merge-template deploy/template.yml?")
    by_name = {var: resources[logical]["Properties"]["BucketName"] for logical, var in BY_NAME.items()}
    vpc = template.get("Globals", {}).get("Function", {}).pop("VpcConfig", None)
    for logical_id, handler in functions(template).items():
        function = resources[logical_id]
        function["Properties"]["FunctionName"] = {"Fn::Sub": FUNCTION_NAME.format(handler=handler)}
        if vpc is not None and function.get("Metadata", {}).get("Network") != INTERNET:
            function["Properties"]["VpcConfig"] = copy.deepcopy(vpc)
        _log_group(resources, logical_id, handler)
        _alarms(resources, logical_id, handler)
        role = resources[function["Properties"]["Role"]["Fn::GetAtt"][0]]
        role["Properties"].setdefault("ManagedPolicyArns", []).append({"Ref": PLATFORM_POLICY})
        for policy in role["Properties"].get("Policies", []):
            policy["PolicyDocument"] = _substituted(policy["PolicyDocument"], by_name)
        _skip_unscopable(role)
    called_by_workflows: set[str] = set()
    for logical_id, resource in resources.items():
        if resource["Type"] == "AWS::StepFunctions::StateMachine" and "DefinitionFile" in resource.get("Metadata", {}):
            called_by_workflows |= _state_machine(resources, logical_id, project_dir, functions(template))
    for resource in resources.values():
        if resource["Type"] == "AWS::Glue::Table" and "TableInputScript" in resource.get("Metadata", {}):
            resource["Properties"]["TableInput"] = _glue_table_input(
                project_dir / resource["Metadata"]["TableInputScript"], resource["Properties"]["DatabaseName"]["Ref"],
            )
    for logical_id, handler in functions(template).items():
        _skip_function_checks(resources[logical_id], handler, handler in called_by_workflows)
    return template


def _log_group(resources: dict[str, Any], logical_id: str, handler: str) -> None:
    name = f"{logical_id}LogGroup"
    resources[name] = {
        "Type": "AWS::Logs::LogGroup",
        "Properties": {
            "LogGroupName": {"Fn::Sub": f"/aws/lambda/cms-${{Stage}}-{handler}"},
            "RetentionInDays": {"Ref": "LogRetentionDays"},
            "KmsKeyId": {"Fn::GetAtt": [KEY, "Arn"]},
        },
    }
    # Named here, so Lambda never creates it first (with no retention) and the function waits for it.
    resources[logical_id]["Properties"]["LoggingConfig"] = {"LogGroup": {"Ref": name}}


def _alarms(resources: dict[str, Any], logical_id: str, handler: str) -> None:
    for metric, what in (("Errors", "raised an unhandled error"), ("Throttles", "was throttled")):
        resources[f"{logical_id}{metric}Alarm"] = {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "AlarmDescription": f"Lambda {handler} {what}",
                "Namespace": "AWS/Lambda",
                "MetricName": metric,
                "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": logical_id}}],
                "Statistic": "Sum",
                "Period": 300,
                "EvaluationPeriods": 1,
                "Threshold": 1,
                "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                "TreatMissingData": "notBreaching",
                "AlarmActions": [{"Ref": "AlarmTopic"}],
            },
        }


def _substituted(document: Any, by_name: dict[str, Any]) -> Any:
    """Every string with `${...}` becomes Fn::Sub; `${DocumentsBucket}` / `${DocumentsBucket.Arn}` become the
    bucket's name and ARN built from it, so the policy does not depend on the bucket resource."""

    def rewrite(text: str) -> Any:
        variables = {}
        for logical, var in BY_NAME.items():
            if f"${{{logical}" in text:
                text = text.replace(f"${{{logical}.Arn}}", f"arn:${{AWS::Partition}}:s3:::${{{var}}}")
                text = text.replace(f"${{{logical}}}", f"${{{var}}}")
                variables[var] = by_name[var]
            if f"${{{logical}." in text:
                raise FinalizeError(f"{text}: only ${{{logical}}} and ${{{logical}.Arn}} can be used in a policy")
        return {"Fn::Sub": [text, variables]} if variables else {"Fn::Sub": text}

    return _map_strings(document, lambda s: rewrite(s) if "${" in s else s)


def _map_strings(node: Any, change: Callable[[str], Any]) -> Any:
    if isinstance(node, str):
        return change(node)
    if isinstance(node, list):
        return [_map_strings(item, change) for item in node]
    if isinstance(node, dict):
        if any(key.startswith("Fn::") or key == "Ref" for key in node):
            return node  # already an intrinsic function
        return {key: _map_strings(value, change) for key, value in node.items()}
    return node


def _skip_function_checks(function: dict[str, Any], handler: str, called_by_workflow: bool) -> None:
    """checkov wants reserved concurrency and a dead-letter queue on every function. The reasons not to are
    facts of the template, so they are stated only where they hold; anything else still fails the check."""
    skips = [{
        "id": "CKV_AWS_115",
        "comment": "No reserved concurrency: it is taken from the account's pool (a new account has none to "
                   "reserve); load is bounded upstream by API stage throttling, the stream's shards and Step Functions",
    }]
    polled = [
        event for event in function["Properties"].get("Events", {}).values()
        if event["Type"] in ("DynamoDB", "Kinesis", "SQS") and "DestinationConfig" in event["Properties"]
    ]
    if "DeadLetterQueue" not in function["Properties"]:
        reason = (
            "Invoked synchronously by API Gateway: errors go back to the client" if handler == API_HANDLER else
            "Invoked synchronously by Step Functions (lambda:invoke): the workflow's Retry and Catch handle "
            "failures" if called_by_workflow else
            "Invoked by an event source mapping, whose failed batches go to its OnFailure destination (a DLQ "
            "applies only to asynchronous invocations)"
            if polled and len(polled) == len(function["Properties"]["Events"]) else None
        )
        if reason:
            skips.append({"id": "CKV_AWS_116", "comment": reason})
    function.setdefault("Metadata", {}).setdefault("checkov", {}).setdefault("skip", []).extend(skips)


def _skip_unscopable(role: dict[str, Any]) -> None:
    """A policy file may grant `"Resource": "*"` only for actions IAM cannot scope; then checkov's two
    "no wildcard resource" checks are skipped with that reason, and only then."""
    wildcard_actions = sorted({
        action
        for statement in _statements(role)
        if statement.get("Effect") == "Allow" and statement.get("Resource") in ("*", ["*"])
        for action in _as_list(statement.get("Action"))
    })
    if not wildcard_actions or not set(wildcard_actions) <= UNSCOPABLE_ACTIONS:
        return
    reason = f"Resource * only for actions without resource-level permissions: {', '.join(wildcard_actions)}"
    skips = role.setdefault("Metadata", {}).setdefault("checkov", {}).setdefault("skip", [])
    skips += [{"id": check, "comment": reason} for check in ("CKV_AWS_111", "CKV_AWS_356")]


def _statements(role: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for policy in role["Properties"].get("Policies", []):
        yield from _as_list(policy["PolicyDocument"].get("Statement"))


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def _state_machine(resources: dict[str, Any], logical_id: str, project_dir: Path, handlers: dict[str, str]) -> set[str]:
    """Fills the machine's definition; returns the handler names it calls."""
    machine = resources[logical_id]
    path = project_dir / machine["Metadata"]["DefinitionFile"]
    definition = json.loads(path.read_text())
    substitutions = machine["Properties"].setdefault("DefinitionSubstitutions", {})
    by_placeholder = {function_placeholder(handler): handler for handler in handlers.values()}
    invoked = []
    for name in sorted(set(_placeholders(definition))):
        if name in substitutions:
            continue
        if name not in by_placeholder:
            raise FinalizeError(
                f"{path.name} uses ${{{name}}}, which neither {logical_id}'s DefinitionSubstitutions nor a chalice "
                f"function fills (functions: {', '.join(sorted(by_placeholder))})"
            )
        substitutions[name] = {"Fn::Sub": FUNCTION_ARN.format(handler=by_placeholder[name])}
        invoked.append(copy.deepcopy(substitutions[name]))
    machine["Properties"]["Definition"] = definition
    role = resources[machine["Properties"]["RoleArn"]["Fn::GetAtt"][0]]
    for statement in _statements(role):
        if statement.get("Sid") == "InvokeWorkflowFunctions":
            known = statement["Resource"]
            statement["Resource"] = known + [arn for arn in invoked if arn not in known]
            return {by_placeholder[name] for name in substitutions if name in by_placeholder}
    raise FinalizeError(f"{logical_id}'s role has no InvokeWorkflowFunctions statement for the functions it calls")


def _glue_table_input(script: Path, database_logical_id: str) -> dict[str, Any]:
    """The TableInput the data product's own script builds from its descriptor (the mapping the Glue catalog
    adapter reads back), so the product's columns and partitions are defined once."""
    spec = importlib.util.spec_from_file_location(script.stem, script)
    if spec is None or spec.loader is None:
        raise FinalizeError(f"cannot load {script}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    [resource] = module.glue_table_resource(database_logical_id).values()
    table = resource["Properties"]["TableInput"]
    # CloudFormation's Glue Column has no Parameters (the Glue API does): the column's contract type and
    # nullability stay in the product's schema.json; Glue keeps name, Glue type and description.
    for column in table["StorageDescriptor"]["Columns"]:
        column.pop("Parameters", None)
    return table


def _placeholders(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield from _PLACEHOLDER.findall(node)
    elif isinstance(node, list):
        for item in node:
            yield from _placeholders(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _placeholders(key)
            yield from _placeholders(value)


class _NoAliases(yaml.SafeDumper):
    """CloudFormation rejects YAML aliases; the merge template's anchors are written out in full."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def load(path: Path) -> dict[str, Any]:
    text = path.read_text()
    return json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)


def dump(template: dict[str, Any], path: Path) -> None:
    if path.suffix == ".json":
        path.write_text(json.dumps(template, indent=2) + "\n")
    else:
        path.write_text(yaml.dump(template, Dumper=_NoAliases, sort_keys=False, allow_unicode=True, width=120))


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python deploy/finalize.py build/sam.yaml", file=sys.stderr)
        return 2
    path = Path(argv[1])
    try:
        dump(finalize(load(path)), path)
    except FinalizeError as error:
        print(f"finalize: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
