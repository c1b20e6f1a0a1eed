"""The case type catalog: admins create, publish (If-Match) and retire types; the seed types appear on first
use; versions are read once per process and the current one through the shared cache."""
from __future__ import annotations

from typing import Any

import pytest

from chalicelib.adapters.memory.case_types import InMemoryCaseTypeStore
from chalicelib.cache.memory import InProcessCache
from chalicelib.domain.models import Case
from chalicelib.errors import Conflict, Forbidden, InvalidInput, NotFound, PreconditionFailed
from chalicelib.services.case_types import CaseTypeCatalog
from tests.support import FixedClock, principal

ADMIN = principal("root", "admin")
CASEWORKER = principal("alice", "caseworker", team="claims")


class CountingStore:
    """The store, counting the calls that reach it."""

    def __init__(self) -> None:
        self.store, self.calls = InMemoryCaseTypeStore(), 0

    def __getattr__(self, name: str) -> Any:
        self.calls += 1
        return getattr(self.store, name)


@pytest.fixture
def store() -> CountingStore:
    return CountingStore()


@pytest.fixture
def catalog(store) -> CaseTypeCatalog:
    teams = {"claims", "complaints"}
    return CaseTypeCatalog(store, lambda: teams, clock=FixedClock(), cache=InProcessCache(delete_hold_seconds=0))


def warranty(**changes: Any) -> dict[str, Any]:
    return {"id": "WARRANTY", "name": "Warranty claim", "team": "claims",
            "slaHours": {"LOW": 240, "MEDIUM": 120, "HIGH": 48, "CRITICAL": 8},
            "tasks": [{"type": "CHECK", "title": "Check"}, {"type": "REPAIR", "title": "Repair"}], **changes}


def definition(**changes: Any) -> dict[str, Any]:
    body = warranty(**changes)
    del body["id"]
    return body


def test_the_seed_types_are_version_1_on_first_use_and_written_once(store):
    first = CaseTypeCatalog(store, lambda: set())
    assert [t.id for t in first.list(CASEWORKER).items] == ["CLAIM", "COMPLAINT", "GENERAL"]
    assert first.current("CLAIM").version == 1 and first.current("CLAIM").published_by == "seed"
    assert store.store.create(first.current("CLAIM")) is False  # already there
    again = CaseTypeCatalog(store, lambda: set())  # another container: finds them, writes nothing
    assert again.current("GENERAL") == first.current("GENERAL")


def test_an_admin_creates_a_type_and_only_an_admin(catalog):
    created = catalog.create(ADMIN, warranty())
    assert (created.id, created.version, created.published_by, created.retired) == ("WARRANTY", 1, "root", False)
    assert catalog.get(CASEWORKER, "WARRANTY") == created == catalog.get_version(CASEWORKER, "WARRANTY", 1)
    with pytest.raises(Forbidden):
        catalog.create(CASEWORKER, warranty(id="OTHER"))
    with pytest.raises(Conflict):
        catalog.create(ADMIN, warranty())
    with pytest.raises(Conflict):
        catalog.create(ADMIN, warranty(id="CLAIM"))  # a seed's id


def test_a_definition_that_cannot_work_is_a_400_naming_each_path(catalog):
    with pytest.raises(InvalidInput) as refused:
        catalog.create(ADMIN, warranty(team="ghosts", tasks=[{"type": "A", "title": "a"}, {"type": "A", "title": "b"}]))
    assert {d.field for d in refused.value.details} == {"team", "tasks[1].type"}
    with pytest.raises(InvalidInput) as refused:
        catalog.create(ADMIN, warranty(id="lower", tasks=[{"title": "no type"}], colour="red"))
    assert {d.field for d in refused.value.details} == {"id", "tasks[0].type", "colour"}


def test_publishing_needs_the_current_version_in_if_match(catalog):
    catalog.create(ADMIN, warranty())
    second = catalog.publish(ADMIN, "WARRANTY", definition(name="Warranty claim v2"), '"1"')
    assert (second.version, second.name) == (2, "Warranty claim v2")
    assert catalog.get(CASEWORKER, "WARRANTY") == second
    assert catalog.get_version(CASEWORKER, "WARRANTY", 1).name == "Warranty claim"
    with pytest.raises(PreconditionFailed):
        catalog.publish(ADMIN, "WARRANTY", definition(), '"1"')
    with pytest.raises(InvalidInput) as refused:
        catalog.publish(ADMIN, "WARRANTY", definition(), None)
    assert refused.value.details[0].field == "If-Match"
    with pytest.raises(Forbidden):
        catalog.publish(CASEWORKER, "WARRANTY", definition(), '"2"')
    with pytest.raises(NotFound):
        catalog.publish(ADMIN, "NOBODY", definition(), '"1"')
    with pytest.raises(InvalidInput) as refused:
        catalog.publish(ADMIN, "WARRANTY", definition(slaHours={"LOW": 1}), '"2"')
    assert refused.value.details[0].field == "slaHours"


def test_a_retired_type_opens_no_new_cases_but_its_versions_stay(catalog):
    catalog.create(ADMIN, warranty())
    with pytest.raises(Forbidden):
        catalog.retire(CASEWORKER, "WARRANTY")
    assert catalog.for_new_case("WARRANTY").version == 1
    assert catalog.retire(ADMIN, "WARRANTY").retired
    with pytest.raises(InvalidInput) as refused:
        catalog.for_new_case("WARRANTY")
    assert refused.value.details[0].field == "caseType" and "retired" in refused.value.details[0].issue
    with pytest.raises(Conflict):
        catalog.publish(ADMIN, "WARRANTY", definition(), '"1"')
    assert catalog.get(CASEWORKER, "WARRANTY").retired
    assert not catalog.get_version(CASEWORKER, "WARRANTY", 1).retired
    with pytest.raises(NotFound):
        catalog.retire(ADMIN, "NOBODY")


def test_an_unknown_type_for_a_new_case_lists_the_active_ones(catalog):
    catalog.create(ADMIN, warranty())
    catalog.retire(ADMIN, "WARRANTY")
    with pytest.raises(InvalidInput) as refused:
        catalog.for_new_case("NOBODY")
    assert refused.value.details[0].field == "caseType"
    assert refused.value.details[0].issue == "must be one of CLAIM, COMPLAINT, GENERAL"


def test_a_case_reads_its_pinned_version(catalog):
    catalog.create(ADMIN, warranty())
    catalog.publish(ADMIN, "WARRANTY", definition(name="v2"), '"1"')
    case = Case.model_construct(case_type="WARRANTY", case_type_version=1)
    assert catalog.of_case(case).name == "Warranty claim"
    with pytest.raises(NotFound):
        catalog.of_case(Case.model_construct(case_type="WARRANTY", case_type_version=3))


def test_a_warm_catalog_reads_types_without_a_store_request(catalog, store):
    catalog.create(ADMIN, warranty())
    catalog.current("WARRANTY"), catalog.for_new_case("GENERAL")
    catalog.of_case(Case.model_construct(case_type="CLAIM", case_type_version=1))
    before = store.calls
    for _ in range(3):
        catalog.current("WARRANTY"), catalog.for_new_case("GENERAL")
        catalog.of_case(Case.model_construct(case_type="CLAIM", case_type_version=1))
    assert store.calls == before


def test_the_listing_is_paged(catalog):
    catalog.create(ADMIN, warranty())
    first = catalog.list(CASEWORKER, limit=3)
    second = catalog.list(CASEWORKER, limit=3, page_cursor=first.next_cursor)
    assert [t.id for t in first.items + second.items] == ["CLAIM", "COMPLAINT", "GENERAL", "WARRANTY"]
    assert second.next_cursor is None
    with pytest.raises(InvalidInput):
        catalog.list(CASEWORKER, limit=0)
