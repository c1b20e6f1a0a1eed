"""Assignment rules and policies (pure): who is eligible, who gets the next task, and in what order."""
from __future__ import annotations

from datetime import date

import pytest

from chalicelib.adapters.dynamo.keys import task_inbox_pk as inbox_key, task_inbox_sk as inbox_sort_key
from chalicelib.domain.assignment import (
    AssignmentPolicy, AssignmentRule, assign_by_skills, assign_least_loaded, assign_round_robin, choose, eligible,
    pick_supervisor, plan_assignments, rule_for,
)
from chalicelib.domain.models import Priority
from chalicelib.domain.personnel import AbsenceWindow, Person, PersonUpsert, has_capacity, is_out_of_office
from chalicelib.domain.tasks import (
    BulkReassignment, Task, TaskStatus, case_id_of, claimed, completed, task_id,
)
from chalicelib.errors import Conflict
from tests.support import START, SEED_TYPES

TODAY = START.date()
LEAST, ROBIN, SKILLS = AssignmentPolicy.LEAST_LOADED, AssignmentPolicy.ROUND_ROBIN, AssignmentPolicy.SKILLS_MATCH


def person(username: str, team: str = "claims", *, open_tasks: int = 0, capacity: int = 5, skills=(),
           away=False, supervisor: bool = False) -> Person:
    return Person(username=username, team=team, skills=list(skills), capacity=capacity, out_of_office=away,
                  supervisor=supervisor, open_tasks=open_tasks)


def window(start: str, end: str) -> AbsenceWindow:
    return AbsenceWindow.model_validate({"from": start, "to": end})


def names(people) -> list[str]:
    return [p.username for p in people]


# -- eligibility -----------------------------------------------------------------------------------


def test_only_present_members_below_capacity_with_the_skills_are_eligible():
    people = [
        person("ann", skills=["claims"]),
        person("bea", skills=["claims", "fraud"]),
        person("cid", team="complaints", skills=["claims"]),  # other team
        person("dan", skills=["claims"], away=True),  # out of office
        person("eve", skills=["claims"], open_tasks=5, capacity=5),  # full
        person("fay", skills=["claims"], supervisor=True),  # gets escalations, not regular work
        person("gus"),  # no skills
    ]
    assert names(eligible(people, team="claims", today=TODAY)) == ["ann", "bea", "gus"]
    assert names(eligible(people, team="claims", today=TODAY, required_skills=["claims"])) == ["ann", "bea"]
    assert names(eligible(people, team="claims", today=TODAY, required_skills=["claims", "fraud"])) == ["bea"]


@pytest.mark.parametrize(
    "away, expected",
    [
        (False, False), (True, True),
        (window("2026-03-01", "2026-03-01"), True),  # both ends count
        (window("2026-02-20", "2026-03-01"), True),
        (window("2026-03-01", "2026-03-10"), True),
        (window("2026-02-01", "2026-02-28"), False),  # back already
        (window("2026-03-02", "2026-03-09"), False),  # not yet away
    ],
)
def test_out_of_office_flag_or_window(away, expected):
    assert is_out_of_office(person("ann", away=away), TODAY) is expected


def test_capacity_counts_allocated_open_tasks():
    assert has_capacity(person("ann", open_tasks=4, capacity=5))
    assert not has_capacity(person("ann", open_tasks=5, capacity=5))
    assert not has_capacity(person("ann", open_tasks=4, capacity=5), extra=2)


def test_absence_window_must_be_ordered():
    with pytest.raises(ValueError):
        window("2026-03-10", "2026-03-01")


@pytest.mark.parametrize(
    "body",
    [
        {"team": "claims", "capacity": 0}, {"team": "claims", "capacity": "3"}, {"team": "claims", "capacity": True},
        {"team": "cl#aims", "capacity": 3}, {"team": "claims", "capacity": 3, "openTasks": 2},
        {"team": "claims", "capacity": 3, "outOfOffice": "yes"},
        {"team": "claims", "capacity": 3, "outOfOffice": {"from": "2026-03-01"}},
    ],
    ids=["zero", "string", "bool", "hash-in-team", "counter", "ooo-string", "ooo-half-window"],
)
def test_person_upsert_rejects(body):
    with pytest.raises(ValueError):
        PersonUpsert.model_validate(body)


# -- least loaded ----------------------------------------------------------------------------------


def test_least_loaded_counts_allocated_work_not_only_started_work():
    people = [person("ann", open_tasks=3), person("bea", open_tasks=1), person("cid", open_tasks=2)]
    assert assign_least_loaded(people, team="claims", today=TODAY).username == "bea"


def test_least_loaded_ties_go_by_username_and_skip_the_ineligible():
    people = [person("cid", open_tasks=1), person("bea", open_tasks=1), person("ann", open_tasks=0, away=True)]
    assert assign_least_loaded(people, team="claims", today=TODAY).username == "bea"


def test_least_loaded_with_required_skills():
    people = [person("ann", open_tasks=0), person("bea", open_tasks=4, skills=["claims"])]
    assert assign_least_loaded(people, team="claims", today=TODAY, required_skills=["claims"]).username == "bea"


def test_no_one_eligible_is_none():
    people = [person("ann", away=True), person("bea", open_tasks=5, capacity=5), person("sam", supervisor=True)]
    for policy in AssignmentPolicy:
        assert choose(AssignmentRule(policy=policy), people, team="claims", today=TODAY) is None
    assert assign_least_loaded([], team="claims", today=TODAY) is None


# -- round robin -----------------------------------------------------------------------------------


def test_round_robin_takes_the_next_name_after_the_cursor_and_wraps():
    people = [person("cid"), person("ann"), person("bea")]
    turn = lambda after: assign_round_robin(people, team="claims", today=TODAY, after=after).username  # noqa: E731
    assert [turn(None), turn("ann"), turn("bea"), turn("cid")] == ["ann", "bea", "cid", "ann"]


def test_round_robin_survives_the_last_person_leaving_or_being_away():
    people = [person("ann"), person("bea", away=True), person("dan")]
    # "bea" was last and is now away, "cid" has left: the turn passes to the next name still there.
    assert assign_round_robin(people, team="claims", today=TODAY, after="bea").username == "dan"
    assert assign_round_robin(people, team="claims", today=TODAY, after="cid").username == "dan"
    assert assign_round_robin(people, team="claims", today=TODAY, after="zed").username == "ann"


def test_round_robin_ignores_load():
    people = [person("ann", open_tasks=0), person("bea", open_tasks=4)]
    assert assign_round_robin(people, team="claims", today=TODAY, after="ann").username == "bea"


# -- skills match ----------------------------------------------------------------------------------


def test_skills_match_prefers_the_most_wanted_skills_then_the_least_loaded():
    people = [
        person("ann", skills=["complaints"], open_tasks=0),
        person("bea", skills=["complaints", "billing"], open_tasks=3),
        person("cid", skills=["complaints", "billing", "vip"], open_tasks=4),
        person("dan", skills=["billing", "vip"]),  # lacks the required skill
    ]
    pick = lambda wanted: assign_by_skills(  # noqa: E731
        people, team="claims", today=TODAY, required_skills=["complaints"], wanted=wanted
    ).username
    assert pick(["Billing", "VIP"]) == "cid"
    assert pick(["billing"]) == "bea"
    assert pick([]) == "ann"


# -- plans -----------------------------------------------------------------------------------------


def test_a_plan_sees_the_load_its_own_earlier_picks_added():
    people = [person("ann", open_tasks=1), person("bea", open_tasks=2)]
    plan = plan_assignments(AssignmentRule(policy=LEAST), people, 3, team="claims", today=TODAY)
    assert plan.assignees == ["ann", "ann", "bea"] and plan.cursor is None


def test_a_plan_stops_at_capacity_and_leaves_the_rest_unassigned():
    people = [person("ann", open_tasks=1, capacity=2)]
    plan = plan_assignments(AssignmentRule(policy=LEAST), people, 3, team="claims", today=TODAY)
    assert plan.assignees == ["ann", None, None]


def test_a_round_robin_plan_moves_the_cursor():
    people = [person("ann"), person("bea"), person("cid")]
    plan = plan_assignments(AssignmentRule(policy=ROBIN), people, 2, team="claims", today=TODAY, after="bea")
    assert plan.assignees == ["cid", "ann"] and plan.cursor == "ann"
    nobody = plan_assignments(AssignmentRule(policy=ROBIN), [], 2, team="claims", today=TODAY, after="bea")
    assert nobody.assignees == [None, None] and nobody.cursor is None


def test_supervisor_for_escalations_is_present_and_least_loaded_whatever_the_capacity():
    people = [
        person("sam", supervisor=True, open_tasks=9, capacity=1),
        person("sue", supervisor=True, away=True),
        person("ann"),
        person("sid", team="complaints", supervisor=True),
    ]
    assert pick_supervisor(people, team="claims", today=TODAY).username == "sam"
    assert pick_supervisor(people[1:], team="claims", today=TODAY) is None


# -- rules -----------------------------------------------------------------------------------------


def test_rules_by_case_type_and_priority():
    types = {t.id: t for t in SEED_TYPES}
    claim_high = rule_for(types["CLAIM"].assignment, Priority.HIGH)
    claim_low = rule_for(types["CLAIM"].assignment, Priority.LOW)
    assert (claim_high.policy, claim_high.required_skills) == (LEAST, ["claims"])
    assert (claim_low.policy, claim_low.required_skills) == (LEAST, [])
    assert rule_for(types["CLAIM"].assignment, Priority.CRITICAL) == claim_high
    assert rule_for(types["GENERAL"].assignment, Priority.LOW).policy == ROBIN
    assert rule_for(types["COMPLAINT"].assignment, Priority.MEDIUM).policy == SKILLS
    assert rule_for([], Priority.LOW).policy == LEAST
    assert all(t.tasks for t in SEED_TYPES)


# -- tasks -----------------------------------------------------------------------------------------


def test_task_ids_carry_their_case_and_fit_a_path_parameter():
    tid = task_id("0123456789abcdef0123456789abcdef", 1234567890)
    assert case_id_of(tid) == "0123456789abcdef0123456789abcdef" and len(tid) <= 64
    assert case_id_of("case-0001-t12") == "case-0001"
    for bad in ("nope", "case-t", "case-tx", "-t1"):
        assert case_id_of(bad) is None


def test_inbox_keys_follow_the_task():
    queued = Task(
        id="case-1-t2", case_id="case-1", type="ASSESS", title="Assess", assignee=None, team="claims",
        status=TaskStatus.OPEN, required=True, due_at="2026-03-04T12:00:00.000Z", created_at="2026-03-01T12:00:00.000Z",
        version=1,
    )
    assert inbox_key(queued) == "TEAM#claims"
    mine = claimed(queued, "ann")
    assert (inbox_key(mine), mine.version) == ("USER#ann", 2)
    assert inbox_sort_key(mine) == f"TASK#{mine.due_at}#{mine.id}"
    done = completed(mine, "ann", "2026-03-01T13:00:00.000Z", "paid", None)
    assert done.status == TaskStatus.DONE and inbox_key(done) is None
    with pytest.raises(Conflict):
        completed(done, "ann", "2026-03-01T13:00:00.000Z", None, None)
    with pytest.raises(Conflict):
        claimed(mine, "bea")


def test_bulk_reassignment_takes_exactly_one_source():
    assert BulkReassignment.model_validate({"from": "ann", "to": "bea"}).from_ == "ann"
    assert BulkReassignment.model_validate({"taskIds": ["c-t2"], "to": "bea"}).task_ids == ["c-t2"]
    for body in ({"to": "bea"}, {"from": "ann", "taskIds": ["c-t2"], "to": "bea"}, {"taskIds": [], "to": "bea"}):
        with pytest.raises(ValueError):
            BulkReassignment.model_validate(body)


def test_dates_are_compared_as_dates():
    assert is_out_of_office(person("ann", away=window("2026-02-28", "2026-03-01")), date(2026, 3, 1))
