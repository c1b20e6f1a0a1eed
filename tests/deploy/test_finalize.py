"""deploy/finalize.py on small templates: what it does to a function, a role and a state machine, and the
mistakes it refuses."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "deploy"))
import finalize

BUCKET_NAME = {"Fn::Sub": "cms-${Stage}-documents-${AWS::AccountId}-${AWS::Region}"}


def template(policy: list[dict[str, Any]], events: dict[str, Any] | None = None, **function: Any) -> dict[str, Any]:
    return {"Resources": {
        "DataKey": {"Type": "AWS::KMS::Key", "Properties": {}},
        "LambdaPlatformPolicy": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {}},
        "DocumentsBucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": BUCKET_NAME}},
        "SweepRole": {"Type": "AWS::IAM::Role", "Properties": {"Policies": [
            {"PolicyName": "p", "PolicyDocument": {"Version": "2012-10-17", "Statement": policy}},
        ]}},
        "Sweep": {"Type": "AWS::Serverless::Function", "Properties": {
            "Handler": "app.sweep", "Role": {"Fn::GetAtt": ["SweepRole", "Arn"]},
            **({"Events": events} if events else {}), **function,
        }},
    }}


def allow(action: str, resource: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def test_a_policy_string_names_the_documents_bucket_instead_of_referencing_it():
    done = finalize.finalize(template([allow("s3:GetObjectVersion", "${DocumentsBucket.Arn}/cases/*"),
                                       allow("dynamodb:GetItem", "${CasesTable.Arn}")]))
    [s3, dynamodb] = done["Resources"]["SweepRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    assert s3["Resource"] == {"Fn::Sub": ["arn:${AWS::Partition}:s3:::${DocumentsBucketName}/cases/*",
                                          {"DocumentsBucketName": BUCKET_NAME}]}
    assert dynamodb["Resource"] == {"Fn::Sub": "${CasesTable.Arn}"}


def test_any_other_attribute_of_the_documents_bucket_is_refused():
    with pytest.raises(finalize.FinalizeError, match="DocumentsBucket.DomainName"):
        finalize.finalize(template([allow("s3:GetObject", "${DocumentsBucket.DomainName}")]))


def test_a_function_gets_its_name_log_group_alarms_and_the_platform_policy():
    res = finalize.finalize(template([allow("dynamodb:GetItem", "${CasesTable.Arn}")]))["Resources"]
    assert res["Sweep"]["Properties"]["FunctionName"] == {"Fn::Sub": "cms-${Stage}-sweep"}
    assert res["Sweep"]["Properties"]["LoggingConfig"] == {"LogGroup": {"Ref": "SweepLogGroup"}}
    assert {"SweepErrorsAlarm", "SweepThrottlesAlarm", "SweepLogGroup"} <= set(res)
    assert res["SweepRole"]["Properties"]["ManagedPolicyArns"] == [{"Ref": "LambdaPlatformPolicy"}]


def test_functions_run_in_the_vpc_unless_marked_for_the_internet():
    vpc = {"SecurityGroupIds": [{"Ref": "LambdaSecurityGroup"}], "SubnetIds": [{"Ref": "PrivateSubnetA"}]}
    inside = template([allow("dynamodb:GetItem", "${CasesTable.Arn}")])
    inside["Globals"] = {"Function": {"VpcConfig": vpc, "KmsKeyArn": "k"}}
    done = finalize.finalize(inside)
    assert done["Resources"]["Sweep"]["Properties"]["VpcConfig"] == vpc
    assert done["Globals"]["Function"] == {"KmsKeyArn": "k"}  # SAM would add the globals' subnets to any function
    outside = template([allow("dynamodb:GetItem", "${CasesTable.Arn}")])
    outside["Globals"] = {"Function": {"VpcConfig": vpc}}
    outside["Resources"]["Sweep"]["Metadata"] = {"Network": "internet"}
    assert "VpcConfig" not in finalize.finalize(outside)["Resources"]["Sweep"]["Properties"]


def skipped(resource: dict[str, Any]) -> set[str]:
    return {s["id"] for s in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])}


def test_wildcard_resources_are_excused_only_for_actions_iam_cannot_scope():
    unscopable = finalize.finalize(template([allow(["states:SendTaskSuccess", "xray:PutTraceSegments"], "*")]))
    assert skipped(unscopable["Resources"]["SweepRole"]) == {"CKV_AWS_111", "CKV_AWS_356"}
    scopable = finalize.finalize(template([allow(["states:SendTaskSuccess", "dynamodb:PutItem"], "*")]))
    assert skipped(scopable["Resources"]["SweepRole"]) == set()


def test_an_asynchronously_invoked_function_without_a_dead_letter_queue_is_not_excused():
    schedule = {"Tick": {"Type": "Schedule", "Properties": {"Schedule": "rate(15 minutes)"}}}
    res = finalize.finalize(template([], events=schedule))["Resources"]
    assert skipped(res["Sweep"]) == {"CKV_AWS_115"}  # CKV_AWS_116 (DLQ) still applies and fails checkov
    with_dlq = finalize.finalize(template([], events=schedule, DeadLetterQueue={"Type": "SQS"}))["Resources"]
    assert skipped(with_dlq["Sweep"]) == {"CKV_AWS_115"}  # and passes it


def machine_template(tmp_path: Path, asl: dict[str, Any]) -> dict[str, Any]:
    (tmp_path / "flow.asl.json").write_text(json.dumps(asl))
    base = template([])
    invoke = {"Sid": "InvokeWorkflowFunctions", "Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": []}
    base["Resources"]["StatesRole"] = {"Type": "AWS::IAM::Role", "Properties": {"Policies": [
        {"PolicyName": "p", "PolicyDocument": {"Statement": [invoke]}},
    ]}}
    base["Resources"]["Flow"] = {
        "Type": "AWS::StepFunctions::StateMachine", "Metadata": {"DefinitionFile": "flow.asl.json"},
        "Properties": {"RoleArn": {"Fn::GetAtt": ["StatesRole", "Arn"]}, "DefinitionSubstitutions": {"Cluster": "c"}},
    }
    return base


def test_a_state_machine_gets_its_asl_and_calls_functions_by_their_names(tmp_path):
    asl = {"StartAt": "A", "States": {"A": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "${SweepFunctionArn}", "C": "${Cluster}"}, "End": True,
    }}}
    res = finalize.finalize(machine_template(tmp_path, asl), tmp_path)["Resources"]
    arn = {"Fn::Sub": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:cms-${Stage}-sweep"}
    assert res["Flow"]["Properties"]["Definition"] == asl
    assert res["Flow"]["Properties"]["DefinitionSubstitutions"] == {"Cluster": "c", "SweepFunctionArn": arn}
    assert res["StatesRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"][0]["Resource"] == [arn]
    assert skipped(res["Sweep"]) == {"CKV_AWS_115", "CKV_AWS_116"}  # called synchronously by the workflow


def test_a_placeholder_nothing_fills_is_refused_by_name(tmp_path):
    asl = {"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                                            "Parameters": {"FunctionName": "${SweepsFunctionArn}"}, "End": True}}}
    with pytest.raises(finalize.FinalizeError, match=r"\$\{SweepsFunctionArn\}"):
        finalize.finalize(machine_template(tmp_path, asl), tmp_path)
