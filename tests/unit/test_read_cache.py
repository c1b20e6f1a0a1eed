"""Cache-aside reads through the HTTP edge (in-memory stores, in-process cache): hits, misses, and every
kind of write that changes a case or a person deleting what it made stale. The cache holds data, not
decisions: visibility is checked on hits too."""
from __future__ import annotations

from typing import Any, Optional

import pytest
from chalice.test import Client

from app import app
from chalicelib import bootstrap
from chalicelib.adapters.memory.cases import InMemoryCaseRepository
from chalicelib.adapters.memory.work import InMemoryWorkRepository
from chalicelib.cache.invalidation import WORK_WRITES, InvalidatingStore, case_key, stale_keys_of_records
from chalicelib.cache.memory import InProcessCache
from chalicelib.domain.models import Case
from chalicelib.errors import NotFound
from chalicelib.services.personnel import ABSENCE_CACHE_SECONDS, PersonnelService
from tests.support import principal
from tests.unit.test_api import POOL, call, create


class CountingRepository(InMemoryCaseRepository):
    """Counts reads of case items: a hit must not reach the store."""

    def __init__(self) -> None:
        super().__init__()
        self.case_reads = 0

    def get_case(self, case_id: str) -> Optional[Case]:
        self.case_reads += 1
        return super().get_case(case_id)


@pytest.fixture
def system() -> Any:
    """Deletes are not held here (a read right after a write refills), so the tests see which writes
    invalidate; the hold has tests of its own (below, and in test_cache.py)."""
    repository = CountingRepository()
    container = POOL.container(repository=repository, env={"CACHE_DELETE_HOLD_SECONDS": "0"})
    with bootstrap.override(container), Client(app) as client:
        yield client, container, repository


def _get(client: Client, case_id: str, user: str = "alice") -> tuple[int, Any, Any]:
    return call(client, "GET", f"/cases/{case_id}", user)


def test_in_process_cache_serves_the_local_stage(system: Any) -> None:
    _, container, _ = system
    assert container.cache.backend == "in-process"


def test_a_second_read_is_a_hit_that_reads_nothing(system: Any) -> None:
    client, container, repository = system
    case = create(client)
    before = (container.cache.stats["misses"], container.cache.stats["hits"])  # opening it read its type's
    first = _get(client, case["id"])
    reads = repository.case_reads
    second = _get(client, case["id"])
    assert first[0] == second[0] == 200 and first[1] == second[1]
    assert second[2]["ETag"] == '"1"'
    assert repository.case_reads == reads
    assert (container.cache.stats["misses"] - before[0], container.cache.stats["hits"] - before[1]) == (1, 1)


def test_a_missing_case_is_not_cached(system: Any) -> None:
    client, container, _ = system
    assert _get(client, "nope")[0] == 404
    assert _get(client, "nope")[0] == 404
    assert container.cache.stats["sets"] == 0


def test_visibility_is_checked_on_a_hit(system: Any) -> None:
    client, _, _ = system
    case = create(client, user="alice")  # team claims
    assert _get(client, case["id"], "alice")[0] == 200  # now cached
    status, body, _ = _get(client, case["id"], "bob")  # another team's caseworker
    assert status == 404 and body["error"]["code"] == "NOT_FOUND"
    assert _get(client, case["id"], "aud")[0] == 200  # auditors see everything


def test_patch_invalidates(system: Any) -> None:
    client, container, _ = system
    case = create(client)
    _get(client, case["id"])
    status, _, _ = call(client, "PATCH", f"/cases/{case['id']}", "alice", {"title": "Now dry"}, {"If-Match": '"1"'})
    assert status == 200
    assert container.cache.get(case_key(case["id"])) is None
    status, body, headers = _get(client, case["id"])
    assert (status, body["title"], headers["ETag"]) == (200, "Now dry", '"2"')


def test_a_comment_invalidates(system: Any) -> None:
    client, container, _ = system
    case = create(client)
    _get(client, case["id"])
    assert call(client, "POST", f"/cases/{case['id']}/comments", "alice", {"text": "called back"})[0] == 201
    assert container.cache.get(case_key(case["id"])) is None


def test_a_workflow_transition_invalidates(system: Any) -> None:
    client, container, _ = system
    case = create(client)
    assert _get(client, case["id"])[1]["status"] == "NEW"
    container.workflow.initiate(case["id"], "execution-1")  # the state machine's first step: NEW -> OPEN
    status, body, headers = _get(client, case["id"])
    assert (status, body["status"], headers["ETag"]) == (200, "OPEN", '"2"')


def test_task_assignment_invalidates_the_case_and_the_assignees_entry(system: Any) -> None:
    client, container, _ = system
    call(client, "PUT", "/personnel/alice", "ada", {"team": "claims", "skills": ["claims"], "capacity": 5})
    assert call(client, "GET", "/personnel/alice", "alice")[1]["openTasks"] == 0  # cached from here
    case = create(client)  # a GENERAL case of alice's team
    container.workflow.initiate(case["id"], "execution-1")
    assert _get(client, case["id"])[1]["status"] == "OPEN"  # cached from here
    container.workflow.assign(case["id"])  # creates the tasks, allocated to the only person in the team
    assigned = sum(t.assignee == "alice" for t in container.tasks.case_tasks(case["id"]))
    assert assigned > 0
    assert call(client, "GET", "/personnel/alice", "alice")[1]["openTasks"] == assigned
    assert _get(client, case["id"])[1]["status"] == "IN_PROGRESS"


def test_reads_during_the_delete_hold_do_not_refill() -> None:
    container = POOL.container()  # the default hold: 5 s
    with bootstrap.override(container), Client(app) as client:
        case = create(client)
        call(client, "PATCH", f"/cases/{case['id']}", "alice", {"title": "Now dry"}, {"If-Match": '"1"'})
        before = (container.cache.stats["hits"], container.cache.stats["sets"])  # opening it cached its type's
        bodies = [_get(client, case["id"])[1] for _ in range(2)]
        assert [body["title"] for body in bodies] == ["Now dry", "Now dry"]
        assert (container.cache.stats["hits"], container.cache.stats["sets"]) == before


def test_personnel_reads_are_cached_and_writes_invalidate(system: Any) -> None:
    client, container, _ = system
    call(client, "PUT", "/personnel/alice", "ada", {"team": "claims", "capacity": 5})
    assert [p["username"] for p in call(client, "GET", "/personnel", "ada")[1]["items"]] == ["alice"]
    hits = container.cache.stats["hits"]
    assert [p["username"] for p in call(client, "GET", "/personnel?team=claims", "sam")[1]["items"]] == ["alice"]
    assert container.cache.stats["hits"] == hits + 1  # the directory, from the cache
    call(client, "PUT", "/personnel/sam", "ada", {"team": "claims", "capacity": 3, "supervisor": True})
    assert call(client, "GET", "/personnel/alice", "alice")[1]["capacity"] == 5
    call(client, "PUT", "/personnel/alice", "ada", {"team": "complaints", "capacity": 7})
    assert call(client, "GET", "/personnel/alice", "alice")[1]["capacity"] == 7
    assert [p["username"] for p in call(client, "GET", "/personnel?team=claims", "sam")[1]["items"]] == ["sam"]
    assert call(client, "GET", "/personnel", "alice")[0] == 403  # the directory is cached; the decision is not


def test_the_stream_handler_deletes_what_a_write_elsewhere_left_stale(system: Any) -> None:
    client, container, repository = system
    case = create(client)
    _get(client, case["id"])
    stored = InMemoryCaseRepository.get_case(repository, case["id"])
    assert stored is not None
    repository.cases[case["id"]] = stored.model_copy(update={"title": "Changed elsewhere", "version": 2})
    assert _get(client, case["id"])[1]["title"] == case["title"]  # stale until the stream record arrives
    record = {
        "eventID": "1", "eventName": "MODIFY", "eventSource": "aws:dynamodb",
        "dynamodb": {"Keys": {"PK": {"S": f"CASE#{case['id']}"}, "SK": {"S": "CASE"}}},
    }
    result = client.lambda_.invoke("on_case_stream", {"Records": [record]})
    assert result.payload == {"batchItemFailures": []}
    assert _get(client, case["id"])[1]["title"] == "Changed elsewhere"


def test_stream_records_name_the_keys_they_make_stale() -> None:
    def record(pk: str, sk: str, name: str = "MODIFY") -> dict[str, Any]:
        return {"eventName": name, "dynamodb": {"Keys": {"PK": {"S": pk}, "SK": {"S": sk}}}}

    records = [
        record("CASE#c1", "CASE"), record("CASE#c1", "EVENT#000002"), record("CASE#c1", "CASE", "REMOVE"),
        record("PERSON#alice", "PERSON"), record("TASK#t1", "TASK"), {"eventName": "MODIFY"},
        record("CASETYPES", "CASETYPE#CLAIM"), record("CASETYPE#CLAIM", "V#000002", "INSERT"),
    ]
    assert stale_keys_of_records(records) == [
        "case:c1", "personnel:person:alice", "personnel:directory", "casetype:current:CLAIM",
    ]


class CountingWork(InMemoryWorkRepository):
    """Counts reads of person items: a remembered absence must not reach the store."""

    person_reads = 0

    def get_person(self, username: str) -> Any:
        self.person_reads += 1
        return super().get_person(username)


def test_someone_not_in_the_directory_is_remembered_as_absent_until_filed() -> None:
    work = CountingWork(InMemoryCaseRepository())
    cache = InProcessCache(delete_hold_seconds=0)
    people = PersonnelService(InvalidatingStore(work, cache, WORK_WRITES), cache=cache)
    eve = principal("eve", "approver")
    for _ in range(3):  # each of eve's requests asks for her team
        with pytest.raises(NotFound):
            people.get(eve, "eve")
    assert work.person_reads == 1
    people.put(principal("ada", "admin"), "eve", {"team": "claims", "capacity": 2})
    assert people.get(eve, "eve").team == "claims"  # filing her deleted the remembered absence


def test_a_remembered_absence_expires() -> None:
    clock = FakeMonotonic()
    work = CountingWork(InMemoryCaseRepository())
    people = PersonnelService(work, cache=InProcessCache(clock=clock), cache_ttl=60)
    with pytest.raises(NotFound):
        people.get(principal("eve", "approver"), "eve")
    clock.now += ABSENCE_CACHE_SECONDS + 1
    with pytest.raises(NotFound):
        people.get(principal("eve", "approver"), "eve")
    assert work.person_reads == 2


class FakeMonotonic:
    now = 1000.0

    def __call__(self) -> float:
        return self.now
