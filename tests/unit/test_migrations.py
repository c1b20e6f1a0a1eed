"""Migrations of running cases between type versions: the pure plan (domain/migrations.py) and the use case on
the in-memory stores (services/migrations.py): preview, apply in one audited write, tasks after, refusals."""
from __future__ import annotations

from typing import Any

import pytest

from chalicelib.adapters.memory.case_types import InMemoryCaseTypeStore
from chalicelib.adapters.memory.cases import InMemoryCaseRepository
from chalicelib.adapters.memory.work import InMemoryWorkRepository
from chalicelib.domain import audit
from chalicelib.domain.case_as_of import rebuild
from chalicelib.domain.case_types import CaseType
from chalicelib.domain.custom_fields import FieldDefinition
from chalicelib.domain.integration_events import integration_event
from chalicelib.domain.migrations import plan
from chalicelib.domain.models import CaseStatus, WorkflowState
from chalicelib.domain.personnel import Person
from chalicelib.domain.tasks import Task, TaskStatus, TaskTemplate
from chalicelib.errors import Forbidden, InvalidInput, NotFound
from chalicelib.services.case_types import CaseTypeCatalog
from chalicelib.services.migrations import CaseMigrations
from chalicelib.services.tasks import TaskService
from tests.support import FixedClock, create_case, fields_of, new_case, principal

ADA = principal("ada", "admin", team="ops")
ALICE = principal("alice", "caseworker", team="claims")
SLA = {"LOW": 100, "MEDIUM": 50, "HIGH": 20, "CRITICAL": 5}


def version(n: int, *, tasks=("CHECK", "CALL"), sla=None, fields=(), documents=(), **rules: Any) -> CaseType:
    return CaseType(
        id="WARRANTY", name="Warranty claim", version=n, team="claims", sla_hours=sla or SLA,
        tasks=[TaskTemplate(type=t, title=t.title()) for t in tasks], fields=list(fields),
        required_documents=list(documents), **rules,
    )


POLICY = FieldDefinition(name="policyNumber", label="Policy number", type="string", required=True)
V1 = version(1, fields=[FieldDefinition(name="serial", label="Serial", type="string")])
V2 = version(2, fields=[POLICY])
V3 = version(3, tasks=("CHECK", "INSPECT"), sla={**SLA, "MEDIUM": 10}, documents=("receipt",))


def task(case_id: str, n: int, type: str, status: TaskStatus = TaskStatus.OPEN, run: int = 1) -> Task:
    return Task(id=f"{case_id}-t{n}", case_id=case_id, type=type, title=type, assignee="alice", team="claims",
                status=status, required=True, due_at="2026-03-09T12:00:00.000Z",
                created_at="2026-03-02T12:00:00.000Z", version=1, run=run)


def case_of(**overrides: Any):
    # opened at 12:00 on 1 March, due 50 hours later (V1's MEDIUM SLA, the clock never stopped)
    defaults = dict(case_type="WARRANTY", status="IN_PROGRESS", fields={"serial": "S-1"},
                    workflow=WorkflowState(stage="ASSIGNED"), due_at="2026-03-03T14:00:00.000Z")
    return new_case(**{**defaults, **overrides})[0]


# -- the plan (pure) ------------------------------------------------------------------------------------


class TestPlan:
    def test_a_new_required_field_without_a_value_stops_the_case_and_is_named(self):
        migration = plan(case_of(), V1, V2, [])
        assert not migration.can_migrate and migration.changes is not None
        assert migration.changes.missing_fields == ["policyNumber"]
        assert migration.changes.removed_fields == ["serial"]
        assert migration.reasons == [
            "required field policyNumber has no value; a case sets only its own version's fields: publish the field "
            "as optional, migrate, fill it in, then make it required"
        ]

    def test_tasks_the_target_drops_are_cancelled_and_new_types_added_once_the_workflow_made_tasks(self):
        tasks = [task("case-1", 2, "CHECK"), task("case-1", 3, "CALL"), task("case-1", 4, "ESCALATION"),
                 task("case-1", 1, "OLD", run=0)]
        migration = plan(case_of(fields={}), V1, V3, tasks)
        assert migration.can_migrate and migration.changes is not None
        assert migration.changes.tasks_added == ["INSPECT"]
        assert [(t.task_id, t.type) for t in migration.changes.tasks_cancelled] == [("case-1-t3", "CALL")]

    def test_before_the_workflow_made_tasks_nothing_is_added_or_cancelled(self):
        changes = plan(case_of(fields={}), V1, V3, []).changes
        assert changes is not None and changes.tasks_added == [] and changes.tasks_cancelled == []

    def test_the_due_date_moves_when_the_sla_of_the_priority_differs_and_documents_are_added(self):
        changes = plan(case_of(fields={}, priority="MEDIUM"), V1, V3, []).changes
        assert changes is not None and changes.due_at is not None
        assert (changes.due_at.from_, changes.due_at.to) == ("2026-03-03T14:00:00.000Z", "2026-03-01T22:00:00.000Z")
        stopped = plan(case_of(fields={}, priority="MEDIUM", due_at="2026-03-03T16:00:00.000Z"), V1, V3, [])
        assert stopped.changes.due_at.to == "2026-03-02T00:00:00.000Z"  # the 2 hours its clock was stopped are kept
        assert changes.required_documents_added == ["receipt"]
        assert plan(case_of(fields={}, priority="LOW"), V1, V3, []).changes.due_at is None  # same SLA

    @pytest.mark.parametrize("status, reason", [
        ("CLOSED", "the case is CLOSED"),
        ("PENDING_APPROVAL", "the case is PENDING_APPROVAL: its approval levels and compensation caps"),
        ("COMPENSATION", "the case is COMPENSATION: its approval levels"),
    ])
    def test_a_status_where_moving_is_unsafe_is_a_reason(self, status, reason):
        migration = plan(case_of(fields={}, status=status), V1, V3, [])
        assert not migration.can_migrate and migration.reasons[0].startswith(reason)

    def test_a_case_at_the_target_or_of_another_type_does_not_move(self):
        assert plan(case_of(case_type_version=3), V3, V3, []).reasons == ["the case is already at version 3"]
        other = plan(case_of(case_type="CLAIM"), V1, V3, [])
        assert other.reasons == ["case case-1 is of type CLAIM, not WARRANTY"] and other.changes is None

    def test_a_value_the_target_defines_otherwise_is_a_reason(self):
        strict = version(4, fields=[FieldDefinition(name="serial", label="Serial", type="integer")])
        assert plan(case_of(), V1, strict, []).reasons == ["fields.serial: must be an integer under version 4"]


# -- the use case -------------------------------------------------------------------------------------------


@pytest.fixture
def cases():
    return InMemoryCaseRepository()


@pytest.fixture
def work(cases):
    repository = InMemoryWorkRepository(cases)
    for name in ("alice", "amy"):
        repository.save_person(Person(username=name, team="claims", skills=["claims"], capacity=9))
    return repository


@pytest.fixture
def service(cases, work):
    store = InMemoryCaseTypeStore()
    store.create(V1)
    for published in (V2, V3):  # the versions an admin published since
        store.publish(published)
    catalog = CaseTypeCatalog(store, lambda: (), seeds=tuple)
    tasks = TaskService(cases, work, work, catalog, clock=FixedClock())
    return CaseMigrations(cases, catalog, tasks, clock=FixedClock()), tasks


def stored_case(cases, case_id: str, **overrides: Any):
    defaults = dict(case_type="WARRANTY", status="IN_PROGRESS", team="claims", fields={"serial": "S-1"},
                    workflow=WorkflowState(stage="ASSIGNED"), due_at="2026-03-03T14:00:00.000Z")
    case, event = new_case(case_id, **{**defaults, **overrides})
    create_case(cases, case, event, None)
    return case


def test_a_preview_names_the_missing_field_and_writes_nothing(service, cases):
    migrations, _ = service
    stored_case(cases, "case-1")
    answer = migrations.migrate(ADA, "WARRANTY", {"targetVersion": 2, "caseIds": ["case-1", "nope"], "apply": True})
    assert answer.migrated == [] and answer.refused == ["case-1", "nope"]
    assert answer.cases[1].reasons == ["case nope not found"]
    assert cases.get_case("case-1").case_type_version == 1 and len(cases.list_events("case-1")) == 1


def test_apply_moves_the_case_in_one_audited_write_then_its_tasks(service, cases, work):
    migrations, tasks = service
    case = stored_case(cases, "case-1", fields={})
    tasks.create_for_case(case)  # CHECK and CALL, by the workflow
    preview = migrations.migrate(ADA, "WARRANTY", {"targetVersion": 3, "caseIds": ["case-1"]})
    assert preview.applied is False and preview.cases[0].changes.tasks_added == ["INSPECT"]
    assert cases.get_case("case-1").case_type_version == 1

    answer = migrations.migrate(ADA, "WARRANTY", {"targetVersion": 3, "caseIds": ["case-1"], "apply": True})
    assert answer.migrated == ["case-1"] and answer.refused == []
    moved = cases.get_case("case-1")
    assert moved.case_type_version == 3 and moved.due_at == "2026-03-01T22:00:00.000Z"
    assert moved.required_documents == ["receipt"]
    events = cases.list_events("case-1")
    assert [e.type for e in events[-3:]] == ["CASE_TYPE_MIGRATED", "TASK_CANCELLED", "TASK_CREATED"]
    by_type = {t.type: t.status for t in tasks.case_tasks("case-1")}
    assert by_type == {"CHECK": TaskStatus.OPEN, "CALL": TaskStatus.CANCELLED, "INSPECT": TaskStatus.OPEN}
    assert audit.verify_chain(events, head=(moved.audit_seq, moved.audit_hash)).valid
    rebuilt, note = rebuild(events)  # the fold knows the event: the chain rebuilds the stored case
    assert note.unknown_events == [] and rebuilt.to_api() == moved.to_api()
    published = integration_event(next(e for e in events if e.type == "CASE_TYPE_MIGRATED"))
    assert published["type"] == "case.updated"
    assert published["data"] == {"fields": ["caseTypeVersion", "dueAt", "requiredDocuments"], "version": 2}

    again = migrations.migrate(ADA, "WARRANTY", {"targetVersion": 3, "caseIds": ["case-1"], "apply": True})
    assert again.refused == ["case-1"] and again.cases[0].reasons == ["the case is already at version 3"]
    assert len(cases.list_events("case-1")) == len(events)


def test_all_running_pages_through_the_types_open_cases_at_other_versions(service, cases):
    migrations, _ = service
    for n in range(55):
        stored_case(cases, f"case-{n:02d}", fields={}, minute=n)
    stored_case(cases, "closed", fields={}, status="CLOSED")
    stored_case(cases, "at-target", fields={}, case_type_version=3)
    stored_case(cases, "other", case_type="CLAIM")
    first = migrations.migrate(ADA, "WARRANTY", {"targetVersion": 3, "allRunning": True, "apply": True})
    assert first.next_cursor is not None
    second = migrations.migrate(ADA, "WARRANTY", {"targetVersion": 3, "allRunning": True, "apply": True,
                                                  "cursor": first.next_cursor})
    assert second.next_cursor is None
    assert sorted(first.migrated + second.migrated) == [f"case-{n:02d}" for n in range(55)]
    assert first.refused == second.refused == []


def test_only_admins_migrate_and_the_target_must_exist(service):
    migrations, _ = service
    with pytest.raises(Forbidden):
        migrations.migrate(ALICE, "WARRANTY", {"targetVersion": 3, "caseIds": ["case-1"]})
    with pytest.raises(NotFound):
        migrations.migrate(ADA, "WARRANTY", {"targetVersion": 9, "caseIds": ["case-1"]})
    with pytest.raises(NotFound):
        migrations.migrate(ADA, "NOPE", {"targetVersion": 1, "caseIds": ["case-1"]})


@pytest.mark.parametrize("body, field", [
    ({"targetVersion": 0, "caseIds": ["case-1"]}, "targetVersion"),
    ({"targetVersion": "2", "caseIds": ["case-1"]}, "targetVersion"),
    ({"targetVersion": 2, "caseIds": []}, "caseIds"),
    ({"targetVersion": 2, "caseIds": [f"c{n}" for n in range(101)]}, "caseIds"),
    ({"targetVersion": 2}, "body"),
    ({"targetVersion": 2, "caseIds": ["case-1"], "allRunning": True}, "body"),
    ({"targetVersion": 2, "caseIds": ["case-1"], "cursor": "x"}, "body"),
    ({"targetVersion": 2, "allRunning": True, "cursor": "not-ours"}, "cursor"),
    ({"targetVersion": 2, "caseIds": ["case-1"], "apply": "yes"}, "apply"),
])
def test_a_bad_body_is_a_400_naming_the_field(service, body, field):
    migrations, _ = service
    with pytest.raises(InvalidInput) as refused:
        migrations.migrate(ADA, "WARRANTY", body)
    assert fields_of(refused.value) == [field]


def test_a_case_moved_meanwhile_is_planned_again_before_the_write(service, cases):
    migrations, _ = service
    stored_case(cases, "case-1", fields={})
    preview = migrations.migrate(ADA, "WARRANTY", {"targetVersion": 3, "caseIds": ["case-1"]})
    assert preview.cases[0].can_migrate
    case = cases.get_case("case-1")
    cases.cases["case-1"] = case.model_copy(update={"status": CaseStatus.PENDING_APPROVAL})
    answer = migrations.migrate(ADA, "WARRANTY", {"targetVersion": 3, "caseIds": ["case-1"], "apply": True})
    assert answer.migrated == [] and answer.refused == ["case-1"]
