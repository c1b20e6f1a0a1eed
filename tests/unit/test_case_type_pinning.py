"""A case is opened under its type's current version and keeps it: a later version changes no running case."""
from __future__ import annotations

from typing import Any

import pytest

from chalicelib.adapters.memory.cases import InMemoryCaseRepository
from chalicelib.errors import InvalidInput
from chalicelib.services.cases import CaseNumbers, CaseService
from tests.support import FixedClock, SequentialIds, case_types, principal

ADMIN = principal("root", "admin")
ALICE = principal("alice", "caseworker", team="general")


@pytest.fixture
def catalog():
    return case_types()


@pytest.fixture
def cases(catalog) -> CaseService:
    repo = InMemoryCaseRepository()
    return CaseService(repo, catalog, CaseNumbers(repo), clock=FixedClock(), new_id=SequentialIds("case"))


def opened(cases: CaseService, **changes: Any):
    body = {"title": "Lost luggage", "caseType": "GENERAL", "priority": "HIGH", "customerId": "CUST-1", **changes}
    return cases.create(ALICE, body)


def general(catalog, **changes: Any) -> dict[str, Any]:
    rules = catalog.current("GENERAL").model_dump(by_alias=True, exclude={"id", "version", "retired", "published_at",
                                                                          "published_by"})
    return {**rules, **changes}


def test_a_case_records_the_version_it_was_opened_under_and_keeps_its_rules(cases, catalog):
    first = opened(cases)
    assert first.case_type_version == 1 and first.to_api()["caseTypeVersion"] == 1
    slower = {"LOW": 480, "MEDIUM": 240, "HIGH": 96, "CRITICAL": 16}
    catalog.publish(ADMIN, "GENERAL", general(catalog, slaHours=slower), '"1"')
    second = opened(cases)
    assert second.case_type_version == 2
    # the priority moves the due date by the SLA of the version each case was opened under
    moved = cases.update(ALICE, first.id, {"priority": "LOW"}, '"1"')
    assert moved.due_at == "2026-03-11T12:00:00.000Z"  # 240 hours, version 1's LOW
    assert cases.update(ALICE, second.id, {"priority": "LOW"}, '"1"').due_at == "2026-03-21T12:00:00.000Z"


def test_an_unknown_type_is_a_400_listing_the_active_ones(cases, catalog):
    catalog.retire(ADMIN, "COMPLAINT")
    with pytest.raises(InvalidInput) as refused:
        opened(cases, caseType="NOPE")
    assert [(d.field, d.issue) for d in refused.value.details] == [("caseType", "must be one of CLAIM, GENERAL")]


def test_a_retired_type_opens_no_case_but_its_cases_go_on(cases, catalog):
    running = opened(cases)
    catalog.retire(ADMIN, "GENERAL")
    with pytest.raises(InvalidInput) as refused:
        opened(cases)
    assert refused.value.details[0].field == "caseType" and "retired" in refused.value.details[0].issue
    assert cases.update(ALICE, running.id, {"priority": "LOW"}, '"1"').priority == "LOW"
