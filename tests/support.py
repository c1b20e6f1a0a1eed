"""Builders shared by the test suites: a settable clock, predictable ids, principals, cases with a valid first
audit event, the writes of cases, comments and events as the services make them; a free port and a bounded wait."""
from __future__ import annotations

import itertools
import socket
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import pytest

from chalicelib.domain import audit
from chalicelib.adapters.memory.case_types import InMemoryCaseTypeStore
from chalicelib.domain.access import Principal
from chalicelib.domain.case_types import CaseType, seed_case_types
from chalicelib.domain.changes import CaseChange
from chalicelib.domain.models import AuditEvent, Case, Comment
from chalicelib.domain.records import IdempotencyRecord
from chalicelib.errors import DomainError
from chalicelib.services.case_types import CaseTypeCatalog

START = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


class FixedClock:
    """Returns the same instant until a test moves it."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class FakeEngine:
    """The workflow engine (Step Functions) as the services see it: records starts and resumes (from several
    threads at once), reports each execution RUNNING unless a test sets `status_of`."""

    def __init__(self) -> None:
        self.started: dict[str, dict[str, Any]] = {}
        self.resumed: list[tuple[str, dict[str, Any]]] = []
        self.status_of: dict[str, str] = {}
        self._lock = threading.Lock()

    def start(self, name: str, payload: dict[str, Any]) -> str:
        self.started.setdefault(name, payload)
        return f"arn:exec:{name}"

    def resume(self, token: str, output: dict[str, Any]) -> bool:
        with self._lock:
            self.resumed.append((token, output))
        return True

    def history(self, execution_id: str) -> list[dict[str, Any]]:
        return [{"state": "Initiate", "enteredAt": "t0", "exitedAt": "t1"}]

    def status(self, execution_id: str) -> str:
        return self.status_of.get(execution_id, "RUNNING")


class SequentialIds:
    def __init__(self, prefix: str = "id") -> None:
        self._counter = itertools.count(1)
        self._prefix = prefix

    def __call__(self) -> str:
        return f"{self._prefix}-{next(self._counter):04d}"


def principal(username: str, *groups: str, team: str | None = None) -> Principal:
    return Principal(username=username, groups=frozenset(groups), team=team)


def fields_of(error: DomainError) -> list[str]:
    return [d.field for d in error.details]


def iso_at(minute: int) -> str:
    return (START + timedelta(minutes=minute)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_case(case_id: str = "case-1", *, minute: int = 0, **overrides: Any) -> tuple[Case, AuditEvent]:
    """A stored-shape case (audit head set) and its CASE_CREATED event."""
    created = iso_at(minute)
    values: dict[str, Any] = dict(
        id=case_id, number=f"CASE-2026-{case_id}", title="Boiler broken",
        description="", case_type="GENERAL", priority="MEDIUM", customer_id="CUST-1", status="NEW",
        version=1, team="general", created_at=created, created_by="alice", updated_at=created,
        updated_by="alice", due_at="2026-03-06T12:00:00.000Z",
    )
    values.update(overrides)
    case = Case(**values)
    event = audit.next_event(
        case_id=case.id, prev_seq=0, prev_hash="", type="CASE_CREATED", actor=case.created_by,
        at=case.created_at, data={"case": case.to_api()},
    )
    return case.model_copy(update={"audit_seq": event.seq, "audit_hash": event.hash}), event


def changed(case: Case, actor: str = "alice", **changes: Any) -> tuple[Case, AuditEvent]:
    """The next version of `case` with `changes` applied, and the CASE_UPDATED event to append."""
    event = audit.next_event(
        case_id=case.id, prev_seq=case.audit_seq, prev_hash=case.audit_hash, type="CASE_UPDATED",
        actor=actor, at=case.updated_at, data={"changes": {k: str(v) for k, v in changes.items()}},
    )
    updated = Case.model_validate(
        {**case.model_dump(), **changes, "version": case.version + 1, "updated_by": actor}
    ).model_copy(update={"audit_seq": event.seq, "audit_hash": event.hash})
    return updated, event


def comment_on(case: Case, comment_id: str, text: str = "Called the customer", *, minute: int = 1,
               author: str = "alice") -> tuple[Comment, AuditEvent]:
    comment = Comment(id=comment_id, case_id=case.id, text=text, author=author, created_at=iso_at(minute))
    event = audit.next_event(
        case_id=case.id, prev_seq=case.audit_seq, prev_hash=case.audit_hash, type="COMMENT_ADDED",
        actor=author, at=comment.created_at, data={"commentId": comment_id, "text": text},
    )
    return comment, event


def concurrently(*actions: Callable[[], Any]) -> None:
    """Run each action on its own thread, released together by a barrier so they race, and wait for them all
    (30 s at most each)."""
    start = threading.Barrier(len(actions))

    def run(action: Callable[[], Any]) -> None:
        start.wait()
        action()

    threads = [threading.Thread(target=run, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
    """The first truthy value of `condition()`, polled every 50 ms; the test fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")
# -- writes as the services make them: one CaseChange each, through the repository's `apply` ---------


def as_read(case: Case, version: int, audit_seq: int, audit_hash: str = "") -> Case:
    """`case` as a writer read it: at that version and audit head."""
    return case.model_copy(update={"version": version, "audit_seq": audit_seq, "audit_hash": audit_hash})


def events_change(case_id: str, expected_audit_seq: int, events: list[AuditEvent], actor: str = "alice") -> CaseChange:
    """A change appending `events` to the case's chain, if its head is still at `expected_audit_seq`."""
    read = as_read(new_case(case_id)[0], 1, expected_audit_seq, events[0].prev_hash if events else "")
    return CaseChange(read, actor, events[-1].at if events else iso_at(0), events=list(events))


def chained(repo: Any, case_id: str, count: int, type: str = "TASK_CREATED") -> tuple[int, list[AuditEvent]]:
    """`count` events following the case's stored head; returns (expected head seq, events)."""
    head = repo.get_case(case_id)
    change = CaseChange(head, "system", iso_at(0))
    for _ in range(count):
        change.append(type, {})
    return head.audit_seq, change.events


def create_case(repo: Any, case: Case, event: AuditEvent, record: IdempotencyRecord | None = None) -> None:
    change = CaseChange(as_read(case, case.version, 0), case.created_by, case.created_at, new=True, events=[event])
    if record is not None:
        change.put(record)
    repo.apply(change)


def save_case(repo: Any, case: Case, expected_version: int, expected_audit_seq: int, event: AuditEvent) -> None:
    """Replace the case (at its next version) and append its event, if still at the version and head given."""
    read = as_read(case, expected_version, expected_audit_seq, event.prev_hash)
    repo.apply(CaseChange(read, case.updated_by, case.updated_at, events=[event], moved=True))


def add_comment(repo: Any, comment: Comment, expected_audit_seq: int, event: AuditEvent) -> None:
    change = events_change(comment.case_id, expected_audit_seq, [event], comment.author)
    change.put(comment)
    repo.apply(change)


# The seed case types as their first versions, for tests that read a type's rules directly.
SEED_TYPES = tuple(CaseType(**dict(seed)) for seed in seed_case_types())


def case_types(*types: CaseType) -> CaseTypeCatalog:
    """A catalog on an in-memory store: of the seed types (written on first use), or of exactly `types`."""
    store = InMemoryCaseTypeStore()
    if not types:
        return CaseTypeCatalog(store, lambda: ())
    for case_type in types:
        store.create(case_type)
    return CaseTypeCatalog(store, lambda: (), seeds=tuple)


def definition_of(catalog: CaseTypeCatalog, case_type_id: str, **changes: Any) -> dict[str, Any]:
    """A type's current rules as an admin would send them to publish its next version, with `changes`."""
    current = catalog.current(case_type_id)
    assert current is not None, f"{case_type_id} is a type of the catalog"
    rules = current.model_dump(by_alias=True, exclude={"id", "version", "retired", "published_at", "published_by"})
    return {**rules, **changes}
