"""One contract, two notification stores: the in-memory twin and DynamoDB (a fresh table in moto), through
the `backend` fixture."""
from __future__ import annotations

from typing import Optional

import pytest

from chalicelib.adapters.dynamo.notifications import DynamoNotificationStore
from chalicelib.adapters.memory.cases import InMemoryCaseRepository
from chalicelib.adapters.memory.notifications import InMemoryNotificationStore
from chalicelib.domain.notifications import Notification, NotificationKind, Preferences, notification_id
from chalicelib.ports import NotificationStore


@pytest.fixture
def store(backend, request: pytest.FixtureRequest) -> NotificationStore:
    if isinstance(backend.cases, InMemoryCaseRepository):
        return InMemoryNotificationStore()
    return DynamoNotificationStore(request.getfixturevalue("dynamo_models"))


def note(seq: int, recipient: str = "carol", read_at: Optional[str] = None) -> Notification:
    at = f"2026-03-01T12:{seq // 60:02d}:{seq % 60:02d}.000Z"
    return Notification(
        id=notification_id(at, "case-1", seq, recipient), recipient=recipient, kind=NotificationKind.TASK_ASSIGNED,
        case_id="case-1", case_number="CASE-2026-000001", task_id=f"case-1-t{seq}", text="Task assigned",
        actor="workflow", created_at=at, audit_seq=seq, read_at=read_at,
    )


def test_add_is_put_if_absent(store: NotificationStore):
    assert store.add(note(1)) is True
    assert store.add(note(1).model_copy(update={"text": "another"})) is False
    assert store.get("carol", note(1).id) == note(1)


def test_nobody_gets_anothers_notification(store: NotificationStore):
    store.add(note(1))
    assert store.get("dave", note(1).id) is None
    assert store.mark_read("dave", note(1).id, "2026-03-02T00:00:00.000Z") is None
    assert store.page("dave", False, 10, None) == ([], None)
    assert store.count_unread("dave", 100) == 0


def test_pages_newest_first(store: NotificationStore):
    for seq in range(1, 6):
        store.add(note(seq))
    store.add(note(9, "dave"))
    first, after = store.page("carol", False, 2, None)
    second, after2 = store.page("carol", False, 2, after)
    third, after3 = store.page("carol", False, 2, after2)
    assert [n.audit_seq for n in first + second + third] == [5, 4, 3, 2, 1]
    assert after3 is None
    full, end = store.page("carol", False, 5, None)
    assert len(full) == 5 and end is None  # exactly a page: no cursor to an empty one


def test_mark_read_once_and_unread_listing_and_count(store: NotificationStore):
    for seq in range(1, 5):
        store.add(note(seq))
    marked = store.mark_read("carol", note(3).id, "2026-03-02T00:00:00.000Z")
    assert marked is not None and marked.read_at == "2026-03-02T00:00:00.000Z"
    again = store.mark_read("carol", note(3).id, "2026-03-03T00:00:00.000Z")
    assert again is not None and again.read_at == "2026-03-02T00:00:00.000Z"
    assert store.get("carol", note(3).id) == marked
    unread, _ = store.page("carol", True, 10, None)
    assert [n.audit_seq for n in unread] == [4, 2, 1]
    first, after = store.page("carol", True, 2, None)
    rest, end = store.page("carol", True, 2, after)
    assert [n.audit_seq for n in first + rest] == [4, 2, 1] and end is None
    assert store.count_unread("carol", 100) == 3
    assert store.count_unread("carol", 2) == 2


def test_a_notification_stored_read_is_not_unread(store: NotificationStore):
    store.add(note(1, read_at="2026-03-02T00:00:00.000Z"))
    assert store.count_unread("carol", 100) == 0
    assert store.page("carol", True, 10, None) == ([], None)


def test_preferences_default_to_no_email(store: NotificationStore):
    assert store.get_preferences("carol").email_kinds == []
    store.save_preferences("carol", Preferences(email_kinds=[NotificationKind.MENTIONED]))
    assert store.get_preferences("carol").email_kinds == [NotificationKind.MENTIONED]
    assert store.get_preferences("dave").email_kinds == []
