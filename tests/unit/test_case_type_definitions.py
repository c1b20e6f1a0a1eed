"""A case type definition that cannot work is refused with every fault, each named by its JSON path."""
from __future__ import annotations

from typing import Any

import pytest

from chalicelib.domain.case_types import (
    MAX_TASK_TEMPLATES, CaseTypeDefinition, definition_faults, seed_case_types,
)

TEAMS = {"claims", "complaints"}


def definition(**changes: Any) -> CaseTypeDefinition:
    body: dict[str, Any] = {
        "name": "Warranty claim", "team": "claims",
        "slaHours": {"LOW": 240, "MEDIUM": 120, "HIGH": 48, "CRITICAL": 8},
        "currencies": {"EUR": {"cap": "500.00", "secondLevelAbove": "100.00"}},
        "tasks": [{"type": "CHECK", "title": "Check the receipt"}, {"type": "REPAIR", "title": "Repair it"}],
        "assignment": [{"policy": "LEAST_LOADED"}],
        "fields": [{"name": "serial", "label": "Serial number", "type": "string", "pattern": "^[A-Z0-9]+$"}],
    }
    return CaseTypeDefinition.model_validate({**body, **changes})


def faults(rules: CaseTypeDefinition, **options: Any) -> dict[str, str]:
    return {f.field: f.issue for f in definition_faults(rules, TEAMS, **options)}


def test_a_workable_definition_and_the_seeds_have_no_fault():
    assert faults(definition()) == {}
    assert all(faults(seed) == {} for seed in seed_case_types())


def test_a_task_type_twice_is_named_by_its_second_place():
    tasks = [{"type": "CHECK", "title": "a"}, {"type": "CHECK", "title": "b"}, {"type": "", "title": " "}]
    assert faults(definition(tasks=tasks)) == {
        "tasks[1].type": "CHECK is named twice", "tasks[2].type": "must not be empty",
        "tasks[2].title": "must not be empty",
    }


def test_no_more_tasks_than_one_write_can_create():
    tasks = [{"type": f"T{n}", "title": f"task {n}"} for n in range(MAX_TASK_TEMPLATES + 1)]
    assert set(faults(definition(tasks=tasks))) == {"tasks"}
    assert faults(definition(tasks=tasks[:MAX_TASK_TEMPLATES])) == {}


def test_a_task_sla_must_be_positive():
    assert set(faults(definition(tasks=[{"type": "A", "title": "a", "slaHours": {"HIGH": 0}}]))) == {
        "tasks[0].slaHours.HIGH"}


def test_unknown_teams_in_the_type_and_its_rules():
    found = faults(definition(team="nobody", assignment=[{"policy": "LEAST_LOADED", "team": "ghosts"}]))
    assert found == {"team": "unknown team nobody", "assignment[0].team": "unknown team ghosts"}


def test_an_assignment_rule_after_a_catch_all_never_applies():
    rules = [{"policy": "LEAST_LOADED", "priorities": ["HIGH"]}, {"policy": "ROUND_ROBIN"},
             {"policy": "SKILLS_MATCH", "priorities": ["LOW"]}]
    assert set(faults(definition(assignment=rules))) == {"assignment[2]"}


def test_a_calendar_must_exist():
    assert set(faults(definition(calendar="NL"))) == {"calendar"}
    assert faults(definition(calendar="NL"), calendar_exists=lambda c: c == "NL") == {}


def test_every_priority_needs_a_positive_sla():
    found = faults(definition(slaHours={"LOW": 0, "MEDIUM": 1}))
    assert found == {"slaHours.LOW": "must be a positive number of hours",
                     "slaHours": "missing HIGH, CRITICAL: every priority needs an SLA"}


@pytest.mark.parametrize("currencies, path", [
    ({"EUR": {"cap": "12,50"}}, "currencies.EUR.cap"),
    ({"EUR": {"secondLevelAbove": "0.00"}}, "currencies.EUR.secondLevelAbove"),
    ({"EUR": {"cap": "1.234"}}, "currencies.EUR.cap"),
    ({"euro": {}}, "currencies.euro"),
])
def test_currencies_are_iso_codes_with_positive_decimal_amounts(currencies, path):
    assert set(faults(definition(currencies=currencies))) == {path}


def test_a_second_level_by_priority_needs_an_approval():
    rules = definition(currencies={}, approvalPolicy={"secondLevelPriorities": ["CRITICAL"]})
    assert set(faults(rules)) == {"approvalPolicy.secondLevelPriorities"}
    assert faults(rules.model_copy(update={"approval_required": True})) == {}


def test_a_required_document_twice():
    assert set(faults(definition(requiredDocuments=["receipt", "photo", "receipt"]))) == {"requiredDocuments[2]"}


def field(**changes: Any) -> dict[str, Any]:
    return {"name": "f", "label": "F", "type": "string", **changes}


@pytest.mark.parametrize("fields, path", [
    ([field(name="a"), field(name="b"), field(name="a")], "fields[2].name"),
    ([field(type="enum")], "fields[0].enum"),
    ([field(type="enum", enum=[])], "fields[0].enum"),
    ([field(enum=["x"])], "fields[0].enum"),
    ([field(type="enum", enum=["x", "x"])], "fields[0].enum"),
    ([field(name="a"), field(name="b", type="integer", min=5, max=1)], "fields[1].min"),
    ([field(min=1)], "fields[0].min"),
    ([field(type="date", max=1)], "fields[0].max"),
    ([field(name="a"), field(name="b"), field(name="c"), field(name="d", pattern="([a-z")], "fields[3].pattern"),
    ([field(type="integer", pattern="^1$")], "fields[0].pattern"),
    ([field(type="boolean", maxLength=10)], "fields[0].maxLength"),
])
def test_custom_field_definitions_that_cannot_work(fields, path):
    assert set(faults(definition(fields=fields))) == {path}


def test_workable_custom_fields():
    fields = [field(name="a", type="enum", enum=["x", "y"]), field(name="b", type="money", min=0, max=10),
              field(name="c", type="text", maxLength=5000, pattern="^.*$"), field(name="d", type="boolean")]
    assert faults(definition(fields=fields)) == {}


def test_every_fault_is_reported_at_once():
    rules = definition(team="nobody", tasks=[{"type": "A", "title": "a"}, {"type": "A", "title": "b"}],
                       fields=[field(type="enum")])
    assert set(faults(rules)) == {"team", "tasks[1].type", "fields[0].enum"}
