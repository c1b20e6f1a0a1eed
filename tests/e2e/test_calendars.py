"""Business calendars on the running local system, over HTTP with real tokens (issue 15 item 3): an admin
defines a calendar (201), reads it with its ETag, replaces it (200) and is refused a stale If-Match (412); a
caseworker may read but not define one (403); a bad time zone or period is a 400 naming its path; the list pages
with a cursor and holds the `standard` calendar the local system seeds."""
from __future__ import annotations

import uuid
from typing import Any, Callable, Optional

from tests.local_system import Api

OFFICE = {"start": "09:00", "end": "17:00"}
BODY = {"name": "Amsterdam office", "timeZone": "Europe/Amsterdam",
        "workingHours": {day: [OFFICE] for day in ("MON", "TUE", "WED", "THU", "FRI")},
        "holidays": ["2026-12-25", "2026-12-26"]}
ApiOf = Callable[[Optional[str]], Api]


def fresh_id() -> str:
    return f"cal-{uuid.uuid4().hex[:10]}"


def refused_field(response: Any, status: int) -> list[str]:
    assert response.status_code == status, response.text
    return [detail["field"] for detail in response.json()["error"]["details"]]


def test_an_admin_defines_reads_and_replaces_a_calendar(api: ApiOf) -> None:
    ada, calendar_id = api("ada"), fresh_id()
    created = ada.put(f"/calendars/{calendar_id}", json=BODY)
    assert created.status_code == 201, created.text
    assert created.headers["ETag"] == '"1"' and created.json() == {**BODY, "id": calendar_id, "version": 1}

    read = api("alice").get(f"/calendars/{calendar_id}")  # every role reads calendars: due dates run on them
    assert read.status_code == 200 and read.headers["ETag"] == '"1"' and read.json() == created.json()

    replaced = ada.put(f"/calendars/{calendar_id}", json={**BODY, "holidays": []}, headers={"If-Match": '"1"'})
    assert replaced.status_code == 200, replaced.text
    assert replaced.headers["ETag"] == '"2"' and replaced.json()["holidays"] == []

    stale = ada.put(f"/calendars/{calendar_id}", json=BODY, headers={"If-Match": '"1"'})
    assert stale.status_code == 412 and stale.json()["error"]["code"] == "PRECONDITION_FAILED"
    assert ada.get(f"/calendars/{calendar_id}").json()["version"] == 2  # the stale write changed nothing


def test_only_admins_define_calendars(api: ApiOf) -> None:
    calendar_id = fresh_id()
    refused = api("alice").put(f"/calendars/{calendar_id}", json=BODY)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "FORBIDDEN"
    assert api("ada").get(f"/calendars/{calendar_id}").status_code == 404


def test_a_bad_definition_is_a_400_naming_its_path(api: ApiOf) -> None:
    ada, calendar_id = api("ada"), fresh_id()
    bad_zone = ada.put(f"/calendars/{calendar_id}", json={**BODY, "timeZone": "Europe/Atlantis"})
    assert refused_field(bad_zone, 400) == ["timeZone"]
    bad_period = ada.put(
        f"/calendars/{calendar_id}", json={**BODY, "workingHours": {"MON": [{"start": "17:00", "end": "09:00"}]}},
    )
    assert refused_field(bad_period, 400) == ["workingHours.MON[0].end"]
    bad_holiday = ada.put(f"/calendars/{calendar_id}", json={**BODY, "holidays": ["2026-12-25", "2026-02-30"]})
    assert refused_field(bad_holiday, 400) == ["holidays[1]"]
    assert ada.get(f"/calendars/{calendar_id}").status_code == 404


def test_the_list_pages_with_a_cursor_and_holds_the_seeded_calendar(api: ApiOf) -> None:
    ada = api("ada")
    mine = sorted(fresh_id() for _ in range(3))
    for calendar_id in mine:
        assert ada.put(f"/calendars/{calendar_id}", json=BODY).status_code == 201
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 2}
    for _ in range(100):  # bounded: every page but the last is full
        page = api("bob").get("/calendars", params=params)
        assert page.status_code == 200, page.text
        body = page.json()
        assert len(body["items"]) <= 2
        seen += [calendar["id"] for calendar in body["items"]]
        if body["nextCursor"] is None:
            break
        params = {"limit": 2, "cursor": body["nextCursor"]}
    assert seen == sorted(seen) and len(seen) == len(set(seen))  # by id, each once
    assert set(mine) <= set(seen) and "standard" in seen
    standard = ada.get("/calendars/standard").json()
    assert standard["timeZone"] == "Europe/London" and standard["workingHours"]["MON"] == [OFFICE]
