"""Reopening a closed case (issue 12 item 7): a case closed after its approval was rejected is reopened only by a
supervisor or an admin, with a reason, recorded on its audit trail; a case closed resolved as before, with an
optional reason."""
from __future__ import annotations

import pytest

from chalicelib.domain.models import CaseStatus
from chalicelib.domain.reopening import ReopenRequest, check_may_reopen, closed_as
from chalicelib.errors import Forbidden, InvalidInput
from tests.support import principal
from tests.unit.test_approvals_service import ALICE, ANN, awaiting_approval, chain_is_valid

SAM, ROOT = principal("sam", "supervisor", team="claims"), principal("root", "admin")


def closed(system, decision: str) -> str:
    case_id = awaiting_approval(system)
    system.approvals.decide(ANN, f"{case_id}-a1", {"decision": decision})
    system.workflow.complete(case_id, "REJECTED" if decision == "REJECT" else "RESOLVED")
    assert system.repo.get_case(case_id).status == CaseStatus.CLOSED
    return case_id


def reopen(system, who, case_id, body=None):
    return system.workflow.reopen(who, system.repo.get_case(case_id), body)


def last_event(system, case_id):
    return system.repo.list_events(case_id)[-1]


def test_a_rejected_case_is_reopened_by_a_supervisor_or_admin_with_a_reason(system):
    case_id = closed(system, "REJECT")
    for who in (ALICE, principal("ann", "approver"), principal("fay", "finance")):
        with pytest.raises(Forbidden):
            reopen(system, who, case_id, {"reason": "the customer sent new evidence"})
    for who, body in ((SAM, None), (SAM, {}), (ROOT, {"reason": None})):
        with pytest.raises(InvalidInput) as excinfo:
            reopen(system, who, case_id, body)
        assert [issue.field for issue in excinfo.value.details] == ["reason"]
    with pytest.raises(InvalidInput) as excinfo:
        reopen(system, SAM, case_id, {"reason": "   "})
    assert [issue.field for issue in excinfo.value.details] == ["reason"]
    assert system.repo.get_case(case_id).status == CaseStatus.CLOSED

    reopened = reopen(system, SAM, case_id, {"reason": "the customer sent the police report after all"})
    assert reopened.status == CaseStatus.REOPENED and reopened.workflow.run == 2
    event = last_event(system, case_id)
    assert event.type == "CASE_REOPENED" and event.actor == "workflow"
    assert (event.data["by"], event.data["reason"], event.data["closedAs"]) == (
        "sam", "the customer sent the police report after all", "REJECTED")
    assert chain_is_valid(system, case_id)


def test_a_resolved_case_is_reopened_as_before_and_a_reason_given_is_recorded(system):
    case_id = closed(system, "APPROVE")
    reopened = reopen(system, ALICE, case_id)
    assert reopened.status == CaseStatus.REOPENED
    assert (last_event(system, case_id).data["reason"], last_event(system, case_id).data["closedAs"]) == (
        None, "RESOLVED")


def test_the_last_close_decides(system):
    case_id = closed(system, "REJECT")
    reopen(system, ROOT, case_id, {"reason": "re-examined"})
    events = system.repo.list_events(case_id)
    assert closed_as(events) == "REJECTED"  # still, until the case closes again
    assert closed_as([]) is None
    with pytest.raises(Forbidden):
        check_may_reopen(principal("aud", "auditor"), None, ReopenRequest())
    check_may_reopen(ALICE, "RESOLVED", ReopenRequest())
