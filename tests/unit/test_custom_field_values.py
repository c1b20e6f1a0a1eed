"""Custom fields on cases: given on create and PATCH, checked against the case's type version (400s naming
`fields.<name>`), audited per field, rebuilt as of an instant, and filtered on by a listing of one type."""
from __future__ import annotations

from typing import Any

import pytest

from chalicelib.adapters.memory.cases import InMemoryCaseRepository
from chalicelib.domain.case_as_of import rebuild
from chalicelib.errors import Conflict, InvalidInput
from chalicelib.services.cases import CaseNumbers, CaseService, ListFilters
from tests.support import FixedClock, SequentialIds, case_types, definition_of, fields_of, principal

ADMIN = principal("root", "admin")
ALICE = principal("alice", "caseworker", team="general")
FIELDS = [
    {"name": "severity", "label": "Severity", "type": "enum", "enum": ["low", "high"]},
    {"name": "units", "label": "Units", "type": "number", "required": True, "min": 1},
    {"name": "phone", "label": "Phone", "type": "string", "pii": True},
    {"name": "urgent", "label": "Urgent", "type": "boolean"},
]


@pytest.fixture
def catalog():
    types = case_types()
    types.create(ADMIN, {**definition_of(types, "GENERAL", name="Repair", fields=FIELDS), "id": "REPAIR"})
    return types


@pytest.fixture
def repo() -> InMemoryCaseRepository:
    return InMemoryCaseRepository()


@pytest.fixture
def cases(catalog, repo) -> CaseService:
    return CaseService(repo, catalog, CaseNumbers(repo), clock=FixedClock(), new_id=SequentialIds("case"))


def opened(cases: CaseService, **fields: Any):
    return cases.create(ALICE, {"title": "Broken tap", "caseType": "REPAIR", "priority": "LOW",
                                "customerId": "CUST-1", "fields": fields})


def listed(cases: CaseService, case_type: Any = "REPAIR", **params: str) -> list[str]:
    page = cases.list(ALICE, ListFilters(case_type=case_type), 50, None, params)
    return [case.id for case in page.items]


class TestCreate:
    def test_values_are_checked_normalised_and_stored_with_the_created_event(self, cases, repo):
        case = opened(cases, urgent=True, units=2.0, severity="high", phone="+44 20 7946 0000")
        assert case.fields == {"severity": "high", "units": 2, "phone": "+44 20 7946 0000", "urgent": True}
        assert repo.list_events(case.id)[0].data["case"]["fields"] == case.fields

    def test_each_bad_value_and_each_missing_required_field_is_named(self, cases):
        with pytest.raises(InvalidInput) as refused:
            opened(cases, severity="medium", urgent="yes", colour="red")
        assert sorted(fields_of(refused.value)) == [
            "fields.colour", "fields.severity", "fields.units", "fields.urgent",
        ]

    def test_a_type_without_fields_takes_none(self, cases):
        with pytest.raises(InvalidInput) as refused:
            cases.create(ALICE, {"title": "Boiler", "caseType": "GENERAL", "priority": "LOW", "customerId": "CUST-1",
                                 "fields": {"units": 1}})
        assert fields_of(refused.value) == ["fields.units"]

    def test_a_replayed_create_compares_its_fields_too(self, cases):
        body = {"title": "Broken tap", "caseType": "REPAIR", "priority": "LOW", "customerId": "CUST-1",
                "fields": {"units": 1}}
        first = cases.create(ALICE, body, "key-1")
        assert cases.create(ALICE, body, "key-1").id == first.id
        with pytest.raises(Conflict) as refused:
            cases.create(ALICE, {**body, "fields": {"units": 2}}, "key-1")
        assert fields_of(refused.value) == ["Idempotency-Key"]


class TestPatch:
    def test_only_the_named_fields_change_each_audited_and_null_clears_one(self, cases, repo):
        case = opened(cases, units=1, severity="low", urgent=False)
        patched = cases.update(ALICE, case.id, {"fields": {"severity": "high", "urgent": None, "units": 1}}, '"1"')
        assert patched.fields == {"severity": "high", "units": 1} and patched.version == 2
        event = repo.list_events(case.id)[-1]
        assert event.type == "CASE_UPDATED" and event.data["changes"] == {
            "fields.severity": {"from": "low", "to": "high"}, "fields.urgent": {"from": False, "to": None},
        }
        rebuilt, _ = rebuild(repo.list_events(case.id))
        assert rebuilt.fields == patched.fields and rebuilt.version == 2

    def test_unchanged_values_write_nothing(self, cases, repo):
        case = opened(cases, units=3)
        assert cases.update(ALICE, case.id, {"fields": {"units": 3.0}}, '"1"').version == 1
        assert len(repo.list_events(case.id)) == 1

    def test_bad_values_and_clearing_a_required_field_are_named(self, cases):
        case = opened(cases, units=3)
        with pytest.raises(InvalidInput) as refused:
            cases.update(ALICE, case.id, {"fields": {"units": None, "severity": "huge", "nope": 1}}, '"1"')
        assert sorted(fields_of(refused.value)) == ["fields.nope", "fields.severity", "fields.units"]

    def test_values_are_checked_against_the_version_the_case_was_opened_under(self, cases, catalog):
        case = opened(cases, units=3)
        model = {"name": "model", "label": "Model", "type": "string", "required": True}
        catalog.publish(ADMIN, "REPAIR", definition_of(catalog, "REPAIR", fields=[*FIELDS, model]), '"1"')
        with pytest.raises(InvalidInput) as refused:
            cases.update(ALICE, case.id, {"fields": {"model": "X1"}}, '"1"')
        assert fields_of(refused.value) == ["fields.model"]  # not a field of version 1
        assert cases.update(ALICE, case.id, {"fields": {"units": 4}}, '"1"').fields == {"units": 4}


class TestListFilters:
    def test_enum_and_boolean_fields_filter_a_listing_of_the_type(self, cases):
        high = opened(cases, units=1, severity="high", urgent=True).id
        low = opened(cases, units=1, severity="low", urgent=True).id
        unset = opened(cases, units=1).id
        assert listed(cases) == [unset, low, high]
        assert listed(cases, **{"field.severity": "high"}) == [high]
        assert listed(cases, **{"field.urgent": "true"}) == [low, high]
        assert listed(cases, **{"field.urgent": "false"}) == []
        assert listed(cases, **{"field.urgent": "true", "field.severity": "low"}) == [low]

    def test_a_field_filter_needs_case_type(self, cases):
        with pytest.raises(InvalidInput) as refused:
            listed(cases, case_type=None, **{"field.severity": "high", "field.urgent": "true"})
        assert fields_of(refused.value) == ["field.severity", "field.urgent"]
        assert [d.issue for d in refused.value.details] == ["needs caseType", "needs caseType"]

    def test_only_enum_and_boolean_fields_of_the_type_with_their_values(self, cases):
        with pytest.raises(InvalidInput) as refused:
            listed(cases, **{"field.units": "1", "field.severity": "medium", "field.urgent": "yes"})
        assert sorted(fields_of(refused.value)) == ["field.severity", "field.units", "field.urgent"]

    def test_a_cursor_is_bound_to_its_field_filters(self, cases):
        for _ in range(3):
            opened(cases, units=1, severity="high")
        first = cases.list(ALICE, ListFilters(case_type="REPAIR"), 1, None, {"field.severity": "high"})
        assert first.next_cursor is not None
        nxt = cases.list(ALICE, ListFilters(case_type="REPAIR"), 1, first.next_cursor, {"field.severity": "high"})
        assert len(nxt.items) == 1 and nxt.items[0].id != first.items[0].id
        with pytest.raises(InvalidInput) as refused:
            cases.list(ALICE, ListFilters(case_type="REPAIR"), 1, first.next_cursor, {"field.severity": "low"})
        assert fields_of(refused.value) == ["cursor"]
