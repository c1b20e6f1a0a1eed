"""The OpenAPI document states the rules the code enforces: the schema and the models agree, value by value."""
from __future__ import annotations


import jsonschema
import pytest
from pydantic import ValidationError

from app import api
from chalicelib.domain.case_types import CaseTypeCreate
from chalicelib.domain.models import CaseCreate, CasePatch
from chalicelib.domain.personnel import PersonUpsert
from chalicelib.domain.tasks import BulkReassignment
from chalicelib.openapi import QUERY_MODELS, build_document

DOC = build_document(api.specs, "test", "0")


def valid(schema_name: str, body: dict) -> bool:
    """Whether the document's schema takes `body`, formats (`date`) included."""
    document = {"$ref": f"#/components/schemas/{schema_name}", "components": DOC["components"]}
    return jsonschema.Draft202012Validator(document, format_checker=jsonschema.FormatChecker()).is_valid(body)


def agree(model, schema_name: str, body: dict) -> bool:
    """Whether the model and the document's schema both take `body`, or both refuse it; returns the verdict."""
    by_document = valid(schema_name, body)
    try:
        model.model_validate(body)
        by_model = True
    except ValidationError:
        by_model = False
    assert by_document == by_model, (body, by_document, by_model)
    return by_model


def test_each_listing_documents_exactly_the_query_parameters_it_reads():
    for spec in api.specs:
        model = QUERY_MODELS.get((spec.method, spec.path))
        if spec.query:
            assert model is not None, f"{spec.method} {spec.path} has no query model in chalicelib/openapi.py"
            assert {f.alias for f in model.model_fields.values()} == set(spec.query), spec.path
        else:
            assert model is None, spec.path


@pytest.mark.parametrize("body, accepted", [
    ({"enabled": True, "reason": "litigation"}, True),
    ({"enabled": True}, False),  # the model takes it; the service answers 400: see the next test
    ({"enabled": False}, True),
    ({"enabled": False, "reason": None}, True),
])
def test_a_legal_hold_needs_its_reason_only_when_set(body, accepted):
    assert valid("LegalHoldRequest", body) is accepted


@pytest.mark.parametrize("body", [
    {"to": "bob", "from": "alice"}, {"to": "bob", "taskIds": ["t1"]}, {"to": "bob"},
    {"to": "bob", "from": "alice", "taskIds": ["t1"]}, {"to": "bob", "from": None, "taskIds": ["t1"]},
])
def test_a_bulk_reassignment_names_one_source(body):
    agree(BulkReassignment, "BulkReassignment", body)


@pytest.mark.parametrize("capacity", [3, 3.0, 3.5, True, "3", 0, 1001])
def test_a_capacity_is_a_whole_number_in_range(capacity):
    agree(PersonUpsert, "PersonUpsert", {"team": "claims", "capacity": capacity})


@pytest.mark.parametrize("day", ["2026-03-01", "0", 0, "2026-03-01T00:00:00", "20260301"])
def test_an_absence_takes_iso_dates_only(day):
    agree(PersonUpsert, "PersonUpsert", {"team": "claims", "capacity": 3, "outOfOffice": {"from": day, "to": day}})


@pytest.mark.parametrize("fields, accepted", [
    ({}, True), ({"caseType": "WARRANTY"}, True), ({"title": "   "}, False),
    ({"compensation": {"amount": "0.00", "currency": "EUR"}}, False),
    ({"caseType": "COMPLAINT", "compensation": {"amount": "900000.00", "currency": "EUR"}}, True),
])
def test_the_case_schema_leaves_case_types_and_their_caps_to_the_service(fields, accepted):
    """Case types are data an admin changes: the document names no type ids or caps; the service answers 400 for
    an unknown or retired type and for a compensation above its type's cap."""
    body = {"title": "Burst pipe", "caseType": "CLAIM", "priority": "HIGH", "customerId": "CUST-1", **fields}
    assert agree(CaseCreate, "CaseCreate", body) is accepted


def test_a_patch_changes_something():
    assert agree(CasePatch, "CasePatch", {}) is False
    assert agree(CasePatch, "CasePatch", {"priority": "LOW"}) is True


def test_path_parameters_and_headers_carry_their_patterns():
    patch = DOC["paths"]["/cases/{case_id}"]["patch"]["parameters"]
    assert {p["name"]: p["schema"].get("pattern") for p in patch} == {
        "case_id": r"^[A-Za-z0-9_-]{1,64}$", "If-Match": r'^[ \t]*(W/)?"*[0-9]+"*[ \t]*$',
    }
    customer = DOC["paths"]["/customers/{customer_id}"]["get"]["parameters"][0]
    assert customer["schema"]["pattern"] == r"^CUST-[0-9]{1,12}$"
    assert "404" in DOC["paths"]["/personnel/{username}"]["put"]["responses"]  # a username outside the pattern


@pytest.mark.parametrize("changes", [
    {}, {"approvalRequired": 0}, {"slaHours": {"LOW": "5"}}, {"slaHours": {"LOW": 5.0}}, {"slaHours": {"LOW": 5.5}},
    {"tasks": [{"type": "A", "title": "a", "required": 1}]},
    {"fields": [{"name": "a", "label": "A", "type": "number", "pii": 0}]},
    {"fields": [{"name": "a", "label": "A", "type": "number", "min": "1"}]},
    {"fields": [{"name": "a", "label": "A", "type": "number", "min": 1, "max": 2.5}]},
    {"fields": [{"name": "a", "label": "A", "type": "text", "maxLength": True}]},
])
def test_a_case_type_definition_takes_json_types_as_the_document_states_them(changes):
    agree(CaseTypeCreate, "CaseTypeCreate", {"id": "WARRANTY", "name": "Warranty", "slaHours": {"LOW": 5}, **changes})


@pytest.mark.parametrize("customer_id, accepted", [("CUST-1001", True), ("C-1001", False), ("CUST-", False)])
def test_a_case_and_the_customer_route_take_one_form_of_customer_id(customer_id, accepted):
    body = {"title": "t", "caseType": "GENERAL", "priority": "LOW", "customerId": customer_id}
    assert agree(CaseCreate, "CaseCreate", body) is accepted
    listing = {p["name"]: p["schema"] for p in DOC["paths"]["/cases"]["get"]["parameters"]}
    assert listing["customerId"]["pattern"] == r"^CUST-[0-9]{1,12}$"
