"""The case type store's contract, on its in-memory twin and on DynamoDB: a type is created once, published only
from the version read (the version and the head together), retired at its current version, every version kept,
and the current ones listed by id a page at a time."""
from __future__ import annotations

import pytest

from chalicelib.adapters.dynamo.case_types import DynamoCaseTypeStore
from chalicelib.adapters.memory.case_types import InMemoryCaseTypeStore
from chalicelib.domain.case_types import CaseType
from chalicelib.ports import InvalidStartKey, StaleWrite


@pytest.fixture(params=["memory", "dynamo"])
def store(request):
    if request.param == "memory":
        return InMemoryCaseTypeStore()
    return DynamoCaseTypeStore(request.getfixturevalue("dynamo_models"))


def case_type(type_id: str, version: int = 1, name: str = "A type") -> CaseType:
    return CaseType(id=type_id, version=version, name=name, sla_hours={"LOW": 10, "MEDIUM": 5, "HIGH": 2,
                    "CRITICAL": 1}, published_at=f"2026-03-0{version}T12:00:00.000Z", published_by="root",
                    tasks=[{"type": "CHECK", "title": "Check"}], fields=[{"name": "serial", "label": "S",
                                                                          "type": "string"}])


def test_a_type_is_created_once(store):
    assert store.current("WARRANTY") is None and store.version("WARRANTY", 1) is None
    assert store.create(case_type("WARRANTY")) is True
    assert store.create(case_type("WARRANTY", name="Another")) is False
    assert store.current("WARRANTY") == case_type("WARRANTY") == store.version("WARRANTY", 1)


def test_a_version_is_published_only_from_the_current_one_and_every_version_stays(store):
    store.create(case_type("WARRANTY"))
    store.publish(case_type("WARRANTY", 2, name="Second"))
    with pytest.raises(StaleWrite):
        store.publish(case_type("WARRANTY", 2, name="Lost race"))
    with pytest.raises(StaleWrite):
        store.publish(case_type("WARRANTY", 4))
    with pytest.raises(StaleWrite):
        store.publish(case_type("NOBODY", 2))
    assert store.current("WARRANTY") == case_type("WARRANTY", 2, name="Second") == store.version("WARRANTY", 2)
    assert store.version("WARRANTY", 1) == case_type("WARRANTY") and store.version("WARRANTY", 3) is None


def test_a_type_is_retired_at_its_current_version(store):
    store.create(case_type("WARRANTY"))
    store.publish(case_type("WARRANTY", 2))
    with pytest.raises(StaleWrite):
        store.retire("WARRANTY", 1)
    with pytest.raises(StaleWrite):
        store.retire("NOBODY", 1)
    retired = store.retire("WARRANTY", 2)
    assert retired.retired and store.current("WARRANTY") == retired
    assert not store.version("WARRANTY", 2).retired  # a version is kept as published
    with pytest.raises(StaleWrite):
        store.publish(case_type("WARRANTY", 2))


def test_the_current_types_are_listed_by_id_a_page_at_a_time(store):
    for type_id in ("C", "A", "B"):
        store.create(case_type(type_id))
    store.publish(case_type("B", 2))
    first, key = store.current_page(2, None)
    second, end = store.current_page(2, key)
    assert [(t.id, t.version) for t in first + second] == [("A", 1), ("B", 2), ("C", 1)] and end is None
    with pytest.raises(InvalidStartKey):
        store.current_page(2, {"PK": "CASE#x", "SK": "CASETYPE#A"})
