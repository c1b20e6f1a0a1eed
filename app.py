"""Case Management System: the Chalice app. Routes stay thin: parse, authorise, one service
call, shape the response. Everything else lives in chalicelib/."""
from __future__ import annotations

import os

from chalice import Chalice, CognitoUserPoolAuthorizer

from chalicelib import bootstrap
from chalicelib.domain.case_types import CaseTypeList
from chalicelib.domain.models import (
    Case, CaseCreate, CasePage, CasePatch, Comment, CommentCreate, CommentList, History, HistoryVerification,
)
from chalicelib.web import Api, ApiRequest, Reply, logger

APP_NAME = "case-management"
API_VERSION = "0.1.0"

app = Chalice(app_name=APP_NAME)
# On AWS (stages with AUTH_MODE=apigateway, set while `chalice package` loads the app) API Gateway's
# Cognito authorizer checks tokens before Lambda runs. Locally the app verifies tokens itself:
# chalice local's imitation of that authorizer trusts any token and crashes on malformed ones.
# The pool ARN is only known per account; the merged CloudFormation template sets it on AWS.
authorizer = (
    CognitoUserPoolAuthorizer(
        "cognito",
        provider_arns=[os.environ.get("COGNITO_USER_POOL_ARN", "arn:aws:cognito-idp:us-east-1:000000000000:userpool/cms")],
    )
    if os.environ.get("AUTH_MODE") == "apigateway"
    else None
)
api = Api(app, authorizer, authenticate=lambda request: bootstrap.container().authenticate(request))

CASE_FILTERS = ("status", "assignee", "priority", "customerId", "caseType", "limit", "cursor")


def _cases():  # type: ignore[no-untyped-def]
    return bootstrap.container().cases


def _case_reply(case: Case, status: int = 200) -> Reply:
    headers = {"ETag": f'"{case.version}"'}
    if status == 201:
        headers["Location"] = f"/cases/{case.id}"
    return Reply(case, status, headers)


@api.route("/health", "GET", summary="Liveness of the API", public=True)
def health(req: ApiRequest) -> Reply:
    return Reply({"status": "ok", "service": APP_NAME, "version": API_VERSION})


@api.route("/openapi.json", "GET", summary="This API's OpenAPI document", public=True)
def openapi(req: ApiRequest) -> Reply:
    from chalicelib.openapi import build_document

    return Reply(build_document(api.specs, "Case Management System API", API_VERSION))


@api.route("/case-types", "GET", summary="The configured case types", response=CaseTypeList)
def list_case_types(req: ApiRequest) -> Reply:
    return Reply(CaseTypeList(items=_cases().case_types()))


@api.route(
    "/cases", "POST", summary="Open a case", body=CaseCreate, response=Case, status=201,
    headers=("Idempotency-Key",), errors=(403, 409), etag=True,
)
def create_case(req: ApiRequest) -> Reply:
    case = _cases().create(req.principal, req.json(), req.header("Idempotency-Key"))
    logger.append_keys(case_id=case.id)
    return _case_reply(case, 201)


@api.route("/cases", "GET", summary="List the cases you may see, newest first", response=CasePage, query=CASE_FILTERS, errors=(403,))
def list_cases(req: ApiRequest) -> Reply:
    from chalicelib.services.cases import ListFilters

    filters = ListFilters(
        status=req.query("status"), assignee=req.query("assignee"), priority=req.query("priority"),
        customer_id=req.query("customerId"), case_type=req.query("caseType"),
    )
    return Reply(_cases().list(req.principal, filters, req.int_query("limit", 25), req.query("cursor")))


@api.route("/cases/{case_id}", "GET", summary="Read a case", response=Case, errors=(404,), etag=True)
def get_case(req: ApiRequest, case_id: str) -> Reply:
    return _case_reply(_cases().get(req.principal, case_id))


@api.route(
    "/cases/{case_id}", "PATCH", summary="Edit a case's title, description, priority or tags", body=CasePatch,
    response=Case, headers=("If-Match",), errors=(403, 404, 409, 412), etag=True,
)
def update_case(req: ApiRequest, case_id: str) -> Reply:
    return _case_reply(_cases().update(req.principal, case_id, req.json(), req.header("If-Match")))


@api.route(
    "/cases/{case_id}/comments", "POST", summary="Comment on a case", body=CommentCreate, response=Comment,
    status=201, errors=(403, 404, 409),
)
def add_comment(req: ApiRequest, case_id: str) -> Reply:
    return Reply(_cases().add_comment(req.principal, case_id, req.json()), 201)


@api.route("/cases/{case_id}/comments", "GET", summary="A case's comments, oldest first", response=CommentList, errors=(404,))
def list_comments(req: ApiRequest, case_id: str) -> Reply:
    return Reply(CommentList(items=_cases().comments(req.principal, case_id)))


@api.route("/cases/{case_id}/history", "GET", summary="A case's hash-chained audit events", response=History, errors=(404,))
def case_history(req: ApiRequest, case_id: str) -> Reply:
    return Reply(History(items=_cases().history(req.principal, case_id)))


@api.route(
    "/cases/{case_id}/history/verify", "GET", summary="Recompute the audit chain", response=HistoryVerification,
    errors=(404,),
)
def verify_history(req: ApiRequest, case_id: str) -> Reply:
    return Reply(_cases().verify_history(req.principal, case_id))
