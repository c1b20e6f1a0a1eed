"""The notification fan-out over the in-memory stores (re-delivery, e-mail preferences, a failing mailer) and a
person's API over their own notifications (another's are not found, cursors, read-all)."""
from __future__ import annotations

from typing import Any

import pytest

from chalicelib.adapters.memory.cases import InMemoryCaseRepository
from chalicelib.adapters.memory.decisions import InMemoryDecisionStore
from chalicelib.adapters.memory.notifications import InMemoryNotificationStore
from chalicelib.adapters.memory.users import InMemoryMailer, InMemoryUserDirectory
from chalicelib.adapters.memory.work import InMemoryWorkRepository
from chalicelib.domain import audit
from chalicelib.domain.models import AuditEvent
from chalicelib.domain.notifications import NotificationKind, PreferencesUpdate
from chalicelib.domain.personnel import Person
from chalicelib.domain.tasks import Task, TaskStatus
from chalicelib.errors import InvalidInput, NotFound
from chalicelib.services.notifications import NotificationFanOut, NotificationService
from tests.support import FixedClock, create_case, new_case, principal


class FailingMailer:
    def send(self, to: str, subject: str, text: str) -> None:
        raise RuntimeError("SES said no")


def task_event(seq: int, assignee: str = "carol") -> AuditEvent:
    task = Task(
        id=f"case-1-t{seq}", case_id="case-1", type="ASSESS", title="Assess", assignee=assignee, team="claims",
        status=TaskStatus.OPEN, required=True, due_at="2026-03-04T12:00:00.000Z",
        created_at="2026-03-01T12:00:00.000Z", version=1,
    )
    return audit.next_event(case_id="case-1", prev_seq=seq - 1, prev_hash="", type="TASK_CREATED", actor="workflow",
                            at=f"2026-03-01T12:{seq:02d}:00.000Z", data={"task": task.to_api()})


def stream_record(event: AuditEvent) -> dict[str, Any]:
    return {"eventID": f"e{event.seq}", "eventName": "INSERT", "dynamodb": {
        "Keys": {"PK": {"S": "CASE#case-1"}, "SK": {"S": f"EVENT#{event.seq:010d}"}},
        "NewImage": {"body": {"S": event.model_dump_json(by_alias=True)}}, "SequenceNumber": str(event.seq)}}


class World:
    """A case, carol in the directory with an e-mail address, and the notification stores."""

    def __init__(self) -> None:
        self.cases = InMemoryCaseRepository()
        case, created = new_case("case-1")
        create_case(self.cases, case, created)
        self.work = InMemoryWorkRepository(self.cases)
        self.work.save_person(Person(username="carol", team="claims", capacity=5))
        self.store = InMemoryNotificationStore()
        self.users = InMemoryUserDirectory(emails={"carol": "carol@example.com"})
        self.service = NotificationService(self.store, FixedClock())

    def fan_out(self, mailer: Any) -> NotificationFanOut:
        decisions = InMemoryDecisionStore(self.cases)
        return NotificationFanOut(self.cases, self.work, decisions, self.work, self.store, self.users, mailer)


@pytest.fixture
def world() -> World:
    return World()


def test_a_redelivered_record_notifies_once(world: World):
    fan_out = world.fan_out(None)
    record = stream_record(task_event(3))
    assert fan_out.on_records([record]) == []
    assert fan_out.on_records([record, record]) == []
    page = world.service.list(principal("carol", "caseworker"), None, 25, None)
    assert [n.kind for n in page.items] == [NotificationKind.TASK_ASSIGNED]


def test_records_that_are_not_audit_events_are_ignored(world: World):
    note = {"eventID": "n", "eventName": "INSERT", "dynamodb": {"Keys": {"PK": {"S": "NOTIFY#carol"},
                                                                          "SK": {"S": "NOTE#1-ab"}}}}
    assert world.fan_out(None).on_records([note]) == []


def test_the_case_is_read_only_for_events_a_rule_handles(world: World):
    reads: list[str] = []
    get_case = world.cases.get_case

    def counted(case_id: str) -> Any:
        reads.append(case_id)
        return get_case(case_id)

    world.cases.get_case = counted  # type: ignore[method-assign]
    started = audit.next_event(case_id="case-1", prev_seq=2, prev_hash="", type="WORKFLOW_STARTED", actor="workflow",
                               at="2026-03-01T12:02:00.000Z", data={"executionId": "x"})
    fan_out = world.fan_out(None)
    assert fan_out.on_records([stream_record(started)]) == [] and reads == []
    assert fan_out.on_records([stream_record(task_event(3))]) == [] and reads == ["case-1"]
    assert len(world.service.list(principal("carol", "caseworker"), None, 25, None).items) == 1
    # A batch reads each case once, however many of its events it holds.
    assert fan_out.on_records([stream_record(task_event(4)), stream_record(task_event(5, "dave"))]) == []
    assert reads == ["case-1", "case-1"]
    assert len(world.service.list(principal("dave", "caseworker"), None, 25, None).items) == 1


def test_email_only_for_opted_in_kinds_and_once(world: World):
    mailer = InMemoryMailer()
    fan_out = world.fan_out(mailer)
    fan_out.on_records([stream_record(task_event(3))])
    assert mailer.sent == []  # off by default
    carol = principal("carol", "caseworker")
    world.service.update_preferences(carol, PreferencesUpdate(emailKinds=[NotificationKind.TASK_ASSIGNED]))
    fan_out.on_records([stream_record(task_event(4))] * 2)
    [(to, subject, text)] = mailer.sent
    assert to == "carol@example.com" and "Assess" in subject and "case-1-t4" in text


def test_a_failing_mailer_never_blocks_the_notification(world: World):
    carol = principal("carol", "caseworker")
    world.service.update_preferences(carol, PreferencesUpdate(emailKinds=list(NotificationKind)))
    assert world.fan_out(FailingMailer()).on_records([stream_record(task_event(3))]) == []
    assert world.service.unread_count(carol).unread == 1


def test_people_read_and_mark_only_their_own(world: World):
    world.fan_out(None).on_records([stream_record(task_event(3)), stream_record(task_event(4, "dave"))])
    carol, dave = principal("carol", "caseworker"), principal("dave", "caseworker")
    [mine] = world.service.list(carol, None, 25, None).items
    with pytest.raises(NotFound):
        world.service.mark_read(dave, mine.id)
    marked = world.service.mark_read(carol, mine.id)
    assert marked.read_at == FixedClock()().isoformat(timespec="milliseconds").replace("+00:00", "Z")
    assert world.service.mark_read(carol, mine.id).read_at == marked.read_at  # again: unchanged
    assert world.service.unread_count(carol).unread == 0 and world.service.unread_count(dave).unread == 1


def test_pages_newest_first_with_a_cursor_bound_to_the_caller_and_filter(world: World):
    world.fan_out(None).on_records([stream_record(task_event(seq)) for seq in range(3, 8)])
    carol = principal("carol", "caseworker")
    first = world.service.list(carol, None, 2, None)
    second = world.service.list(carol, None, 2, first.next_cursor)
    third = world.service.list(carol, None, 2, second.next_cursor)
    ids = [n.task_id for page in (first, second, third) for n in page.items]
    assert ids == [f"case-1-t{seq}" for seq in (7, 6, 5, 4, 3)] and third.next_cursor is None
    with pytest.raises(InvalidInput):
        world.service.list(carol, "true", 2, first.next_cursor)  # another filter
    with pytest.raises(InvalidInput):
        world.service.list(principal("dave", "caseworker"), None, 2, first.next_cursor)  # another person
    with pytest.raises(InvalidInput):
        world.service.list(carol, "yes", 25, None)


def test_read_all_marks_every_unread_one(world: World):
    world.fan_out(None).on_records([stream_record(task_event(seq)) for seq in range(3, 6)])
    carol = principal("carol", "caseworker")
    world.service.mark_read(carol, world.service.list(carol, None, 1, None).items[0].id)
    assert world.service.mark_all_read(carol).marked == 2
    assert world.service.list(carol, "true", 25, None).items == []
    assert world.service.unread_count(carol).unread == 0
