"""Idempotent provisioning of the local AWS resources against any endpoint (moto or LocalStack).

Every step looks a resource up by name first, so running it again reuses what is there. The
table schema comes from chalicelib's pynamodb models, the single source of truth for it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Optional

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError

from chalicelib.adapters.dynamo.calendars import DynamoCalendarStore
from chalicelib.adapters.dynamo.case_types import DynamoCaseTypeStore
from chalicelib.adapters.dynamo.cases import DynamoCaseRepository
from chalicelib.adapters.dynamo.backfill import backfill_case_lists
from chalicelib.adapters.dynamo.keys import CASE_MONTHS_KEY, MONTHS_SK
from chalicelib.adapters.dynamo.models import create_table, table_models
from chalicelib.adapters.dynamo.work import DynamoWorkRepository
from chalicelib.domain.access import Principal
from chalicelib.services.calendars import seed_calendars
from chalicelib.services.personnel import seed_personnel
from chalicelib.services.case_types import CaseTypeCatalog
from chalicelib.services.cases import CaseNumbers, CaseService

from .demo import DEMO_CASES, DEMO_PASSWORD, DEMO_USERS, ROLES, DemoUser

DEFAULT_REGION = "us-east-1"
DEFAULT_TABLE = "cms-local"
DEFAULT_BUCKET = "cms-local-documents"
DEFAULT_POOL = "cms-local"
DEFAULT_CLIENT = "cms-local-web"
DEFAULT_EVENT_BUS = "cms-local"


@dataclass(frozen=True)
class Resources:
    endpoint: str
    region: str
    table_name: str
    bucket_name: str
    user_pool_id: str
    user_pool_client_id: str


def client(service: str, endpoint: str, region: str) -> Any:
    return boto3.client(
        service, endpoint_url=endpoint, region_name=region,
        config=BotoConfig(retries={"max_attempts": 3, "mode": "standard"}),
    )


def provision(
    endpoint: str,
    region: str = DEFAULT_REGION,
    *,
    table_name: str = DEFAULT_TABLE,
    bucket_name: str = DEFAULT_BUCKET,
    pool_name: str = DEFAULT_POOL,
    client_name: str = DEFAULT_CLIENT,
    users: Iterable[DemoUser] = DEMO_USERS,
    event_bus_name: str = DEFAULT_EVENT_BUS,
    mail_sender: Optional[str] = None,
) -> Resources:
    """Create (or find) the table, the versioned bucket, the integration events' bus, the user pool with groups
    and demo users, the demo users' entries in the personnel directory and the `standard` business calendar (never
    overwriting an existing entry); with `mail_sender`, verify it as an SES identity (SES sends only from verified
    identities, moto's too)."""
    models = table_models(table_name, region, endpoint)
    create_table(models)
    _bucket(client("s3", endpoint, region), bucket_name, region)
    event_bus(client("events", endpoint, region), event_bus_name)
    idp = client("cognito-idp", endpoint, region)
    pool_id = _user_pool(idp, pool_name)
    client_id = _app_client(idp, pool_id, client_name)
    _groups(idp, pool_id)
    users = list(users)
    for demo_user in users:
        _user(idp, pool_id, demo_user)
    seed_personnel(DynamoWorkRepository(models), [(u.username, u.team, u.groups) for u in users])
    seed_calendars(DynamoCalendarStore(models))
    if mail_sender:
        client("ses", endpoint, region).verify_email_identity(EmailAddress=mail_sender)  # idempotent
    return Resources(endpoint, region, table_name, bucket_name, pool_id, client_id)


def seed_demo_cases(
    resources: Resources,
    cases: Iterable[tuple[str, dict[str, Any]]] = DEMO_CASES,
    users: Iterable[DemoUser] = DEMO_USERS,
    customer_snapshot: Optional[Callable[[str], Any]] = None,
) -> int:
    """Create the demo cases through the real case service, only while the table has no case at all
    (so a restored snapshot or a developer's own cases are never mixed with a second demo set)."""
    if has_cases(resources):
        return 0
    by_name = {u.username: u for u in users}
    models = table_models(resources.table_name, resources.region, resources.endpoint)
    repo = DynamoCaseRepository(models)
    case_types = CaseTypeCatalog(DynamoCaseTypeStore(models), DynamoWorkRepository(models).list_teams)  # seeds them
    service = CaseService(repo, case_types, CaseNumbers(repo, 1), customer_snapshot=customer_snapshot)
    created = 0
    for username, body in cases:
        creator = by_name[username]
        service.create(Principal(creator.username, frozenset(creator.groups), creator.team), dict(body))
        created += 1
    return created


def has_cases(resources: Resources) -> bool:
    """Whether any case was ever written: a case's month is in the months item (keys.CASE_MONTHS_KEY)."""
    months_key = {"PK": {"S": CASE_MONTHS_KEY}, "SK": {"S": MONTHS_SK}}
    item = client("dynamodb", resources.endpoint, resources.region).get_item(
        TableName=resources.table_name, Key=months_key, ConsistentRead=True,
    )
    return "Item" in item


def list_restored_cases(resources: Resources) -> int:
    """Move cases restored from a snapshot taken before the case lists existed into them."""
    return backfill_case_lists(table_models(resources.table_name, resources.region, resources.endpoint))


def _bucket(s3: Any, name: str, region: str, versioned: bool = True) -> None:
    try:
        s3.head_bucket(Bucket=name)
    except ClientError:
        kwargs: dict[str, Any] = {}
        if region != "us-east-1":  # us-east-1 rejects an explicit LocationConstraint
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        # As on AWS: legal holds lock object versions (S3 Object Lock, which must be enabled at creation).
        s3.create_bucket(Bucket=name, **({"ObjectLockEnabledForBucket": True} if versioned else {}), **kwargs)
    if not versioned:
        return
    # Documents are never overwritten: every upload is a new object version.
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    # The web console uploads straight from the browser (presigned POST, with a progress bar, so the
    # browser asks first) and downloads with presigned GETs. On AWS the rule names the console's domain.
    s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": [{
        "AllowedOrigins": ["*"], "AllowedMethods": ["GET", "POST"], "AllowedHeaders": ["*"],
        "ExposeHeaders": ["ETag", "x-amz-version-id"], "MaxAgeSeconds": 600,
    }]})


def event_bus(events: Any, name: str) -> str:
    """The bus's ARN; created once (as the template's EventBus)."""
    try:
        return str(events.describe_event_bus(Name=name)["Arn"])
    except events.exceptions.ResourceNotFoundException:
        return str(events.create_event_bus(Name=name)["EventBusArn"])


def _user_pool(idp: Any, name: str) -> str:
    for page in idp.get_paginator("list_user_pools").paginate(MaxResults=60):
        for pool in page["UserPools"]:
            if pool["Name"] == name:
                return str(pool["Id"])
    pool = idp.create_user_pool(
        PoolName=name,
        # Declared in the schema so `custom:team` is carried in ID tokens, as on AWS.
        Schema=[{"Name": "team", "AttributeDataType": "String", "Mutable": True}],
        AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
    )["UserPool"]
    return str(pool["Id"])


# What a signed-in user may change about themselves with their own access token (as deploy/template.yml):
# not `custom:team`, which only admins set (and the personnel directory, not the token, is what counts).
APP_CLIENT_WRITE_ATTRIBUTES = ["email"]


def _app_client(idp: Any, pool_id: str, name: str) -> str:
    # No secret: a browser front end cannot keep one. Revocation: signing out revokes the refresh token.
    settings = {
        "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        "WriteAttributes": APP_CLIENT_WRITE_ATTRIBUTES, "EnableTokenRevocation": True,
    }
    for page in idp.get_paginator("list_user_pool_clients").paginate(UserPoolId=pool_id, MaxResults=60):
        for app_client in page["UserPoolClients"]:
            if app_client["ClientName"] == name:  # a restored pool may predate these settings
                idp.update_user_pool_client(
                    UserPoolId=pool_id, ClientId=app_client["ClientId"], ClientName=name, **settings,
                )
                return str(app_client["ClientId"])
    created = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName=name, GenerateSecret=False, **settings,
    )["UserPoolClient"]
    return str(created["ClientId"])


def _groups(idp: Any, pool_id: str) -> None:
    existing = {g["GroupName"] for g in idp.list_groups(UserPoolId=pool_id, Limit=60)["Groups"]}
    for role in ROLES:
        if role not in existing:
            idp.create_group(UserPoolId=pool_id, GroupName=role, Description=f"{role} role")


def _user(idp: Any, pool_id: str, user: DemoUser) -> None:
    attributes = [
        {"Name": "email", "Value": user.email},
        {"Name": "email_verified", "Value": "true"},
        {"Name": "custom:team", "Value": user.team},
    ]
    try:
        idp.admin_get_user(UserPoolId=pool_id, Username=user.username)
        idp.admin_update_user_attributes(UserPoolId=pool_id, Username=user.username, UserAttributes=attributes)
    except idp.exceptions.UserNotFoundException:
        idp.admin_create_user(
            UserPoolId=pool_id, Username=user.username, UserAttributes=attributes, MessageAction="SUPPRESS",
        )
    # Permanent, so USER_PASSWORD_AUTH returns tokens instead of a NEW_PASSWORD_REQUIRED challenge.
    idp.admin_set_user_password(UserPoolId=pool_id, Username=user.username, Password=DEMO_PASSWORD, Permanent=True)
    current = {
        g["GroupName"] for g in idp.admin_list_groups_for_user(UserPoolId=pool_id, Username=user.username)["Groups"]
    }
    for group in set(user.groups) - current:
        idp.admin_add_user_to_group(UserPoolId=pool_id, Username=user.username, GroupName=group)
