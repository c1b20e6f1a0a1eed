"""Approvals (the decisions a case's workflow waits for) and compensation (amounts, payment, ledger)."""
from __future__ import annotations

from ..bootstrap import container
from ..domain.approvals import Approval, ApprovalDetail, ApprovalList, DecisionRequest
from ..domain.compensation import Compensation, HoldResolution, PaymentConfirmation
from ..domain.queries import DEFAULT_PAGE, PAGE
from ..errors import Forbidden
from ..web import ApiRequest, Routes
from . import blueprint

routes = Routes(blueprint())

APPROVAL_FILTERS = ("assignee", "status", "caseId", *PAGE)


@routes.route(
    "/approvals", "GET",
    summary="Approvals you may see: your inbox (pending, assigned to you or in the approvers' queue; "
            "assignee=me the same), or every approval of a case (caseId)",
    response=ApprovalList, query=APPROVAL_FILTERS, raises=(Forbidden,),
)
def list_approvals(req: ApiRequest[None]) -> ApprovalList:
    return container().approvals.list(
        req.principal, assignee=req.query("assignee"), status=req.query("status"), case_id=req.query("caseId"),
        limit=req.int_query("limit", DEFAULT_PAGE), page_cursor=req.query("cursor"),
    )


@routes.route(
    "/approvals/{approval_id}", "GET", summary="Read an approval, with what a rejection would undo",
    response=ApprovalDetail, raises=(Forbidden,),
)
def get_approval(req: ApiRequest[None], approval_id: str) -> ApprovalDetail:
    return container().approvals.get(req.principal, approval_id)


routes.command(
    "/approvals/{approval_id}/decision", lambda: container().approvals.decide, name="decide_approval",
    summary="Approve or reject (approvers; four-eyes applies)", body=DecisionRequest, response=Approval,
)


@routes.route(
    "/cases/{case_id}/compensation", "GET", summary="The case's compensation: amounts, payment instruction, ledger",
    response=Compensation,
)
def get_compensation(req: ApiRequest[None], case_id: str) -> Compensation:
    return container().compensation.get(req.principal, case_id)


routes.command(
    "/cases/{case_id}/compensation/payment", lambda: container().compensation.confirm_payment,
    name="confirm_payment", summary="Confirm the compensation was paid (finance)", body=PaymentConfirmation,
    response=Compensation,
)


routes.command(
    "/cases/{case_id}/compensation/hold/resolve", lambda: container().compensation.resolve_hold,
    name="resolve_payment_hold",
    summary="Say whether a payment instruction the saga put on hold was paid (finance): PAID with its reference, "
            "or NOT_PAID (voided; a new instruction follows while the case waits for payment)",
    body=HoldResolution, response=Compensation,
)
