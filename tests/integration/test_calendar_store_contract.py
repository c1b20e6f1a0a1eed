"""One contract, two stores: the in-memory calendar store behaves like the DynamoDB one (on a fresh table in the
moto server): a calendar is written only at the version read, and the calendars page by id."""
from __future__ import annotations

import pytest

from chalicelib.adapters.dynamo.calendars import DynamoCalendarStore
from chalicelib.adapters.memory.calendars import InMemoryCalendarStore
from chalicelib.domain.calendars import Calendar
from chalicelib.ports import InvalidStartKey, StaleWrite


def calendar(calendar_id: str, version: int = 1, zone: str = "Europe/Amsterdam") -> Calendar:
    return Calendar.model_validate({
        "id": calendar_id, "name": f"{calendar_id} hours", "timeZone": zone, "version": version,
        "workingHours": {"MON": [{"start": "09:00", "end": "17:00"}]}, "holidays": ["2026-12-25"],
    })


@pytest.fixture(params=["memory", "dynamo"])
def store(request):
    if request.param == "memory":
        return InMemoryCalendarStore()
    return DynamoCalendarStore(request.getfixturevalue("dynamo_models"))


def test_a_calendar_is_created_read_and_replaced_at_the_next_version(store):
    assert store.get_calendar("office") is None
    store.save_calendar(calendar("office"))
    assert store.get_calendar("office") == calendar("office")
    store.save_calendar(calendar("office", version=2, zone="Europe/London"))
    assert store.get_calendar("office") == calendar("office", version=2, zone="Europe/London")


def test_a_write_based_on_a_stale_read_changes_nothing(store):
    store.save_calendar(calendar("office"))
    for stale in (1, 3):  # created again by another writer / a version never read
        with pytest.raises(StaleWrite):
            store.save_calendar(calendar("office", version=stale, zone="UTC"))
    assert store.get_calendar("office") == calendar("office")


def test_the_calendars_page_by_id_and_refuse_a_foreign_resume_key(store):
    for calendar_id in ("b", "a", "c"):
        store.save_calendar(calendar(calendar_id))
    first, resume = store.calendars_page(2, None)
    assert [c.id for c in first] == ["a", "b"] and resume is not None
    rest, end = store.calendars_page(2, resume)
    assert [c.id for c in rest] == ["c"] and end is None
    with pytest.raises(InvalidStartKey):
        store.calendars_page(2, {"PK": "CASE#x", "SK": "CALENDAR#a"})
