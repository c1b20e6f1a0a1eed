"""Case Management System: the Chalice app. Routes stay thin: parse, authorise, one service
call, shape the response. Everything else lives in chalicelib/."""
from __future__ import annotations

import os

from chalice import Chalice, CognitoUserPoolAuthorizer, Rate

from chalicelib import bootstrap, observability
from chalicelib.domain.approvals import Approval, ApprovalDetail, ApprovalList, DecisionRequest
from chalicelib.domain.case_types import CaseTypeList
from chalicelib.domain.compensation import Compensation, PaymentConfirmation
from chalicelib.domain.models import (
    Case, CaseCreate, CasePage, CasePatch, Comment, CommentCreate, CommentList, History, HistoryVerification,
    WorkflowView,
)
from chalicelib.domain.personnel import Person, PersonList, PersonUpsert
from chalicelib.domain.tasks import (
    BulkReassignment, BulkReassignmentResult, Task, TaskCompletion, TaskList, TaskReassignment,
)
from chalicelib.web import Api, ApiRequest, Reply, logger

APP_NAME = "case-management"
API_VERSION = "0.1.0"

app = Chalice(app_name=APP_NAME)
observability.attach(app)  # logs with correlation ids, traces and metrics for every function
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
    logger.thread_safe_append_keys(case_id=case.id)
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
    return _case_reply(_cases().read(req.principal, case_id))


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


# --- workflow: Step Functions tasks, the stream trigger, the workflow view ---
# The stream ARN is only known once the table exists: the merged template sets it on AWS; locally
# the local system creates the event source mapping itself from app.event_sources.
CASES_STREAM_ARN = os.environ.get(
    "CASES_STREAM_ARN", "arn:aws:dynamodb:us-east-1:000000000000:table/cms-local/stream/local"
)


def _workflow():  # type: ignore[no-untyped-def]
    return bootstrap.container().workflow


@app.on_dynamodb_record(stream_arn=CASES_STREAM_ARN, name="on_case_stream", batch_size=25)
def on_case_stream(event):  # type: ignore[no-untyped-def]
    from chalicelib.cache.invalidation import stale_keys_of_records

    records = event.to_dict()["Records"]
    # The backstop of the write path's own invalidation; fails open like every cache call.
    bootstrap.container().cache.delete(*stale_keys_of_records(records))
    failed = _workflow().on_table_records(records)
    return {"batchItemFailures": [{"itemIdentifier": record_id} for record_id in failed]}


@app.lambda_function(name="wf_initiate")
def wf_initiate(event, context):  # type: ignore[no-untyped-def]
    return _workflow().initiate(event["caseId"], event["executionId"])


@app.lambda_function(name="wf_assign")
def wf_assign(event, context):  # type: ignore[no-untyped-def]
    return _workflow().assign(event["caseId"])


@app.lambda_function(name="wf_wait")
def wf_wait(event, context):  # type: ignore[no-untyped-def]
    _workflow().wait(event["caseId"], event["stage"], event["taskToken"], event["executionId"])
    return {"waiting": event["stage"]}


@app.lambda_function(name="wf_escalate")
def wf_escalate(event, context):  # type: ignore[no-untyped-def]
    return _workflow().escalate(event["caseId"], event["stage"])


@app.lambda_function(name="wf_complete")
def wf_complete(event, context):  # type: ignore[no-untyped-def]
    return _workflow().complete(event["caseId"], event.get("outcome", "RESOLVED"))


@app.lambda_function(name="wf_rollback")
def wf_rollback(event, context):  # type: ignore[no-untyped-def]
    return _workflow().rollback(event["caseId"], event.get("error"))


@api.route(
    "/cases/{case_id}/workflow", "GET", summary="The case's workflow: stage, runs and state history",
    response=WorkflowView, errors=(404,),
)
def case_workflow(req: ApiRequest, case_id: str) -> Reply:
    case = _cases().get(req.principal, case_id)
    return Reply(WorkflowView.model_validate(_workflow().view(req.principal, case)))


@api.route(
    "/cases/{case_id}/reopen", "POST", summary="Reopen a closed case: a new workflow run, audited",
    response=Case, errors=(403, 404, 409), etag=True,
)
def reopen_case(req: ApiRequest, case_id: str) -> Reply:
    return _case_reply(_workflow().reopen(req.principal, _cases().get(req.principal, case_id)))


@api.route(
    "/cases/{case_id}/workflow/resume", "POST",
    summary="Start a new run for a case whose run failed or was lost (supervisors, admins)",
    response=Case, errors=(403, 404, 409), etag=True,
)
def resume_workflow(req: ApiRequest, case_id: str) -> Reply:
    return _case_reply(_workflow().resume(req.principal, _cases().get(req.principal, case_id)))


# --- personnel and tasks ---

TASK_FILTERS = ("assignee", "team", "status", "caseId")


def _tasks():  # type: ignore[no-untyped-def]
    return bootstrap.container().tasks


def _personnel():  # type: ignore[no-untyped-def]
    return bootstrap.container().personnel


@api.route(
    "/personnel/{username}", "PUT", summary="File a person in the personnel directory (admins)", body=PersonUpsert,
    response=Person, errors=(403,),
)
def put_person(req: ApiRequest, username: str) -> Reply:
    return Reply(_personnel().put(req.principal, username, req.json()))


@api.route(
    "/personnel", "GET", summary="The personnel directory, or one team of it", response=PersonList,
    query=("team",), errors=(403,),
)
def list_personnel(req: ApiRequest) -> Reply:
    return Reply(PersonList(items=_personnel().list(req.principal, req.query("team"))))


@api.route("/personnel/{username}", "GET", summary="A person's directory entry", response=Person, errors=(403, 404))
def get_person(req: ApiRequest, username: str) -> Reply:
    return Reply(_personnel().get(req.principal, username))


@api.route(
    "/tasks", "GET", summary="Your inbox (assignee=me, the default), a team's queue (team), or a case's tasks (caseId)",
    response=TaskList, query=TASK_FILTERS, errors=(403, 404),
)
def list_tasks(req: ApiRequest) -> Reply:
    from chalicelib.services.tasks import TaskFilters

    filters = TaskFilters(
        assignee=req.query("assignee"), team=req.query("team"), status=req.query("status"), case_id=req.query("caseId"),
    )
    return Reply(TaskList(items=_tasks().list(req.principal, filters)))


@api.route(
    "/tasks/reassign", "POST", summary="Reassign all open tasks of a person, or the listed tasks (supervisors)",
    body=BulkReassignment, response=BulkReassignmentResult, errors=(403,),
)
def reassign_tasks(req: ApiRequest) -> Reply:
    return Reply(_tasks().bulk_reassign(req.principal, req.json()))


@api.route("/tasks/{task_id}", "GET", summary="Read a task", response=Task, errors=(404,))
def get_task(req: ApiRequest, task_id: str) -> Reply:
    return Reply(_tasks().get(req.principal, task_id))


@api.route(
    "/tasks/{task_id}/claim", "POST", summary="Take a task from your team's queue", response=Task,
    errors=(403, 404, 409),
)
def claim_task(req: ApiRequest, task_id: str) -> Reply:
    return Reply(_tasks().claim(req.principal, task_id))


@api.route(
    "/tasks/{task_id}/complete", "POST", summary="Complete a task (its assignee, the team's supervisor, admins)",
    body=TaskCompletion, response=Task, errors=(403, 404, 409),
)
def complete_task(req: ApiRequest, task_id: str) -> Reply:
    return Reply(_tasks().complete(req.principal, task_id, req.json(optional=True)))


@api.route(
    "/tasks/{task_id}/reassign", "POST", summary="Give a task to an eligible team member, or back to the queue",
    body=TaskReassignment, response=Task, errors=(403, 404, 409),
)
def reassign_task(req: ApiRequest, task_id: str) -> Reply:
    return Reply(_tasks().reassign(req.principal, task_id, req.json()))


@app.schedule(Rate(15, unit=Rate.MINUTES), name="escalate_overdue_tasks")
def escalate_overdue_tasks(event):  # type: ignore[no-untyped-def]
    return {"escalated": [task.id for task in _tasks().escalate_overdue()]}


# --- approvals and compensation ---

APPROVAL_FILTERS = ("assignee", "status", "caseId")


def _approvals():  # type: ignore[no-untyped-def]
    return bootstrap.container().approvals


def _compensation():  # type: ignore[no-untyped-def]
    return bootstrap.container().compensation


@api.route(
    "/approvals", "GET",
    summary="Approvals you may see: your inbox (pending, assigned to you or in the approvers' queue; "
            "assignee=me the same), or every approval of a case (caseId)",
    response=ApprovalList, query=APPROVAL_FILTERS, errors=(403,),
)
def list_approvals(req: ApiRequest) -> Reply:
    items = _approvals().list(req.principal, assignee=req.query("assignee"), status=req.query("status"),
                              case_id=req.query("caseId"))
    return Reply(ApprovalList(items=items))


@api.route(
    "/approvals/{approval_id}", "GET", summary="Read an approval, with what a rejection would undo",
    response=ApprovalDetail, errors=(403, 404),
)
def get_approval(req: ApiRequest, approval_id: str) -> Reply:
    return Reply(_approvals().get(req.principal, approval_id))


@api.route(
    "/approvals/{approval_id}/decision", "POST", summary="Approve or reject (approvers; four-eyes applies)",
    body=DecisionRequest, response=Approval, errors=(403, 404, 409),
)
def decide_approval(req: ApiRequest, approval_id: str) -> Reply:
    return Reply(_approvals().decide(req.principal, approval_id, req.json()))


@api.route(
    "/cases/{case_id}/compensation", "GET", summary="The case's compensation: amounts, payment instruction, ledger",
    response=Compensation, errors=(404,),
)
def get_compensation(req: ApiRequest, case_id: str) -> Reply:
    return Reply(_compensation().get(req.principal, case_id))


@api.route(
    "/cases/{case_id}/compensation/payment", "POST", summary="Confirm the compensation was paid (finance)",
    body=PaymentConfirmation, response=Compensation, errors=(403, 404, 409),
)
def confirm_payment(req: ApiRequest, case_id: str) -> Reply:
    return Reply(_compensation().confirm_payment(req.principal, case_id, req.json()))


@app.lambda_function(name="wf_compensate")
def wf_compensate(event, context):  # type: ignore[no-untyped-def]
    return _compensation().compensate(event["caseId"])


# --- documents ---
# Uploads go straight to S3 with a presigned POST; the bucket's notification (the merged template on AWS,
# local/ locally) invokes on_document_uploaded, which registers each object version.
from chalicelib.domain.documents import (  # noqa: E402  (kept with its routes)
    Document, DocumentDetail, DocumentList, DocumentUpload, DownloadLink, LegalHold, LegalHoldRequest, LegalHoldView,
    UploadTicket,
)
from chalicelib.domain.exports import EvidenceExport, ExportRequest  # noqa: E402


def _documents():  # type: ignore[no-untyped-def]
    return bootstrap.container().documents


@api.route(
    "/cases/{case_id}/documents", "POST",
    summary="Start a document: its record and a presigned S3 POST bounded in size and type (caseworkers, "
            "supervisors, admins)",
    body=DocumentUpload, response=UploadTicket, status=201, errors=(403, 404, 409),
)
def request_document_upload(req: ApiRequest, case_id: str) -> Reply:
    return Reply(_documents().request_upload(req.principal, case_id, req.json()), 201)


@api.route("/cases/{case_id}/documents", "GET", summary="The case's documents", response=DocumentList, errors=(404,))
def list_documents(req: ApiRequest, case_id: str) -> Reply:
    return Reply(DocumentList(items=_documents().list(req.principal, case_id)))


@api.route(
    "/cases/{case_id}/documents/{document_id}", "GET", summary="A document with its versions",
    response=DocumentDetail, errors=(404,),
)
def get_document(req: ApiRequest, case_id: str, document_id: str) -> Reply:
    return Reply(_documents().get(req.principal, case_id, document_id))


@api.route(
    "/cases/{case_id}/documents/{document_id}/versions", "POST",
    summary="Upload a new version: a presigned S3 POST for the document's own key", body=DocumentUpload,
    response=UploadTicket, status=201, errors=(403, 404, 409),
)
def request_document_version(req: ApiRequest, case_id: str, document_id: str) -> Reply:
    return Reply(_documents().request_new_version(req.principal, case_id, document_id, req.json()), 201)


@api.route(
    "/cases/{case_id}/documents/{document_id}/download", "GET",
    summary="A short-lived download URL of one version (the latest by default); the download is recorded",
    response=DownloadLink, query=("versionId",), errors=(404, 409),
)
def download_document(req: ApiRequest, case_id: str, document_id: str) -> Reply:
    return Reply(_documents().download(req.principal, case_id, document_id, req.query("versionId")))


@api.route(
    "/cases/{case_id}/documents/{document_id}", "DELETE",
    summary="Delete a document softly: marked deleted, every version kept (admins; refused under legal hold)",
    response=Document, errors=(403, 404, 409),
)
def delete_document(req: ApiRequest, case_id: str, document_id: str) -> Reply:
    return Reply(_documents().delete(req.principal, case_id, document_id))


@api.route(
    "/cases/{case_id}/exports", "POST",
    summary="Export evidence: download URLs of the documents' latest processed versions and a manifest whose "
            "SHA-256 is recorded in the case history (supervisors, admins, auditors)",
    body=ExportRequest, response=EvidenceExport, status=201, errors=(403, 404, 409),
)
def export_documents(req: ApiRequest, case_id: str) -> Reply:
    return Reply(_documents().export(req.principal, case_id, req.json()), 201)


@api.route("/cases/{case_id}/legal-hold", "GET", summary="The case's legal hold", response=LegalHold, errors=(404,))
def get_legal_hold(req: ApiRequest, case_id: str) -> Reply:
    return Reply(_documents().legal_hold(req.principal, case_id))


@api.route(
    "/cases/{case_id}/legal-hold", "PUT",
    summary="Set or lift the case's legal hold, and the S3 Object Lock legal hold of its document versions (admins)",
    body=LegalHoldRequest, response=LegalHoldView, errors=(403, 404, 409),
)
def put_legal_hold(req: ApiRequest, case_id: str) -> Reply:
    return Reply(_documents().set_legal_hold(req.principal, case_id, req.json()))


@app.lambda_function(name="on_document_uploaded")
def on_document_uploaded(event, context):  # type: ignore[no-untyped-def]
    return _documents().on_s3_event(event)


# --- document workflow: Step Functions tasks around the Fargate processor ---
def _processing():  # type: ignore[no-untyped-def]
    return bootstrap.container().processing


@app.lambda_function(name="doc_process_start")
def doc_process_start(event, context):  # type: ignore[no-untyped-def]
    return _processing().prepare(event["caseId"], event["documentId"], event["versionId"], event.get("executionId"))


@app.lambda_function(name="doc_process_finish")
def doc_process_finish(event, context):  # type: ignore[no-untyped-def]
    return _processing().finish(event["caseId"], event["documentId"], event["versionId"])


@app.lambda_function(name="doc_process_failed")
def doc_process_failed(event, context):  # type: ignore[no-untyped-def]
    return _processing().fail(event["caseId"], event["documentId"], event["versionId"], event.get("error"))


# --- the data mesh: customer views, and the case data product published from the table's stream ---
from chalicelib.domain.customers import CustomerView  # noqa: E402  (kept with its routes)
from chalicelib.domain.data_products import DataProductView  # noqa: E402


@api.route(
    "/customers/{customer_id}", "GET",
    summary="The customer merged from the data mesh's customer products; each field with its source and age",
    response=CustomerView, errors=(400, 403, 404, 503), validated_params=("customer_id",),
)
def get_customer(req: ApiRequest, customer_id: str) -> Reply:
    return Reply(bootstrap.container().customers.view(req.principal, customer_id))


@api.route(
    "/data-products/cases", "GET", summary="The case data product: descriptor, contract, location and freshness",
    response=DataProductView, errors=(403, 503),
)
def case_data_product(req: ApiRequest) -> Reply:
    return Reply(bootstrap.container().case_data.view(req.principal))


# A second consumer of the same stream: publishing rows never delays or fails the workflow's start.
@app.on_dynamodb_record(stream_arn=CASES_STREAM_ARN, name="publish_case_data", batch_size=100)
def publish_case_data(event):  # type: ignore[no-untyped-def]
    failed = bootstrap.container().case_data.publish(event.to_dict()["Records"])
    return {"batchItemFailures": [{"itemIdentifier": record_id} for record_id in failed]}
