"""One paging contract, two backends: every keyed list (comments, history, a case's tasks, inboxes and team queues,
a case's approvals, the approvers' merged inbox, the personnel directory by team and whole, a case's documents)
pages alike in memory and on DynamoDB: pages of at most `limit` concatenate to the whole list in order without
duplicates, the last page has no resume key, and a key the list did not issue is refused (InvalidStartKey) before
anything is read. The service layer's cursors (400 naming `cursor` or `limit`) are checked on both too."""
from __future__ import annotations

import json
from contextlib import contextmanager
from typing import Any, Callable, Iterator

import pytest

from chalicelib.adapters.dynamo.cases import DynamoCaseRepository
from chalicelib.adapters.dynamo.decisions import DynamoDecisionStore
from chalicelib.adapters.dynamo.documents import DynamoDocumentStore
from chalicelib.adapters.dynamo.models import table_models
from chalicelib.adapters.dynamo.work import DynamoWorkRepository
from chalicelib.domain.approvals import APPROVER_QUEUE, new_approval
from chalicelib.domain.changes import CaseChange
from chalicelib.domain.models import Comment
from chalicelib.domain.personnel import Person
from chalicelib.domain.tasks import Task, TaskStatus, task_id
from chalicelib.errors import DependencyUnavailable, InvalidInput
from chalicelib.ports import InvalidStartKey
from chalicelib.services.approvals import ApprovalService
from chalicelib.services.cases import CaseNumbers, CaseService
from tests.integration.test_documents_repository_contract import a_document, a_version
from tests.support import create_case, iso_at, new_case, principal, case_types

Page = Callable[[int, Any], tuple[list[Any], Any]]
ROOT = principal("root", "admin")


def walk(page: Page, limit: int, ids: Callable[[Any], Any] = lambda item: item.id, full: bool = True) -> list[Any]:
    """Every page of a list, the resume key round-tripping through JSON (inside a cursor). `full`: every page but
    the last holds `limit` items (a chained page may stop short after reading its lists)."""
    seen: list[str] = []
    key = None
    for _ in range(200):
        items, key = page(limit, key)
        assert len(items) <= limit
        seen += [ids(item) for item in items]
        if key is None:
            assert len(seen) == len(set(seen)), "a page repeated an item"
            return seen
        assert len(items) == limit or not full, "only the last page of a keyed list is short"
        key = json.loads(json.dumps(key))
    raise AssertionError("paging did not end")


def seed(backend, case_id: str, records: list[Any], chunk: int = 20) -> None:
    """Write `records` beside the case, a transaction per chunk, each appending one audit event."""
    for start in range(0, len(records), chunk):
        change = CaseChange(backend.cases.get_case(case_id), "system", iso_at(0))
        change.append("SEEDED", {})
        for record in records[start:start + chunk]:
            change.put(record)
        backend.cases.apply(change)


def a_task(case_id: str, n: int, **fields: Any) -> Task:
    values: dict[str, Any] = dict(
        id=task_id(case_id, n), case_id=case_id, type="ASSESS", title="Assess", assignee="alice", team="claims",
        status=TaskStatus.OPEN, required=True, due_at=f"2026-03-04T12:{n % 60:02d}:00.000Z",
        created_at=iso_at(0), version=1, run=1,
    )
    values.update(fields)
    return Task(**values)


@pytest.fixture
def case(backend):
    case, event = new_case("case-1", team="claims")
    create_case(backend.cases, case, event)
    other, other_event = new_case("case-2", team="claims")
    create_case(backend.cases, other, other_event)
    return case


class TestKeyedListsPageAlike:
    def test_comments_page_oldest_first(self, backend, case):
        comments = [Comment(id=f"cm-{n:02d}", case_id=case.id, text=f"note {n}", author="alice",
                            created_at=iso_at(n)) for n in range(1, 24)]
        seed(backend, case.id, comments[::-1])
        seed(backend, "case-2", [Comment(id="cm-x", case_id="case-2", text="x", author="bob", created_at=iso_at(1))])
        expected = [c.id for c in comments]
        for limit in (1, 5, 23, 100):
            assert walk(lambda size, key: backend.cases.comments_page(case.id, size, key), limit) == expected

    def test_history_pages_in_chain_order(self, backend, case):
        for _ in range(11):
            change = CaseChange(backend.cases.get_case(case.id), "system", iso_at(0))
            for _ in range(3):
                change.append("NOTED", {})
            backend.cases.apply(change)
        expected = [e.seq for e in backend.cases.list_events(case.id)]
        assert len(expected) == 34
        for limit in (1, 7, 34, 100):
            pages = walk(lambda size, key: backend.cases.events_page(case.id, size, key), limit, lambda e: e.seq)
            assert pages == expected

    def test_a_cases_tasks_and_the_inboxes_and_queues(self, backend, case):
        mine = [a_task(case.id, n) for n in range(1, 13)]
        queued = [a_task(case.id, n, assignee=None) for n in range(13, 20)]
        done = [a_task(case.id, 20, status=TaskStatus.DONE)]
        seed(backend, case.id, mine + queued + done)
        seed(backend, "case-2", [a_task("case-2", 1), a_task("case-2", 2, team="complaints", assignee=None)])
        work = backend.work
        by_id = sorted(t.id for t in mine + queued + done)
        assert walk(lambda size, key: work.case_tasks_page(case.id, size, key), 4) == by_id
        soonest_first = [t.id for t in sorted(mine + [a_task("case-2", 1)], key=lambda t: (t.due_at, t.id))]
        for limit in (1, 5, 100):
            assert walk(lambda size, key: work.inbox_page("USER#alice", size, key), limit) == soonest_first
            assert walk(lambda size, key: work.inbox_page("TEAM#claims", size, key), limit) == [t.id for t in queued]
        assert walk(lambda size, key: work.inbox_page("TEAM#complaints", size, key), 1) == ["case-2-t2"]

    def test_approvals_of_a_case_and_the_merged_inbox(self, backend, case):
        stored = backend.cases.get_case(case.id)
        approvals = [new_approval(stored, n, 1, iso_at(n), assignee="bea" if n % 3 == 0 else None)
                     for n in range(1, 17)]
        seed(backend, case.id, approvals)
        decisions = backend.decisions
        assert walk(lambda size, key: decisions.case_approvals_page(case.id, size, key), 3) == sorted(
            a.id for a in approvals)
        oldest_first = [a.id for a in approvals]
        for limit in (1, 2, 5, 16, 100):
            merged = walk(lambda size, key: decisions.inbox_page(["USER#bea", APPROVER_QUEUE], size, key), limit)
            assert merged == oldest_first
        queue = [a.id for a in approvals if a.assignee is None]
        assert walk(lambda size, key: decisions.inbox_page([APPROVER_QUEUE], size, key), 4) == queue

    def test_the_directory_by_team_and_whole(self, backend, case):
        teams = {"claims": 7, "complaints": 1, "audit": 0, "finance": 3, "legal": 1, "ops": 2}
        for team, size in teams.items():
            for n in range(size):
                backend.work.save_person(Person(username=f"{team}-{n}", team=team, capacity=5))
        expected = [f"{team}-{n}" for team in sorted(teams) for n in range(teams[team])]
        for limit in (1, 2, 3, 7, 8, 14, 100):  # 8: claims and complaints fill a page exactly
            names = walk(
                lambda size, key: backend.work.people_page(None, size, key), limit, lambda p: p.username, full=False,
            )
            assert names == expected
        claims = walk(lambda size, key: backend.work.people_page("claims", size, key), 3, lambda p: p.username)
        assert claims == [f"claims-{n}" for n in range(7)]

    def test_documents_page_by_id_with_their_versions(self, backend, case):
        documents = [a_document(case.id, f"doc-{n:02d}") for n in range(1, 12)]
        versions = [a_version(f"v{n}-{k}", case.id, f"doc-{n:02d}") for n in range(1, 12) for k in range(n % 3)]
        seed(backend, case.id, documents + versions)

        def page(size: int, key: Any) -> tuple[list[Any], Any]:
            found, their_versions, next_key = backend.documents.documents_page(case.id, size, key)
            ids = {d.id for d in found}
            assert sorted(v.version_id for v in their_versions) == sorted(
                v.version_id for v in versions if v.document_id in ids)
            return found, next_key

        for limit in (1, 4, 11, 100):
            assert walk(page, limit) == [d.id for d in documents]


class TestStartKeys:
    """A resume key comes back from clients: one this list did not issue is refused before any read."""

    @pytest.mark.parametrize("key", [
        {"PK": "CASE#case-2", "SK": "COMMENT#2026"},  # another case's list
        {"PK": "CASE#case-1", "SK": "TASK#case-1-t1"},  # another kind of item
        {"PK": "CASE#case-1"}, {"PK": "CASE#case-1", "SK": "COMMENT#x", "extra": "y"}, {"PK": 1, "SK": "COMMENT#"},
        {"PK": "CASE#case-1", "SK": "COMMENT#" + "x" * 2000}, ["CASE#case-1"], "CASE#case-1",
    ])
    def test_a_table_list_refuses_foreign_keys(self, backend, case, key):
        with pytest.raises(InvalidStartKey):
            backend.cases.comments_page(case.id, 10, key)

    @pytest.mark.parametrize("key", [
        {"PK": "CASE#c", "SK": "TASK#c-t1", "inboxPk": "TEAM#complaints", "inboxSk": "TASK#2026"},  # another queue
        {"PK": "CASE#c", "SK": "TASK#c-t1"},  # a table key on the index
        {"at": [None], "done": []},  # another list's shape
    ])
    def test_an_inbox_refuses_another_inbox_key(self, backend, case, key):
        with pytest.raises(InvalidStartKey):
            backend.work.inbox_page("TEAM#claims", 10, key)

    @pytest.mark.parametrize("key", [
        {"at": [None], "done": []}, {"at": [None, None], "done": [0, 1]}, {"at": [None, None], "done": [5]},
        {"at": [{"PK": "CASE#c", "SK": "APPROVAL#c-a1", "inboxPk": "USER#eve", "inboxSk": "APPROVAL#x"}, None],
         "done": []},
    ])
    def test_the_merged_inbox_refuses_keys_of_other_inboxes(self, backend, case, key):
        with pytest.raises(InvalidStartKey):
            backend.decisions.inbox_page(["USER#bea", APPROVER_QUEUE], 10, key)

    @pytest.mark.parametrize("key", [{"list": "MEMBERS#nobody", "at": None}, {"list": "MEMBERS#claims"}])
    def test_the_directory_refuses_unknown_teams(self, backend, case, key):
        backend.work.save_person(Person(username="alice", team="claims", capacity=5))
        with pytest.raises(InvalidStartKey):
            backend.work.people_page(None, 10, key)


class TestCursors:
    """The service's cursors over either backend: bound to their listing, limits bounded."""

    @pytest.fixture
    def service(self, backend):
        return CaseService(backend.cases, [], CaseNumbers(backend.cases))

    def test_a_cursor_of_another_listing_or_case_is_refused_naming_it(self, backend, case, service):
        seed(backend, case.id, [Comment(id=f"cm-{n}", case_id=case.id, text="t", author="alice",
                                        created_at=iso_at(n)) for n in range(3)])
        seed(backend, "case-2", [Comment(id="cm-x", case_id="case-2", text="t", author="alice",
                                         created_at=iso_at(1))])
        comments = service.comments(ROOT, case.id, 1, None)
        history = service.history(ROOT, case.id, 1, None)
        assert comments.next_cursor and history.next_cursor
        for listing, cursor in [
            (lambda c: service.history(ROOT, case.id, 1, c), comments.next_cursor),
            (lambda c: service.comments(ROOT, case.id, 1, c), history.next_cursor),
            (lambda c: service.comments(ROOT, "case-2", 1, c), comments.next_cursor),
            (lambda c: service.comments(ROOT, case.id, 1, c), "not-a-cursor"),
        ]:
            with pytest.raises(InvalidInput) as refused:
                listing(cursor)
            assert [d.field for d in refused.value.details] == ["cursor"]
        second = service.comments(ROOT, case.id, 2, comments.next_cursor)  # any limit resumes
        assert [c.id for c in second.items] == ["cm-1", "cm-2"] and second.next_cursor is None

    @pytest.mark.parametrize("limit", [0, -1, 101, 100000])
    def test_a_limit_out_of_bounds_is_refused_naming_it(self, backend, case, service, limit):
        with pytest.raises(InvalidInput) as refused:
            service.history(ROOT, case.id, limit, None)
        assert [d.field for d in refused.value.details] == ["limit"]


@contextmanager
def sent(models) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """The DynamoDB requests made meanwhile: (operation, parameters)."""
    calls: list[tuple[str, dict[str, Any]]] = []

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        calls.append((model.name, dict(params)))

    events = models.connection.client.meta.events
    events.register("before-parameter-build.dynamodb", record)
    try:
        yield calls
    finally:
        events.unregister("before-parameter-build.dynamodb", record)


@pytest.mark.parametrize("backend", ["dynamo"], indirect=True)
class TestDynamoReadsOnlyThePage:
    def test_a_page_is_one_query_with_limit_after_the_resume_key(self, backend, case, dynamo_models):
        seed(backend, case.id, [Comment(id=f"cm-{n:02d}", case_id=case.id, text="t", author="alice",
                                        created_at=iso_at(n)) for n in range(40)])
        with sent(dynamo_models) as calls:
            first, key = backend.cases.comments_page(case.id, 10, None)
            backend.cases.comments_page(case.id, 10, json.loads(json.dumps(key)))
        assert [operation for operation, _ in calls] == ["Query", "Query"]
        assert calls[0][1]["Limit"] == 11 and "ExclusiveStartKey" not in calls[0][1]
        assert calls[1][1]["Limit"] == 11
        last = {"PK": {"S": "CASE#case-1"}, "SK": {"S": f"COMMENT#{iso_at(9)}#cm-09"}}
        assert calls[1][1]["ExclusiveStartKey"] == last and first[-1].id == "cm-09"

    def test_the_approvers_inbox_reads_no_case_per_approval(self, backend, case, dynamo_models):
        stored = backend.cases.get_case(case.id)
        other = backend.cases.get_case("case-2")
        seed(backend, case.id, [new_approval(stored, n, 1, iso_at(n), assignee="bea" if n % 2 else None)
                                for n in range(1, 9)])
        seed(backend, "case-2", [new_approval(other, n, 1, iso_at(n), assignee="cy") for n in range(1, 5)])
        service = ApprovalService(backend.cases, backend.decisions, case_types())
        with sent(dynamo_models) as calls:
            page = service.list(principal("bea", "approver"), limit=5)
        assert len(page.items) == 5 and page.next_cursor
        assert sorted(operation for operation, _ in calls) == ["Query", "Query"]  # the inbox and the queue
        with sent(dynamo_models) as calls:  # another's inbox, as a claims approver: the cases read together
            shown = service.list(principal("dee", "approver", "caseworker", team="claims"), assignee="cy")
        assert [a.id for a in shown.items] == [f"case-2-a{n}" for n in range(1, 5)]
        assert sorted(operation for operation, _ in calls) == ["BatchGetItem", "Query"]


@pytest.mark.parametrize("read", [
    pytest.param(lambda stores: stores[0].events_page("case-1", 10, None), id="events_page"),
    pytest.param(lambda stores: stores[1].inbox_page("USER#alice", 10, None), id="task inbox_page"),
    pytest.param(lambda stores: stores[1].people_page("claims", 10, None), id="people_page"),
    pytest.param(lambda stores: stores[2].inbox_page(["USER#bea", APPROVER_QUEUE], 10, None), id="approval inbox"),
    pytest.param(lambda stores: stores[3].documents_page("case-1", 10, None), id="documents_page"),
])
def test_pages_of_an_unreachable_table_are_a_503(down_endpoint, read):
    models = table_models("pages-unreachable", "us-east-1", down_endpoint)
    stores = (DynamoCaseRepository(models), DynamoWorkRepository(models), DynamoDecisionStore(models),
              DynamoDocumentStore(models))
    with pytest.raises(DependencyUnavailable):
        read(stores)
