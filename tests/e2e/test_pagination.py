"""Every list is paged over HTTP with real tokens: pages of a long case's comments and history concatenate to the
whole list in order, a cursor works only for the listing (and caller, and filters) it was issued for, `limit` is
bounded, and visibility holds on every page (a caseworker paging through tasks never gets another team's)."""
from __future__ import annotations

from typing import Any, Callable, Iterator

import pytest

from tests.e2e.test_workflow import complete_all_tasks, stage_is, wait_until
from tests.local_system import Api

CASE = {"title": "A long story", "caseType": "GENERAL", "priority": "LOW", "customerId": "CUST-9007"}
COMMENTS = 27


def walk(client: Api, path: str, limit: int, **params: Any) -> list[list[dict[str, Any]]]:
    """Every page of a listing, following nextCursor until it is null."""
    pages, cursor = [], None
    for _ in range(500):
        response = client.get(path, params={**params, "limit": limit, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["items"]) <= limit
        pages.append(body["items"])
        cursor = body["nextCursor"]
        if cursor is None:
            return pages
    raise AssertionError(f"{path} did not end")


def flat(pages: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    return [item for page in pages for item in page]


@pytest.fixture(scope="module")
def open_case(api: Callable[[str], Api]) -> Iterator[Callable[[], str]]:
    """`open_case()`: a GENERAL case of alice's (claims), its tasks assigned; they are completed afterwards, so
    the team's capacity is left as found."""
    opened: list[str] = []

    def open_one() -> str:
        case = api("alice").post("/cases", json=CASE)
        assert case.status_code == 201, case.text
        opened.append(case.json()["id"])
        wait_until(api("ada"), opened[-1], stage_is("TASKS"), "waited for its tasks")
        return opened[-1]

    yield open_one
    for case_id in opened:
        complete_all_tasks(api, api("ada"), case_id)


@pytest.fixture(scope="module")
def long_case(api: Callable[[str], Api], open_case: Callable[[], str]) -> dict[str, Any]:
    alice, case_id = api("alice"), open_case()
    for n in range(COMMENTS):
        posted = alice.post(f"/cases/{case_id}/comments", json={"text": f"note {n:02d}"})
        assert posted.status_code == 201, posted.text
    return dict(alice.get(f"/cases/{case_id}").json())


def test_a_long_cases_comments_and_history_page_in_order(api, long_case):
    alice, path = api("alice"), f"/cases/{long_case['id']}"
    pages = walk(alice, f"{path}/comments", 5)
    assert len(pages) > 2 and [c["text"] for c in flat(pages)] == [f"note {n:02d}" for n in range(COMMENTS)]
    assert flat(pages) == alice.get(f"{path}/comments", params={"limit": 100}).json()["items"]
    history = flat(walk(alice, f"{path}/history", 4))
    assert len(history) > 2 * 4 and [e["seq"] for e in history] == list(range(1, len(history) + 1))
    assert all(e["prevHash"] == previous["hash"] for previous, e in zip(history, history[1:]))
    assert alice.get(f"{path}/history/verify").json()["events"] >= len(history)
    assert walk(alice, f"{path}/documents", 1) == [[]]  # no documents: one empty last page


def test_a_cursor_is_good_only_for_its_own_listing(api, long_case, open_case):
    alice, path = api("alice"), f"/cases/{long_case['id']}"
    comments = alice.get(f"{path}/comments", params={"limit": 2}).json()["nextCursor"]
    other_case = open_case()
    for user, listing in [
        ("alice", f"{path}/history"), ("alice", f"/cases/{other_case}/comments"), ("alice", "/tasks"),
        ("alice", "/cases"), ("ava", "/approvals"), ("ada", "/personnel"), ("alice", f"{path}/documents"),
    ]:
        response = api(user).get(listing, params={"cursor": comments})
        assert response.status_code == 400, (listing, response.text)
        assert [d["field"] for d in response.json()["error"]["details"]] == ["cursor"]
    ada_cursor = api("ada").get(f"{path}/comments", params={"limit": 2}).json()["nextCursor"]
    assert alice.get(f"{path}/comments", params={"cursor": ada_cursor}).status_code == 200  # same listing


@pytest.mark.parametrize("path", ["/tasks", "/approvals", "/personnel", "/cases", "COMMENTS", "HISTORY"])
@pytest.mark.parametrize("limit", ["0", "101", "100000", "-1", "ten"])
def test_limit_is_bounded(api, long_case, path, limit):
    path = {"COMMENTS": f"/cases/{long_case['id']}/comments", "HISTORY": f"/cases/{long_case['id']}/history"}.get(
        path, path)
    user = {"/approvals": "ava", "/personnel": "ada"}.get(path, "alice")
    response = api(user).get(path, params={"limit": limit})
    assert response.status_code == 400, response.text
    assert [d["field"] for d in response.json()["error"]["details"]] == ["limit"]


def test_a_comment_has_a_size_limit(api, long_case):
    path = f"/cases/{long_case['id']}/comments"
    too_long = api("alice").post(path, json={"text": "x" * 5001})
    assert too_long.status_code == 400 and too_long.json()["error"]["details"][0]["field"] == "text"
    assert api("alice").post(path, json={"text": "x" * 5000}).status_code == 201


def test_visibility_holds_on_every_page(api, open_case):
    alice, sam, bob = api("alice"), api("sam"), api("bob")
    open_case()  # claims work in alice's inbox
    mine = flat(walk(alice, "/tasks", 1, assignee="me"))
    assert mine and all(t["assignee"] == "alice" and t["status"] == "OPEN" for t in mine)
    assert mine == alice.get("/tasks", params={"assignee": "me", "limit": 100}).json()["items"]
    for client, params in [(alice, {"team": "claims"}), (sam, {"team": "claims"}), (sam, {"assignee": "alice"})]:
        for page in walk(client, "/tasks", 1, **params):
            assert all(t["team"] == "claims" for t in page), page
    assert {t["id"] for t in flat(walk(sam, "/tasks", 2, assignee="alice"))} == {t["id"] for t in mine}
    # bob (complaints) may not read the claims queue, nor resume a claims cursor on his own queue
    claims_cursor = alice.get("/tasks", params={"assignee": "me", "limit": 1}).json()["nextCursor"]
    assert bob.get("/tasks", params={"team": "claims", "limit": 1}).status_code == 403
    if claims_cursor:
        refused = bob.get("/tasks", params={"assignee": "me", "cursor": claims_cursor})
        assert refused.status_code == 400 and refused.json()["error"]["details"][0]["field"] == "cursor"
    bobs = flat(walk(bob, "/tasks", 1, team="complaints"))
    assert all(t["team"] == "complaints" for t in bobs)


def test_approvals_and_the_directory_page_to_their_whole_list(api):
    ava, ada = api("ava"), api("ada")
    inbox = flat(walk(ava, "/approvals", 1))
    assert all(a["status"] == "PENDING" for a in inbox)
    assert inbox == ava.get("/approvals", params={"limit": 100}).json()["items"]
    directory = flat(walk(ada, "/personnel", 1))
    assert len(directory) >= 2 and directory == ada.get("/personnel", params={"limit": 100}).json()["items"]
    claims = flat(walk(ada, "/personnel", 1, team="claims"))
    assert claims and all(p["team"] == "claims" for p in claims)
