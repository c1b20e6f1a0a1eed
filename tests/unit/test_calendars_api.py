"""Business calendars over the HTTP edge, in-process (issue 15 item 3): admins create (201) and replace (200) a
calendar, If-Match honoured when sent (412 when stale), everyone reads it with its ETag, the list pages, every bad
input is a 400 naming its path; and `calendar(id)`, the lookup case types and SLAs use, reads through the cache."""
from __future__ import annotations

import pytest

from chalicelib.adapters.memory.calendars import InMemoryCalendarStore
from chalicelib.cache.memory import InProcessCache
from chalicelib.services.calendars import STANDARD, CalendarService, seed_calendars
from tests.api_support import POOL, expect
from tests.support import principal

OFFICE = {"start": "09:00", "end": "17:00"}
BODY = {"name": "Amsterdam office", "timeZone": "Europe/Amsterdam",
        "workingHours": {"MON": [OFFICE], "TUE": [OFFICE]}, "holidays": ["2026-12-25"]}


def put(client, calendar_id, body, user="ada", if_match=None):
    headers = {"If-Match": if_match} if if_match is not None else None
    return POOL.call(client, "PUT", f"/calendars/{calendar_id}", user, body, headers=headers)


def test_an_admin_creates_then_replaces_a_calendar_and_everyone_reads_it(client):
    status, created, headers = put(client, "amsterdam", BODY)
    assert status == 201 and headers["ETag"] == '"1"' and headers["Location"] == "/calendars/amsterdam"
    assert created == {**BODY, "id": "amsterdam", "version": 1}
    status, replaced, headers = put(client, "amsterdam", {**BODY, "holidays": []}, if_match='"1"')
    assert (status, replaced["version"], replaced["holidays"], headers["ETag"]) == (200, 2, [], '"2"')
    status, read, headers = POOL.call(client, "GET", "/calendars/amsterdam", "alice")
    assert (status, read, headers["ETag"]) == (200, replaced, '"2"')
    expect(put(client, "amsterdam", {**BODY, "name": "blind"}), 200)  # without If-Match: last writer wins


def test_a_stale_or_malformed_if_match_is_refused(client):
    expect(put(client, "amsterdam", BODY), 201)
    expect(put(client, "amsterdam", BODY, if_match='"1"'), 200)
    expect(put(client, "amsterdam", BODY, if_match='"1"'), 412, "PRECONDITION_FAILED")
    expect(put(client, "nowhere", BODY, if_match='"1"'), 412, "PRECONDITION_FAILED")  # nothing at that version
    expect(put(client, "amsterdam", BODY, if_match="yesterday"), 400, field="If-Match")
    stale_and_bad = {**BODY, "holidays": ["2026-02-30"]}
    expect(put(client, "amsterdam", stale_and_bad, if_match='"1"'), 400, field="holidays[0]")  # 400 before 412
    assert POOL.call(client, "GET", "/calendars/amsterdam", "aud")[1]["version"] == 2


def test_only_admins_define_calendars(client):
    for user in ("alice", "sam", "aud"):
        expect(put(client, "amsterdam", BODY, user=user), 403, "FORBIDDEN")
    expect(POOL.call(client, "GET", "/calendars/amsterdam", "ada"), 404)


@pytest.mark.parametrize("change, field", [
    ({"timeZone": "Mars/Olympus"}, "timeZone"),
    ({"workingHours": {"MON": [{"start": "17:00", "end": "09:00"}]}}, "workingHours.MON[0].end"),
    ({"workingHours": {"MON": [OFFICE, {"start": "12:00", "end": "13:00"}]}}, "workingHours.MON[1]"),
    ({"workingHours": {"MON": [{"start": "9am", "end": "17:00"}]}}, "workingHours.MON[0].start"),
    ({"workingHours": {"HOLIDAY": [OFFICE]}}, "workingHours.HOLIDAY"),
    ({"workingHours": {}}, "workingHours"),
    ({"holidays": ["2026-12-25", "2026-12-24", "2026-13-01"]}, "holidays[2]"),
    ({"colour": "blue"}, "colour"),
])
def test_every_bad_definition_is_a_400_naming_its_path(client, change, field):
    expect(put(client, "amsterdam", {**BODY, **change}), 400, "VALIDATION_ERROR", field)


def test_an_id_no_calendar_can_have_is_a_400_naming_it(client):
    expect(put(client, "-leading-dash", BODY), 400, field="calendarId")
    expect(POOL.call(client, "GET", "/calendars/-leading-dash", "ada"), 404)


def test_the_calendars_page_by_id_with_a_cursor(client):
    for calendar_id in ("c", "a", "b"):
        expect(put(client, calendar_id, BODY), 201)
    first = expect(POOL.call(client, "GET", "/calendars?limit=2", "alice"), 200)
    assert [c["id"] for c in first["items"]] == ["a", "b"] and first["nextCursor"]
    rest = expect(POOL.call(client, "GET", f"/calendars?limit=2&cursor={first['nextCursor']}", "alice"), 200)
    assert [c["id"] for c in rest["items"]] == ["c"] and rest["nextCursor"] is None
    expect(POOL.call(client, "GET", "/calendars?cursor=bogus", "alice"), 400, field="cursor")
    expect(POOL.call(client, "GET", "/calendars?limit=101", "alice"), 400, field="limit")


def test_the_lookup_reads_through_the_cache_and_a_put_refreshes_it():
    store = InMemoryCalendarStore()
    service = CalendarService(store, InProcessCache())
    assert service.calendar("standard") is None and service.calendar("../x") is None
    assert seed_calendars(store) and not seed_calendars(store)  # a re-seed keeps what is there
    assert service.calendar("standard") == STANDARD
    store.save_calendar(STANDARD.model_copy(update={"name": "edited behind the cache", "version": 2}))
    assert service.calendar("standard") == STANDARD  # served from the cache until its TTL or a PUT
    service.put(principal("ada", "admin"), "standard", BODY, None)
    assert service.calendar("standard").version == 3
