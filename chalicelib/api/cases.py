"""Cases: open, list, read, edit, comment, their audit history and their workflow (view, reopen, resume)."""
from __future__ import annotations

from ..bootstrap import container
from ..domain.case_as_of import CaseRead
from ..domain.custom_fields import FILTER_PREFIX
from ..domain.reopening import ReopenRequest
from ..domain.sla import CaseView
from ..domain.models import (
    Case, CaseCreate, CasePage, CasePatch, Comment, CommentCreate, CommentList, History, HistoryVerification,
    WorkflowView,
)
from ..domain.queries import DEFAULT_PAGE, PAGE
from ..errors import Conflict, Forbidden
from ..web import ApiRequest, Reply, Routes, logger
from . import blueprint

routes = Routes(blueprint())

CASE_FILTERS = ("status", "assignee", "priority", "customerId", "caseType", *PAGE)


def _case_reply(case: Case, created: bool = False) -> Reply:
    """The case with its SLA clock as of now (computed here, so no cache holds a stale time left)."""
    headers = {"ETag": f'"{case.version}"'}
    if created:
        headers["Location"] = f"/cases/{case.id}"
    return Reply(container().sla.view(case), headers)


@routes.route(
    "/cases", "POST", summary="Open a case", body=CaseCreate, response=CaseView, status=201,
    headers=("Idempotency-Key",), raises=(Forbidden, Conflict), etag=True,
)
def create_case(req: ApiRequest[CaseCreate]) -> Reply:
    case = container().cases.create(req.principal, req.body, req.header("Idempotency-Key"))
    logger.thread_safe_append_keys(case_id=case.id)
    return _case_reply(case, created=True)


@routes.route(
    "/cases", "GET", response=CasePage, query=CASE_FILTERS, query_prefix=FILTER_PREFIX, raises=(Forbidden,),
    summary="List the cases you may see, newest first; with caseType, `field.<name>=<value>` (repeatable) keeps "
            "the cases whose enum or boolean custom field <name> holds that value",
)
def list_cases(req: ApiRequest[None]) -> CasePage:
    from ..services.cases import ListFilters  # services load with the container, on the first request

    filters = ListFilters(
        status=req.query("status"), assignee=req.query("assignee"), priority=req.query("priority"),
        customer_id=req.query("customerId"), case_type=req.query("caseType"),
    )
    return container().cases.list(
        req.principal, filters, req.int_query("limit", DEFAULT_PAGE), req.query("cursor"),
        req.query_prefixed(FILTER_PREFIX),
    )


@routes.route(
    "/cases/{case_id}", "GET", response=CaseRead, query=("asOf",), etag=True,
    summary="Read a case; with asOf, the case as it stood then (rebuilt from its audit chain)",
)
def get_case(req: ApiRequest[None], case_id: str) -> Reply:
    instant = req.query("asOf")
    if instant is not None:  # a past state: no ETag, since it is no version to write against
        return Reply(container().cases.read_as_of(req.principal, case_id, instant))
    return _case_reply(container().cases.read(req.principal, case_id))


@routes.route(
    "/cases/{case_id}", "PATCH", summary="Edit a case's title, description, priority, tags or custom fields",
    body=CasePatch,
    response=CaseView, headers=("If-Match",), raises=(Forbidden, Conflict), etag=True,
)
def update_case(req: ApiRequest[CasePatch], case_id: str) -> Reply:
    return _case_reply(container().cases.update(req.principal, case_id, req.body, req.header("If-Match")))


routes.command(
    "/cases/{case_id}/comments", lambda: container().cases.add_comment, name="add_comment",
    summary="Comment on a case", body=CommentCreate, response=Comment, status=201,
)


@routes.route(
    "/cases/{case_id}/comments", "GET", summary="A case's comments, oldest first", response=CommentList, query=PAGE,
)
def list_comments(req: ApiRequest[None], case_id: str) -> CommentList:
    return container().cases.comments(req.principal, case_id, req.int_query("limit", DEFAULT_PAGE), req.query("cursor"))


@routes.route(
    "/cases/{case_id}/history", "GET", summary="A case's hash-chained audit events, oldest first", response=History,
    query=PAGE,
)
def case_history(req: ApiRequest[None], case_id: str) -> History:
    return container().cases.history(req.principal, case_id, req.int_query("limit", DEFAULT_PAGE), req.query("cursor"))


@routes.route(
    "/cases/{case_id}/history/verify", "GET", summary="Recompute the audit chain", response=HistoryVerification,
)
def verify_history(req: ApiRequest[None], case_id: str) -> HistoryVerification:
    return container().cases.verify_history(req.principal, case_id)


@routes.route(
    "/cases/{case_id}/workflow", "GET", summary="The case's workflow: stage, runs and state history",
    response=WorkflowView,
)
def case_workflow(req: ApiRequest[None], case_id: str) -> WorkflowView:
    case = container().cases.get(req.principal, case_id)
    return WorkflowView.model_validate(container().workflow.view(req.principal, case))


@routes.route(
    "/cases/{case_id}/reopen", "POST",
    summary="Reopen a closed case: a new workflow run, audited with its reason (required, and only supervisors "
            "and admins, for a case closed after a rejection)",
    body=ReopenRequest, optional_body=True, response=CaseView, raises=(Forbidden, Conflict), etag=True,
)
def reopen_case(req: ApiRequest[ReopenRequest], case_id: str) -> Reply:
    case = container().cases.get(req.principal, case_id)
    return _case_reply(container().workflow.reopen(req.principal, case, req.body))


@routes.route(
    "/cases/{case_id}/workflow/resume", "POST",
    summary="Start a new run for a case whose run failed or was lost (supervisors, admins)",
    response=CaseView, raises=(Forbidden, Conflict), etag=True,
)
def resume_workflow(req: ApiRequest[None], case_id: str) -> Reply:
    return _case_reply(container().workflow.resume(req.principal, container().cases.get(req.principal, case_id)))
