"""Which audit events notify whom (domain/notification_rules.py), mention parsing, and the notifications'
ids and texts: never the actor, one per person and event, a case's title only for those who take part in it."""
from __future__ import annotations

from typing import Any, Optional

import pytest

from chalicelib.domain import audit
from chalicelib.domain.models import AuditEvent, Case
from chalicelib.domain.notification_rules import notifications_for
from chalicelib.domain.notifications import NotificationKind as Kind, mentions, notification_id
from chalicelib.domain.tasks import ESCALATION, Task, TaskStatus
from tests.support import new_case


class Facts:
    def __init__(self, tasks: tuple[Task, ...] = (), approvers: tuple[str, ...] = (), people: tuple[str, ...] = (),
                 approval_assignee: Optional[str] = None) -> None:
        self._tasks = {t.id: t for t in tasks}
        self._approvers, self._people, self._assignee = list(approvers), set(people), approval_assignee

    def task(self, task_id: str) -> Optional[Task]:
        return self._tasks.get(task_id)

    def approval_assignee(self, case_id: str, approval_id: str) -> Optional[str]:
        return self._assignee

    def approvers(self) -> list[str]:
        return self._approvers

    def is_person(self, username: str) -> bool:
        return username in self._people


def a_case(**fields: Any) -> Case:
    return new_case("case-1", **{"created_by": "alice", "team": "claims", **fields})[0]


def event(type: str, actor: str, data: dict[str, Any], seq: int = 5) -> AuditEvent:
    return audit.next_event(
        case_id="case-1", prev_seq=seq - 1, prev_hash="", type=type, actor=actor, at="2026-03-01T12:00:05.000Z",
        data=data,
    )


def a_task(assignee: Optional[str] = "carol", type: str = "ASSESS", title: str = "Assess the claim") -> Task:
    return Task(
        id="case-1-t3", case_id="case-1", type=type, title=title, assignee=assignee, team="claims",
        status=TaskStatus.OPEN, required=True, due_at="2026-03-04T12:00:00.000Z",
        created_at="2026-03-01T12:00:00.000Z", version=1,
    )


def test_a_task_created_for_someone_notifies_its_assignee():
    [n] = notifications_for(event("TASK_CREATED", "workflow", {"task": a_task().to_api()}), a_case(), Facts())
    assert (n.recipient, n.kind, n.task_id, n.case_id, n.actor) == ("carol", Kind.TASK_ASSIGNED, "case-1-t3",
                                                                      "case-1", "workflow")
    assert n.id == notification_id("2026-03-01T12:00:05.000Z", "case-1", 5, "carol")
    assert not n.read


def test_a_task_in_a_team_queue_notifies_nobody():
    queued = event("TASK_CREATED", "workflow", {"task": a_task(None).to_api()})
    assert notifications_for(queued, a_case(), Facts()) == []


def test_an_escalation_task_is_an_escalation_for_the_supervisor():
    task = a_task("sam", type=ESCALATION, title="Escalation: task case-1-t2 is overdue")
    [n] = notifications_for(event("TASK_CREATED", "system", {"task": task.to_api()}), a_case(), Facts())
    assert (n.recipient, n.kind) == ("sam", Kind.ESCALATION)


def test_a_reassigned_task_notifies_the_new_assignee_not_the_supervisor_who_did_it():
    facts = Facts(tasks=(a_task("dave"),))
    data = {"taskId": "case-1-t3", "from": "carol", "to": "dave"}
    [n] = notifications_for(event("TASK_REASSIGNED", "sam", data), a_case(), facts)
    assert (n.recipient, n.kind, n.actor) == ("dave", Kind.TASK_ASSIGNED, "sam")
    assert notifications_for(event("TASK_REASSIGNED", "dave", {**data}), a_case(), facts) == []  # self


def test_claiming_a_task_notifies_nobody():
    assert notifications_for(event("TASK_CLAIMED", "carol", {"taskId": "case-1-t3"}), a_case(), Facts()) == []


def test_an_overdue_escalated_task_is_an_sla_breach_for_its_assignee():
    facts = Facts(tasks=(a_task("carol"),))
    [n] = notifications_for(event("TASK_ESCALATED", "system", {"taskId": "case-1-t3", "escalation": "x"}),
                            a_case(), facts)
    assert (n.recipient, n.kind, n.task_id) == ("carol", Kind.SLA_BREACHED, "case-1-t3")


def test_a_task_80_percent_through_its_sla_warns_its_assignee_and_nobody_in_a_team_queue():
    data = {"taskId": "case-1-t3", "dueAt": "2026-03-03T12:00:00.000Z"}
    [n] = notifications_for(event("TASK_SLA_WARNING", "system", data), a_case(), Facts(tasks=(a_task("carol"),)))
    assert (n.recipient, n.kind, n.task_id) == ("carol", Kind.SLA_WARNING, "case-1-t3")
    assert "80 %" in n.text
    queued = Facts(tasks=(a_task(None),))
    assert notifications_for(event("TASK_SLA_WARNING", "system", data), a_case(), queued) == []


def test_an_approval_in_the_queue_waits_for_every_approver_who_does_not_work_on_the_case():
    case = a_case(participants=["ava"])
    data = {"approvalId": "case-1-a1", "level": 1}
    found = notifications_for(event("APPROVAL_REQUESTED", "workflow", data), case, Facts(approvers=("ava", "abe")))
    assert [(n.recipient, n.kind, n.approval_id) for n in found] == [("abe", Kind.APPROVAL_WAITING, "case-1-a1")]


def test_an_assigned_approval_waits_for_its_assignee_only():
    facts = Facts(approvers=("ava", "abe"), approval_assignee="ava")
    found = notifications_for(event("APPROVAL_REQUESTED", "workflow", {"approvalId": "case-1-a1"}), a_case(), facts)
    assert [n.recipient for n in found] == ["ava"]


def test_a_final_decision_notifies_the_cases_creator_and_assignee_but_not_the_decider():
    case = a_case(assignee="carol")
    data = {"approvalId": "case-1-a1", "decision": "APPROVED", "final": True}
    found = notifications_for(event("APPROVAL_DECIDED", "ava", data), case, Facts())
    assert [(n.recipient, n.kind) for n in found] == [("alice", Kind.CASE_DECIDED), ("carol", Kind.CASE_DECIDED)]
    assert "approved" in found[0].text
    assert notifications_for(event("APPROVAL_DECIDED", "ava", {**data, "final": False}), case, Facts()) == []


def test_mentions_notify_people_the_directory_knows_once_each_never_the_author():
    text = "@bob please check with @carol and @bob; @ghost is no one, mail me at alice@example.com, @alice"
    found = notifications_for(event("COMMENT_ADDED", "alice", {"commentId": "c1", "text": text}), a_case(),
                              Facts(people=("alice", "bob", "carol")))
    assert [(n.recipient, n.kind) for n in found] == [("bob", Kind.MENTIONED), ("carol", Kind.MENTIONED)]
    assert found[0].text.startswith("alice mentioned you")
    assert text not in found[0].text  # the comment itself stays in the case


def test_a_quarantined_document_notifies_whose_case_it_is():
    found = notifications_for(event("DOCUMENT_QUARANTINED", "system", {"documentId": "d1"}), a_case(), Facts())
    assert [(n.recipient, n.kind, n.document_id) for n in found] == [("alice", Kind.DOCUMENT_QUARANTINED, "d1")]


def test_the_case_title_is_only_named_to_those_who_take_part_in_the_case():
    case = a_case(title="Secret merger", participants=["dave"])
    mine = notifications_for(event("TASK_CREATED", "workflow", {"task": a_task("dave").to_api()}), case, Facts())
    other = notifications_for(event("TASK_CREATED", "workflow", {"task": a_task("erin").to_api()}), case, Facts())
    assert "Secret merger" in mine[0].text and case.number in mine[0].text
    assert "Secret merger" not in other[0].text and case.number in other[0].text


@pytest.mark.parametrize("type", ["CASE_CREATED", "CASE_UPDATED", "TASK_COMPLETED", "DOCUMENT_VERIFIED"])
def test_other_events_notify_nobody(type: str):
    assert notifications_for(event(type, "alice", {"taskId": "case-1-t3"}), a_case(), Facts()) == []


@pytest.mark.parametrize("text, names", [
    ("@alice", ["alice"]), ("hi @bob-2, @c_d.", ["bob-2", "c_d"]), ("bob@example.com", []), ("@@x", []),
    ("(@ann) and @ann", ["ann"]), ("@" + "a" * 65, []),
])
def test_mentions(text: str, names: list[str]):
    assert mentions(text) == names


def test_ids_sort_by_time_and_differ_per_recipient_and_event():
    early = notification_id("2026-03-01T12:00:05.000Z", "case-1", 5, "bob")
    late = notification_id("2026-03-01T12:00:06.000Z", "case-1", 6, "bob")
    assert early < late
    assert early != notification_id("2026-03-01T12:00:05.000Z", "case-1", 5, "carol")
    assert early == notification_id("2026-03-01T12:00:05.000Z", "case-1", 5, "bob")
