"""The template `make package` builds, read as CloudFormation would: the facts cfn-lint and checkov cannot know
because they come from the project (the code's environment, the table schema, the ASL files, the roles)."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from app import app
from chalicelib.adapters.catalog import descriptor_from_glue_table
from chalicelib.adapters.dynamo.models import table_models
from chalicelib.services.case_data_product import descriptor_for
from local.demo import ROLES
from local.functions import UPLOAD_PREFIX
from local.lambdas import lambda_function_names

ROOT = Path(__file__).resolve().parents[2]

DOCUMENTS_BUCKET_NAME = {"Fn::Sub": "cms-${Stage}-documents-${AWS::AccountId}-${AWS::Region}"}
# What chalicelib/settings.py reads on AWS, and the resource each must name.
ENVIRONMENT = {
    "TABLE_NAME": {"Ref": "CasesTable"},
    "BUCKET_NAME": DOCUMENTS_BUCKET_NAME,
    "CASE_WORKFLOW_ARN": {"Ref": "CaseWorkflow"},
    "DOCUMENT_WORKFLOW_ARN": {"Ref": "DocumentWorkflow"},
    "COGNITO_USER_POOL_ID": {"Ref": "UserPool"},
    "COGNITO_CLIENT_ID": {"Ref": "UserPoolClient"},
    "DATA_PRODUCT_BUCKET": {"Ref": "DataProductBucket"},
    "DATA_CATALOG_DATABASE": {"Ref": "DataCatalog"},
    "PSEUDONYM_KEY_SECRET_ARN": {"Ref": "PseudonymKeySecret"},
}


@pytest.fixture(scope="module")
def template(build: Path) -> dict[str, Any]:
    assert (build / "deployment.zip").stat().st_size > 0
    return yaml.safe_load((build / "sam.yaml").read_text())


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return resources(template, "AWS::Serverless::Function")


def test_every_chalice_function_is_in_the_template_under_its_stage_name(template):
    named = {f["Properties"]["FunctionName"]["Fn::Sub"] for f in functions(template).values()}
    assert named == {f"cms-${{Stage}}-{name}" for name in ["api_handler", *lambda_function_names(app)]}


def test_every_function_logs_to_its_own_log_group_with_retention_and_has_error_and_throttle_alarms(template):
    res = template["Resources"]
    for logical_id, function in functions(template).items():
        group = res[function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]]
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
        assert group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": ["DataKey", "Arn"]}
        name = function["Properties"]["FunctionName"]["Fn::Sub"]
        assert group["Properties"]["LogGroupName"] == {"Fn::Sub": f"/aws/lambda/{name}"}
        for metric in ("Errors", "Throttles"):
            alarm = res[f"{logical_id}{metric}Alarm"]["Properties"]
            assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": logical_id}}]
            assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]
        assert function["Properties"]["Tracing"] == "Active"


def test_every_function_reads_the_stacks_own_resources_and_no_stage_config_overrides_them(template):
    shared = template["Globals"]["Function"]["Environment"]["Variables"]
    for variable, value in ENVIRONMENT.items():
        assert shared[variable] == value, variable
    for logical_id, function in functions(template).items():
        own = function["Properties"].get("Environment", {}).get("Variables", {})
        assert not set(own) & set(ENVIRONMENT), f"{logical_id} overrides {set(own) & set(ENVIRONMENT)}"
        assert own["AUTH_MODE"] == "apigateway"  # API Gateway's Cognito authorizer checks tokens on AWS
    assert shared["REDIS_URL"]["Fn::Sub"].startswith("rediss://${CacheReplicationGroup.PrimaryEndPoint.Address}")


def test_the_authorizer_trusts_the_stacks_user_pool_and_its_groups_are_the_apps_roles(template):
    body = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    authorizer = body["securityDefinitions"]["cognito"]["x-amazon-apigateway-authorizer"]
    assert authorizer["providerARNs"] == [{"Fn::GetAtt": ["UserPool", "Arn"]}]
    groups = {g["Properties"]["GroupName"] for g in resources(template, "AWS::Cognito::UserPoolGroup").values()}
    assert groups == set(ROLES)


def test_the_table_matches_the_pynamodb_models(template):
    table = template["Resources"]["CasesTable"]["Properties"]
    schema = table_models("t", "us-east-1").case._get_schema()
    assert sorted(table["KeySchema"], key=str) == sorted(schema["key_schema"], key=str)
    assert sorted(table["AttributeDefinitions"], key=str) == sorted(schema["attribute_definitions"], key=str)
    deployed = {i["IndexName"]: (sorted(i["KeySchema"], key=str), i["Projection"])
                for i in table["GlobalSecondaryIndexes"]}
    modelled = {i["index_name"]: (sorted(i["key_schema"], key=str), i["projection"])
                for i in schema["global_secondary_indexes"]}
    assert deployed == modelled
    assert table["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expiresAt", "Enabled": True}
    assert table["DeletionProtectionEnabled"] is True
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["SSESpecification"]["KMSMasterKeyId"] == {"Ref": "DataKey"}


def test_every_stream_handler_reads_the_tables_stream_and_reports_partial_batch_failures(template):
    handlers = {source.name for source in app.event_sources if type(source).__name__ == "DynamoDBEventConfig"}
    found = set()
    for function in functions(template).values():
        for event in function["Properties"].get("Events", {}).values():
            if event["Type"] != "DynamoDB":
                continue
            found.add(function["Properties"]["FunctionName"]["Fn::Sub"].split("-")[-1])
            assert event["Properties"]["Stream"] == {"Fn::GetAtt": ["CasesTable", "StreamArn"]}
            # The handlers return batchItemFailures: without this, Lambda would ignore them and retry whole batches.
            assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
            assert event["Properties"]["DestinationConfig"]["OnFailure"]["Destination"] == {
                "Fn::GetAtt": ["EventDeadLetterQueue", "Arn"]}
    assert found == handlers and {"on_case_stream", "publish_case_data"} <= found


def test_the_case_data_product_is_registered_in_the_catalog_as_the_code_reads_it(template):
    table = template["Resources"]["CaseDataProductTable"]["Properties"]
    assert table["DatabaseName"] == {"Ref": "DataCatalog"}
    location = table["TableInput"]["StorageDescriptor"]["Location"]
    assert location == {"Fn::Sub": "s3://${DataProductBucket}/cases/v1/"}
    read_back = descriptor_from_glue_table(_substituted(table["TableInput"], {"DataProductBucket": "bucket"}))
    expected = descriptor_for("bucket")
    assert (read_back.id, read_back.output_ports, read_back.freshness_sla_seconds) == (
        expected.id, expected.output_ports, expected.freshness_sla_seconds)
    assert [f.name for f in read_back.schema_fields] == [f.name for f in expected.schema_fields]
    assert table["TableInput"]["PartitionKeys"][0]["Name"] == "dt"  # Athena reads the dt=YYYY-MM-DD folders


def test_the_documents_bucket_keeps_evidence_and_calls_the_upload_function_for_uploads_only(template):
    res = template["Resources"]
    bucket = res["DocumentsBucket"]["Properties"]
    assert bucket["BucketName"] == DOCUMENTS_BUCKET_NAME
    assert bucket["ObjectLockEnabled"] is True
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    [encryption] = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert res["DocumentsBucket"]["DeletionPolicy"] == "Retain"
    [notification] = bucket["NotificationConfiguration"]["LambdaConfigurations"]
    assert notification["Function"] == {"Fn::GetAtt": ["OnDocumentUploaded", "Arn"]}
    assert notification["Filter"]["S3Key"]["Rules"] == [{"Name": "prefix", "Value": UPLOAD_PREFIX}]
    permission = res["DocumentUploadPermission"]["Properties"]
    assert permission["SourceArn"] == {
        "Fn::Sub": ["arn:${AWS::Partition}:s3:::${Name}", {"Name": DOCUMENTS_BUCKET_NAME}]}
    assert "DocumentUploadPermission" in _as_list(res["DocumentsBucket"]["DependsOn"])
    [deny] = res["DocumentsBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert deny["Resource"] == [{"Fn::GetAtt": ["DocumentsBucket", "Arn"]}, {"Fn::Sub": "${DocumentsBucket.Arn}/*"}]


def test_every_bucket_denies_plain_http_and_blocks_public_access(template):
    res = template["Resources"]
    policies = {p["Properties"]["Bucket"]["Ref"]: p["Properties"]["PolicyDocument"]
                for p in resources(template, "AWS::S3::BucketPolicy").values()}
    for name, bucket in resources(template, "AWS::S3::Bucket").items():
        assert all(bucket["Properties"]["PublicAccessBlockConfiguration"].values()), name
        denies = [s for s in policies[name]["Statement"] if s["Effect"] == "Deny"]
        assert any(s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}} for s in denies), name
    assert res["CasesTable"]["DeletionPolicy"] == res["DataKey"]["DeletionPolicy"] == "Retain"


@pytest.mark.parametrize("logical_id", ["CaseWorkflow", "DocumentWorkflow"])
def test_state_machines_run_the_projects_asl_with_every_placeholder_filled_traced_and_logged(template, logical_id):
    machine = template["Resources"][logical_id]
    asl_file = ROOT / machine["Metadata"]["DefinitionFile"]
    assert machine["Properties"]["Definition"] == json.loads(asl_file.read_text())
    placeholders = set(re.findall(r"\$\{([A-Za-z0-9_]+)\}", asl_file.read_text()))
    assert placeholders and placeholders == set(machine["Properties"]["DefinitionSubstitutions"])
    assert machine["Properties"]["TracingConfiguration"] == {"Enabled": True}
    logging = machine["Properties"]["LoggingConfiguration"]
    assert logging["Level"] == "ALL" and logging["IncludeExecutionData"] is False


def test_the_states_role_invokes_exactly_the_functions_the_workflows_call(template):
    res = template["Resources"]
    called = [
        value for machine in resources(template, "AWS::StepFunctions::StateMachine").values()
        for name, value in machine["Properties"]["DefinitionSubstitutions"].items() if name.endswith("FunctionArn")
    ]
    names = {f["Properties"]["FunctionName"]["Fn::Sub"] for f in functions(template).values()}
    for arn in called:  # each by the name the packaged function really has
        assert arn["Fn::Sub"].rsplit(":function:", 1)[1] in names
    [invoke] = [s for p in res["StatesRole"]["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]
                if s.get("Sid") == "InvokeWorkflowFunctions"]
    assert sorted(invoke["Resource"], key=str) == sorted(called, key=str)


def test_the_processor_task_is_the_container_the_document_workflow_overrides(template):
    res = template["Resources"]
    asl = res["DocumentWorkflow"]["Properties"]["Definition"]
    [override] = asl["States"]["Process"]["Parameters"]["Overrides"]["ContainerOverrides"]
    [container] = res["ProcessorTaskDefinition"]["Properties"]["ContainerDefinitions"]
    assert container["Name"] == override["Name"]
    assert {"Name": "RESULT_TABLE", "Value": {"Ref": "CasesTable"}} in container["Environment"]
    assert container["ReadonlyRootFilesystem"] is True


def test_function_policies_resolve_in_cloudformation_and_never_ref_the_documents_bucket(template):
    """Every `${...}` string of a policy file became Fn::Sub; the bucket is named, not referenced (a Ref would
    make bucket -> notification -> function -> role -> bucket a cycle)."""
    roles = {f["Properties"]["Role"]["Fn::GetAtt"][0] for f in functions(template).values()}
    for role in roles:
        properties = template["Resources"][role]["Properties"]
        assert {"Ref": "LambdaPlatformPolicy"} in properties["ManagedPolicyArns"]
        text = json.dumps(properties["Policies"])
        assert "DocumentsBucket." not in text and "${DocumentsBucket}" not in text
        for string in _raw_strings(properties["Policies"]):
            assert "${" not in string, f"{role}: {string} would reach IAM unresolved"


def _substituted(node: Any, values: dict[str, str]) -> Any:
    """`{"Fn::Sub": "...${Name}..."}` resolved as CloudFormation would, with `values` for the names."""
    if isinstance(node, dict):
        if set(node) == {"Fn::Sub"} and isinstance(node["Fn::Sub"], str):
            text = re.sub(r"\$\{([A-Za-z0-9_.:]+)\}", lambda m: values[m.group(1)], node["Fn::Sub"])
            return text.replace("${!", "${")  # Fn::Sub's escape for a literal ${
        return {key: _substituted(value, values) for key, value in node.items()}
    if isinstance(node, list):
        return [_substituted(item, values) for item in node]
    return node


def _raw_strings(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, list):
        return [s for item in node for s in _raw_strings(item)]
    if isinstance(node, dict):
        if "Fn::Sub" in node:
            return []
        return [s for value in node.values() for s in _raw_strings(value)]
    return []


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_the_dashboard_shows_the_business_metrics_the_code_emits(template):
    from chalicelib import metrics

    body = template["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"][0]
    [widget] = [w for w in json.loads(body.replace("${", "{"))["widgets"]
                if w["properties"]["metrics"][0][0] == metrics.NAMESPACE]
    shown = {row[1] for row in widget["properties"]["metrics"]}
    emitted = {value for name, value in vars(metrics).items()
               if name.isupper() and name not in ("NAMESPACE", "SERVICE")}
    assert shown == emitted - {metrics.COMPENSATION_PAID_AMOUNT}  # an amount in mixed currencies: not summed here
    assert widget["properties"]["metrics"][0][2:] == ["service", metrics.SERVICE]


def test_cloudfront_sends_the_api_its_callers_tokens_and_keeps_the_console_private(template):
    res = template["Resources"]
    config = res["Distribution"]["Properties"]["DistributionConfig"]
    [api] = [b for b in config["CacheBehaviors"] if b["PathPattern"] == "/api/*"]
    origin = {o["Id"]: o for o in config["Origins"]}[api["TargetOriginId"]]
    _, _, default_endpoint = origin["DomainName"]["Fn::If"]  # [HasApiDomain, the API's domain, the default]
    assert default_endpoint["Fn::Sub"].startswith("${RestAPI}.execute-api.")
    assert template["Resources"]["RestAPI"]["Properties"]["StageName"] == "api"  # /api/cases -> the stage's /cases
    policy = res[api["CachePolicyId"]["Ref"]]["Properties"]["CachePolicyConfig"]
    assert policy["ParametersInCacheKeyAndForwardedToOrigin"]["HeadersConfig"]["Headers"] == ["Authorization"]
    assert policy["DefaultTTL"] == 0 and policy["MaxTTL"] <= 1
    console = {o["Id"]: o for o in config["Origins"]}[config["DefaultCacheBehavior"]["TargetOriginId"]]
    assert console["OriginAccessControlId"] == {"Fn::GetAtt": ["ConsoleOriginAccessControl", "Id"]}


def test_the_console_gets_the_local_servers_content_security_policy_from_cloudfront(template):
    """Issue 12 item 16: the directives of local/console.py's policy, with the deployment's origins."""
    from local.console import content_security_policy

    res = template["Resources"]
    config = res["Distribution"]["Properties"]["DistributionConfig"]
    policy_id = config["DefaultCacheBehavior"]["ResponseHeadersPolicyId"]
    headers = res[policy_id["Ref"]]["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    deployed = _directives(headers["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"])
    local = _directives(content_security_policy(
        {"apiBaseUrl": "/api", "cognitoEndpoint": "https://cognito-idp.${AWS::Region}.amazonaws.com/"}))
    assert headers["ContentSecurityPolicy"]["Override"] is True
    assert deployed.keys() == local.keys()
    assert all(deployed[name] == local[name] for name in local if name != "connect-src")
    bucket = DOCUMENTS_BUCKET_NAME["Fn::Sub"]
    assert deployed["connect-src"] == local["connect-src"] + [
        f"https://{bucket}.s3.amazonaws.com", f"https://{bucket}.s3.${{AWS::Region}}.amazonaws.com"]
    assert headers["FrameOptions"]["FrameOption"] == "DENY" and headers["StrictTransportSecurity"]["Override"]


def _directives(policy: str) -> dict[str, list[str]]:
    return {name: values for name, *values in (part.split() for part in policy.split(";") if part.strip())}


def test_web_acls_guard_cloudfront_and_the_api_which_answers_only_cloudfront(template):
    """Issue 12 item 13: managed rules and a rate rule on both; the API refuses what lacks CloudFront's header,
    and its default endpoint is disabled once it has a domain of its own."""
    res = template["Resources"]
    edge, api = res["EdgeWebAcl"]["Properties"], res["ApiWebAcl"]["Properties"]
    assert (edge["Scope"], api["Scope"]) == ("CLOUDFRONT", "REGIONAL")
    managed = lambda acl: {r["Statement"]["ManagedRuleGroupStatement"]["Name"] for r in acl["Rules"]  # noqa: E731
                           if "ManagedRuleGroupStatement" in r["Statement"]}
    assert {"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"} <= managed(edge) & managed(api)
    for acl in (edge, api):
        [rate] = [r for r in acl["Rules"] if "RateBasedStatement" in r["Statement"]]
        assert rate["Statement"]["RateBasedStatement"]["Limit"] == {"Ref": "WafRateLimit"}
        assert "Block" in rate["Action"]
    config = res["Distribution"]["Properties"]["DistributionConfig"]
    edge_acl = {"Fn::GetAtt": ["EdgeWebAcl", "Arn"]}
    assert config["WebACLId"] == {"Fn::If": ["InUsEast1", edge_acl, {"Ref": "AWS::NoValue"}]}
    association = res["ApiWebAclAssociation"]["Properties"]
    assert association["WebACLArn"] == {"Fn::GetAtt": ["ApiWebAcl", "Arn"]}
    assert "/restapis/${RestAPI}/stages/api" in association["ResourceArn"]["Fn::Sub"]
    [origin] = [o for o in config["Origins"] if o["Id"] == "api"]
    [header] = origin["OriginCustomHeaders"]
    [only_cloudfront] = [r for r in api["Rules"] if r["Name"] == "OnlyThroughCloudFront"]
    match = only_cloudfront["Statement"]["NotStatement"]["Statement"]["ByteMatchStatement"]
    assert match["FieldToMatch"]["SingleHeader"]["Name"] == header["HeaderName"].lower()
    assert match["SearchString"] == header["HeaderValue"]
    assert "OriginVerifySecret" in header["HeaderValue"]["Fn::Sub"]
    assert "Block" in only_cloudfront["Action"] and only_cloudfront["Priority"] == 0
    assert res["RestAPI"]["Properties"]["DisableExecuteApiEndpoint"] == {"Fn::If": ["HasApiDomain", True, False]}
    assert res["ApiDomainMapping"]["Condition"] == "HasApiDomain"


def test_users_cannot_write_their_team_attribute(template):
    """Issue 12 item 1: the app client's WriteAttributes leave custom:team out (local/provision.py agrees)."""
    from local.provision import APP_CLIENT_WRITE_ATTRIBUTES

    client = template["Resources"]["UserPoolClient"]["Properties"]
    assert client["WriteAttributes"] == APP_CLIENT_WRITE_ATTRIBUTES
    assert "custom:team" not in client["WriteAttributes"]
    assert client["EnableTokenRevocation"] is True
