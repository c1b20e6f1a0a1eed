"""The case as it was: the audit chain folded back into the case, event type by event type, checked against
the case the real writers stored after each of their changes; instants, verification and what the chain cannot
state."""
from __future__ import annotations

import ast
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from chalicelib.adapters.memory.cases import InMemoryCaseRepository
from chalicelib.adapters.memory.tokens import InMemoryTokenStore
from chalicelib.adapters.memory.work import InMemoryWorkRepository
from chalicelib.domain.approvals import case_write
from chalicelib.domain.case_as_of import (
    ANNOTATIONS, KNOWN_EVENTS, NotYetCreated, as_of, events_until, parse_instant, rebuild,
)
from chalicelib.domain.case_types import CaseTypeRules
from chalicelib.domain.changes import CaseChange
from chalicelib.domain.clock import iso
from chalicelib.domain.customers import CustomerView, FieldValue, SourceState, SourceStatus, ViewStatus
from chalicelib.domain.models import AuditEvent, Case, CaseStatus
from chalicelib.errors import InvalidInput, NotFound
from chalicelib.services.case_types import CaseTypeCatalog
from chalicelib.services.cases import CaseNumbers, CaseService
from chalicelib.services.migrations import CaseMigrations
from chalicelib.services.tasks import TaskService
from chalicelib.services.workflow import Stage, WorkflowService
from chalicelib.settings import DEFAULT_WAIT_SECONDS
from tests.support import FixedClock, SequentialIds, definition_of, fields_of, principal, case_types
from tests.unit.test_workflow_service import FakeEngine, FakeWork

ROOT = Path(__file__).resolve().parents[2]
ALICE = principal("alice", "caseworker", team="claims")
SAM = principal("sam", "supervisor", team="claims")
ADA = principal("ada", "admin", team="ops")


def _snapshot(customer_id: str) -> CustomerView:
    return CustomerView(
        customer_id=customer_id, status=ViewStatus.COMPLETE, assembled_at="2026-03-01T11:59:00.000Z",
        fields={"name": FieldValue(value="Ada Lovelace", source="crm", as_of="2026-02-01T00:00:00Z", age_seconds=60)},
        sources=[SourceStatus(product="crm", status=SourceState.OK, as_of="2026-02-01T00:00:00Z",
                              freshness_sla_seconds=86400)],
    )


def _without(shown: dict[str, Any], paths: list[str]) -> dict[str, Any]:
    shown = {**shown}
    for path in paths:
        head, _, rest = path.partition(".")
        if rest and isinstance(shown.get(head), dict):
            shown[head] = _without(shown[head], [rest])
        else:
            shown.pop(head, None)
    return shown


def _general_with_fields() -> CaseTypeCatalog:
    """The seed types, GENERAL at a version 2 with custom fields (the case's values are edited and cleared)."""
    types = case_types()
    fields = [{"name": "floor", "label": "Floor", "type": "integer"},
              {"name": "insured", "label": "Insured", "type": "boolean"}]
    types.publish(principal("root", "admin"), "GENERAL", definition_of(types, "GENERAL", fields=fields), '"1"')
    return types


class Writers:
    """The services that write a case's events, on one in-memory store, with a clock moved a minute per step."""

    def __init__(self) -> None:
        self.repo, self.clock = InMemoryCaseRepository(), FixedClock()
        self.catalog = types = _general_with_fields()
        self.cases = CaseService(self.repo, types, CaseNumbers(self.repo), clock=self.clock,
                                 new_id=SequentialIds("case"), customer_snapshot=_snapshot)
        self.engine, self.work = FakeEngine(), FakeWork()
        self.workflow = WorkflowService(self.repo, lambda: self.engine, InMemoryTokenStore(), self.work,
                                        types, dict(DEFAULT_WAIT_SECONDS), self.clock,
                                        conditions={Stage.APPROVAL: lambda case: None})
        self.case_id = ""
        self.types: list[str] = []

    def stored(self) -> Case:
        case = self.repo.get_case(self.case_id)
        assert case is not None
        return case

    def step(self, write: Any) -> None:
        """Run one write, then check that the chain rebuilds the stored case exactly (but what it cannot state)."""
        self.clock.advance(minutes=1)
        write()
        events = self.repo.list_events(self.case_id)
        self.types += [e.type for e in events[len(self.types):]]
        stored = self.stored()
        rebuilt, note = rebuild(events)
        assert _without(rebuilt.to_api(), note.missing) == _without(stored.to_api(), note.missing), events[-1].type
        assert (rebuilt.audit_seq, rebuilt.audit_hash) == (stored.audit_seq, stored.audit_hash)
        assert note.unknown_events == []

    def decide(self, type: str, data: dict[str, Any], actor: str = "ava", **moves: Any) -> None:
        case = self.stored()
        self.repo.apply(case_write(case, type=type, actor=actor, at=iso(self.clock()), data=data, **moves))

    def annotate(self, type: str) -> None:
        change = CaseChange(self.stored(), "alice", iso(self.clock()))
        change.append(type, {"note": type})
        self.repo.apply(change)


def _written_event_types() -> set[str]:
    """Every audit event type the services write: the string constants given to the calls that append events."""
    appending = {"append", "case_write", "_move", "_transition"}
    found: set[str] = set()
    for path in [*(ROOT / "chalicelib" / "services").glob("*.py"), ROOT / "chalicelib" / "domain" / "approvals.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name not in appending:
                continue
            values = [*node.args, *(k.value for k in node.keywords if k.arg in ("type", "event"))]
            for value in values:
                for leaf in ([value.body, value.orelse] if isinstance(value, ast.IfExp) else [value]):
                    if isinstance(leaf, ast.Constant) and isinstance(leaf.value, str) and leaf.value.isupper():
                        found.add(leaf.value)
    return found


@pytest.fixture(scope="module")
def lifecycle() -> Writers:
    """One case through every kind of write: edits, comments, the workflow's steps (two more runs: reopened,
    failed and resumed), decisions and payments, and every annotation (tasks, documents, holds)."""
    w = Writers()

    def create() -> None:
        w.case_id = w.cases.create(ALICE, {"title": "Burst pipe", "caseType": "GENERAL", "priority": "LOW",
                                           "customerId": "CUST-7", "tags": ["water"], "fields": {"floor": 2},
                                           "compensation": {"amount": "100.00", "currency": "EUR"}}).id

    def edit(**fields: Any) -> Any:
        return lambda: w.cases.update(ALICE, w.case_id, fields, f'"{w.stored().version}"')

    w.step(create)
    w.step(edit(title="Burst pipe in the kitchen", tags=["water", "kitchen"]))
    w.step(edit(priority="HIGH", description="Since Monday"))
    w.step(edit(fields={"insured": True, "floor": 3}))
    w.step(edit(fields={"floor": None}, title="Burst pipe, kitchen"))
    w.step(lambda: w.cases.add_comment(ALICE, w.case_id, {"text": "Called the customer"}))
    w.step(lambda: w.workflow.initiate(w.case_id, "exec-1"))
    w.step(lambda: w.workflow.assign(w.case_id))
    w.step(lambda: w.workflow.wait(w.case_id, Stage.APPROVAL, "token-1", "exec-1"))
    w.step(lambda: w.workflow.escalate(w.case_id, Stage.APPROVAL))
    w.step(lambda: w.decide("APPROVAL_REQUESTED", {"approvalId": "a1", "level": 1}, actor="workflow"))
    w.step(lambda: w.decide("APPROVAL_EXPIRED", {"approvalId": "a1", "level": 1}, actor="workflow"))
    w.step(lambda: w.decide("APPROVAL_DECIDED", {"approvalId": "a2", "final": True}, status=CaseStatus.APPROVED))
    w.step(lambda: w.decide("COMPENSATION_INSTRUCTED", {"instructionId": "i1"}, actor="workflow",
                            status=CaseStatus.COMPENSATION, stage=Stage.COMPENSATION))
    w.step(lambda: w.decide("PAYMENT_HELD", {"instructionId": "i1"}, actor="workflow"))
    w.step(lambda: w.decide("PAYMENT_VOIDED", {"instructionId": "i1"}, actor="fin"))
    w.step(lambda: w.decide("COMPENSATION_RESUMED", {"instructionId": "i2"}, actor="workflow",
                            status=CaseStatus.COMPENSATION, stage=Stage.COMPENSATION))  # already there: no move
    w.step(lambda: w.decide("PAYMENT_CONFIRMED", {"instructionId": "i2"}, actor="fin"))
    for annotation in sorted(ANNOTATIONS - {"COMMENT_ADDED"}):
        w.step(lambda annotation=annotation: w.annotate(annotation))
    w.step(lambda: w.workflow.complete(w.case_id))
    w.step(lambda: w.workflow.reopen(ALICE, w.stored()))
    w.step(lambda: w.workflow.initiate(w.case_id, "exec-2"))
    w.step(lambda: w.workflow.rollback(w.case_id, {"Error": "States.TaskFailed", "Cause": "boom"}))
    w.step(lambda: w.workflow.resume(SAM, w.stored()))
    w.step(lambda: w.workflow.initiate(w.case_id, "exec-3"))
    w.step(lambda: w.workflow.assign(w.case_id))
    w.step(lambda: _migrated(w))
    return w


def _migrated(w: Writers) -> None:
    """An admin publishes GENERAL version 3 (a shorter SLA, a required document) and moves the case to it."""
    catalog = w.catalog
    general = catalog.for_new_case("GENERAL")
    rules = general.model_dump(mode="json", by_alias=True, include=set(CaseTypeRules.model_fields))
    catalog.publish(ADA, "GENERAL", {**rules, "slaHours": {**rules["slaHours"], "HIGH": 1},
                                     "requiredDocuments": ["bill"]}, '"2"')
    tasks = TaskService(w.repo, InMemoryWorkRepository(w.repo), InMemoryWorkRepository(w.repo), catalog, w.clock)
    answer = CaseMigrations(w.repo, catalog, tasks, w.clock).migrate(
        ADA, "GENERAL", {"targetVersion": 3, "caseIds": [w.case_id], "apply": True},
    )
    assert answer.migrated == [w.case_id]


class TestFoldingEveryEventType:
    def test_every_event_type_the_services_write_is_known_and_folded_here(self, lifecycle):
        written = _written_event_types()
        assert {"CASE_CREATED", "TASK_CLAIMED", "APPROVAL_DECIDED", "WORKFLOW_STARTED"} <= written  # the scan works
        assert written <= KNOWN_EVENTS, f"fold these in domain/case_as_of.py: {sorted(written - KNOWN_EVENTS)}"
        assert KNOWN_EVENTS <= set(lifecycle.types), sorted(KNOWN_EVENTS - set(lifecycle.types))

    def test_the_fold_arrives_at_the_stored_version_runs_and_status(self, lifecycle):
        # Writers.step compared every intermediate state with the stored one; here: what the last one holds.
        case, note = rebuild(lifecycle.repo.list_events(lifecycle.case_id))
        stored = lifecycle.repo.get_case(lifecycle.case_id)
        assert case.version == stored.version > 15 and case.status == CaseStatus.IN_PROGRESS
        assert case.fields == stored.fields == {"insured": True}  # floor set, changed, then cleared
        assert case.workflow is not None and case.workflow.run == 3
        assert case.workflow.executions == ["exec-1", "exec-2", "exec-3"] and case.workflow.stage == Stage.ASSIGNED
        assert note.missing == ["customerSnapshot.fields"] and note.complete is False

    def test_the_customers_personal_fields_are_never_rebuilt(self, lifecycle):
        case, _ = rebuild(lifecycle.repo.list_events(lifecycle.case_id))
        assert case.customer_snapshot is not None and case.customer_snapshot.fields == {}
        assert case.customer_snapshot.sources[0].product == "crm"  # what the trail keeps: sources and ages

    def test_a_workflow_time_that_only_the_step_knew_is_marked_missing(self, lifecycle):
        events = lifecycle.repo.list_events(lifecycle.case_id)
        started = next(i for i, e in enumerate(events) if e.type == "WORKFLOW_STARTED")
        case, note = rebuild(events[:started + 1])
        assert case.workflow is not None and case.workflow.updated_at is None and case.workflow.stage == "INITIATED"
        assert note.missing == ["customerSnapshot.fields", "workflow.updatedAt"]
        assigned = rebuild(events[:started + 2])  # the next stage is stamped with its event's time
        assert assigned[1].missing == ["customerSnapshot.fields"]
        assert assigned[0].workflow is not None and assigned[0].workflow.updated_at == events[started + 1].at

    def test_an_unknown_event_type_is_named_not_guessed(self, lifecycle):
        events = lifecycle.repo.list_events(lifecycle.case_id)[:3]
        odd = events[-1].model_copy(update={"type": "SOMETHING_NEW", "seq": 4})
        case, note = rebuild([*events, odd])
        assert note.unknown_events == ["SOMETHING_NEW"] and note.complete is False
        assert case.version == rebuild(events)[0].version


def _chain(lifecycle: Writers) -> list[AuditEvent]:
    return lifecycle.repo.list_events(lifecycle.case_id)


def _at(event: AuditEvent, **delta: float) -> datetime:
    return datetime.fromisoformat(event.at) + timedelta(**delta)


class TestAsOf:
    def test_between_two_edits_the_case_has_the_first_edit_only(self, lifecycle):
        events = _chain(lifecycle)
        case = lifecycle.repo.get_case(lifecycle.case_id)
        then = as_of(events, _at(events[1], seconds=30), (case.audit_seq, case.audit_hash))
        assert then.title == "Burst pipe in the kitchen" and then.priority.value == "LOW" and then.version == 2
        assert (then.as_of.seq, then.as_of.hash, then.as_of.verified) == (2, events[1].hash, True)
        assert then.as_of.at == "2026-03-01T12:02:30Z"

    def test_an_instant_equal_to_an_events_time_includes_that_event(self, lifecycle):
        events = _chain(lifecycle)
        case = lifecycle.repo.get_case(lifecycle.case_id)
        assert as_of(events, _at(events[2]), (case.audit_seq, case.audit_hash)).as_of.seq == 3

    def test_before_the_first_event_the_case_did_not_exist(self, lifecycle):
        events = _chain(lifecycle)
        with pytest.raises(NotYetCreated):
            as_of(events, _at(events[0], milliseconds=-1), (1, events[0].hash))

    def test_a_tampered_event_before_the_instant_fails_verification_a_later_one_does_not(self, lifecycle):
        events = _chain(lifecycle)
        case = lifecycle.repo.get_case(lifecycle.case_id)
        head = (case.audit_seq, case.audit_hash)
        early = [events[0], events[1].model_copy(update={"actor": "mallory"}), *events[2:]]
        assert as_of(early, _at(events[2]), head).as_of.verified is False
        late = [*events[:-1], events[-1].model_copy(update={"actor": "mallory"})]
        assert as_of(late, _at(events[2]), head).as_of.verified is True

    def test_newest_events_removed_from_the_store_do_not_verify(self, lifecycle):
        events = _chain(lifecycle)
        case = lifecycle.repo.get_case(lifecycle.case_id)
        now = _at(events[-1], minutes=1)
        assert as_of(events, now, (case.audit_seq, case.audit_hash)).as_of.verified is True
        assert as_of(events[:-2], now, (case.audit_seq, case.audit_hash)).as_of.verified is False

    def test_the_cut_stops_at_the_first_event_stamped_later(self, lifecycle):
        events = _chain(lifecycle)[:4]
        backdated = [*events[:2], events[2], events[3].model_copy(update={"at": events[1].at})]
        assert [e.seq for e in events_until(backdated, _at(events[1]))] == [1, 2]


class TestInstants:
    @pytest.mark.parametrize("text, expected", [
        ("2026-03-01T12:00:00Z", datetime(2026, 3, 1, 12, tzinfo=timezone.utc)),
        ("2026-03-01t13:30:00.25+01:30", datetime(2026, 3, 1, 12, 0, 0, 250_000, tzinfo=timezone.utc)),
        ("2026-03-01T12:00:00.1234567z", datetime(2026, 3, 1, 12, 0, 0, 123_456, tzinfo=timezone.utc)),
        ("2016-12-31T23:59:60Z", datetime(2016, 12, 31, 23, 59, 59, 999_999, tzinfo=timezone.utc)),
        ("0000-01-01T00:00:00Z", datetime.min.replace(tzinfo=timezone.utc)),
        ("9999-12-31T23:59:59-05:00", datetime.max.replace(tzinfo=timezone.utc)),
    ])
    def test_rfc_3339_instants_read_as_utc(self, text, expected):
        assert parse_instant(text) == expected

    @pytest.mark.parametrize("text", [
        "yesterday", "2026-03-01", "2026-03-01T12:00:00", "2026-03-01T12:00Z", "2026-03-01 12:00:00Z",
        "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-03-01T12:00:00+24:00", "20260301T120000Z", "",
    ])
    def test_anything_else_is_refused(self, text):
        with pytest.raises(ValueError):
            parse_instant(text)


class TestService:
    @pytest.fixture
    def service_and_case(self) -> tuple[CaseService, Case, FixedClock]:
        repo, clock = InMemoryCaseRepository(), FixedClock()
        service = CaseService(repo, case_types(), CaseNumbers(repo), clock=clock, new_id=SequentialIds("case"))
        case = service.create(ALICE, {"title": "Old title", "caseType": "GENERAL", "priority": "LOW",
                                      "customerId": "CUST-7"})
        clock.advance(minutes=5)
        service.update(ALICE, case.id, {"title": "New title"}, '"1"')
        clock.advance(minutes=5)
        return service, case, clock

    def test_reads_the_old_title_before_the_patch(self, service_and_case):
        service, case, _ = service_and_case
        then = service.read_as_of(ALICE, case.id, "2026-03-01T12:01:00Z")
        assert then.title == "Old title" and then.as_of.verified and then.rebuilt.complete
        assert service.read_as_of(ALICE, case.id, "2026-03-01T12:06:00+00:00").title == "New title"

    def test_before_the_case_existed_it_is_not_found(self, service_and_case):
        service, case, _ = service_and_case
        with pytest.raises(NotFound):
            service.read_as_of(ALICE, case.id, "2026-03-01T11:59:59.999Z")

    @pytest.mark.parametrize("instant", ["not-a-date", "2026-03-01", "2026-03-01T12:20:00.001Z"])
    def test_a_malformed_or_future_instant_is_a_400_naming_as_of(self, service_and_case, instant):
        service, case, _ = service_and_case
        with pytest.raises(InvalidInput) as caught:
            service.read_as_of(ALICE, case.id, instant)
        assert fields_of(caught.value) == ["asOf"]

    def test_a_case_you_may_not_see_now_is_not_found_at_any_instant(self, service_and_case):
        service, case, _ = service_and_case
        with pytest.raises(NotFound):
            service.read_as_of(principal("bob", "caseworker", team="complaints"), case.id, "2026-03-01T12:06:00Z")
