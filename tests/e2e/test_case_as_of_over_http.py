"""The case as it was, over HTTP on the running local system with real tokens: GET /cases/{id}?asOf=..."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.e2e.test_cases_api import NEW_CASE, wait_for_stage
from tests.e2e.test_workflow import complete_all_tasks


def _shifted(instant: str, **delta: float) -> str:
    moment = datetime.fromisoformat(instant) + timedelta(**delta)
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _without(case: dict, missing: list[str]) -> dict:
    shown = {k: v for k, v in case.items() if k not in ("asOf", "rebuilt", "sla")}  # sla: the clock now
    for path in missing:
        head, _, rest = path.partition(".")
        if rest and isinstance(shown.get(head), dict):
            shown[head] = {k: v for k, v in shown[head].items() if k != rest}
        else:
            shown.pop(head, None)
    return shown


@pytest.fixture(scope="module")
def patched_twice(api):
    """alice's claim, moved by its workflow to the documents stage, then edited twice: (created, first, second).
    Its tasks are completed afterwards: alice's open work counts against her capacity in the later tests."""
    alice = api("alice")
    created = alice.post("/cases", json={**NEW_CASE, "customerId": "CUST-9011", "title": "First title"}).json()
    version = wait_for_stage(alice, created["id"], "DOCUMENTS")["version"]
    first = alice.patch(f"/cases/{created['id']}", json={"title": "Second title"}, headers={"If-Match": f'"{version}"'})
    assert first.status_code == 200, first.text
    second = alice.patch(f"/cases/{created['id']}", json={"title": "Third title", "priority": "CRITICAL"},
                         headers={"If-Match": first.headers["ETag"]})
    assert second.status_code == 200, second.text
    yield created, first.json(), second.json()
    complete_all_tasks(api, api("ada"), created["id"])


def test_the_case_as_of_instants_between_the_patches(api, patched_twice):
    created, first, second = patched_twice
    alice, path = api("alice"), f"/cases/{created['id']}"
    history = {e["seq"]: e for e in alice.get(f"{path}/history", params={"limit": 100}).json()["items"]}

    before_first = alice.get(path, params={"asOf": _shifted(first["updatedAt"], milliseconds=-1)})
    assert before_first.status_code == 200, before_first.text
    assert before_first.json()["title"] == "First title" and before_first.json()["priority"] == "HIGH"
    assert "ETag" not in before_first.headers  # a past state is no version to write against

    between = alice.get(path, params={"asOf": _shifted(second["updatedAt"], milliseconds=-1)}).json()
    assert (between["title"], between["priority"], between["version"]) == ("Second title", "HIGH", first["version"])
    mark = between["asOf"]
    assert mark["verified"] is True and history[mark["seq"]]["hash"] == mark["hash"]
    assert history[mark["seq"]]["type"] == "CASE_UPDATED" and history[mark["seq"]]["at"] == first["updatedAt"]

    at_second = alice.get(path, params={"asOf": second["updatedAt"]}).json()
    assert (at_second["title"], at_second["priority"]) == ("Third title", "CRITICAL")


def test_as_of_the_last_event_is_the_case_as_read_now_but_what_the_chain_cannot_state(api, patched_twice):
    created, *_ = patched_twice
    alice, path = api("alice"), f"/cases/{created['id']}"
    now, events = alice.get(path).json(), alice.get(f"{path}/history", params={"limit": 100}).json()["items"]
    then = alice.get(path, params={"asOf": events[-1]["at"]}).json()
    assert then["asOf"]["seq"] == events[-1]["seq"] and then["asOf"]["verified"] is True
    assert then["rebuilt"]["complete"] == (then["rebuilt"]["missing"] == [])
    assert _without(then, then["rebuilt"]["missing"]) == _without(now, then["rebuilt"]["missing"])


def test_before_the_case_existed_it_is_404(api, patched_twice):
    created, *_ = patched_twice
    before = _shifted(created["createdAt"], milliseconds=-1)
    response = api("alice").get(f"/cases/{created['id']}", params={"asOf": before})
    assert response.status_code == 404 and response.json()["error"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize("instant", ["yesterday", "2026-03-01", "2026-03-01T12:00:00", "2026-03-01T25:00:00Z"])
def test_a_malformed_instant_is_400_naming_as_of(api, patched_twice, instant):
    created, *_ = patched_twice
    response = api("alice").get(f"/cases/{created['id']}", params={"asOf": instant})
    assert response.status_code == 400, response.text
    assert [d["field"] for d in response.json()["error"]["details"]] == ["asOf"]


def test_a_future_instant_is_400_naming_as_of(api, patched_twice):
    created, *_ = patched_twice
    tomorrow = (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()
    response = api("alice").get(f"/cases/{created['id']}", params={"asOf": tomorrow})
    assert response.status_code == 400 and response.json()["error"]["details"][0]["field"] == "asOf"


def test_a_caseworker_who_cannot_see_the_case_gets_404_at_any_instant(api, patched_twice):
    created, first, _ = patched_twice
    response = api("bob").get(f"/cases/{created['id']}", params={"asOf": first["updatedAt"]})
    assert response.status_code == 404 and response.json()["error"]["code"] == "NOT_FOUND"
