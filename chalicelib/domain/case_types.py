"""Case types are configuration: SLA, required documents, owning team, approval and caps (per currency), custom
fields and a calendar. Admins publish them as numbered versions; a case keeps the version it was opened under."""
from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Callable, Collection, Optional

from pydantic import Field, StrictBool, StringConstraints

from ..errors import FieldIssue
from .assignment import AssignmentRule
from .base import ApiModel, ApiPage, RequestModel, WholeNumber
from .calendars import CalendarId
from .custom_fields import FieldDefinition, FieldType, fields_json_schema
from .models import Priority
from .tasks import TaskTemplate

CaseTypeId = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_]{0,39}$")]
VERSION_NUMBER = re.compile(r"^[1-9]\d{0,8}$")  # a version in a path: /case-types/{id}/versions/{version}


class ApprovalPolicy(ApiModel):
    """How many approval levels a case needs: one, or two at a priority (or above its currency's amount)."""

    second_level_priorities: list[Priority] = []


class CurrencyPolicy(ApiModel):
    """A case type's money rules in one currency: amounts are never compared across currencies."""

    cap: Optional[str] = None  # decimal string: the most a compensation may ask for and be approved
    second_level_above: Optional[str] = None  # decimal string: a compensation above it needs approval level 2


class CaseTypeRules(ApiModel):
    """What a case type sets for its cases: the part an admin writes."""

    name: str = Field(min_length=1, max_length=100)
    team: Optional[str] = None  # None: the creator's team owns the case
    sla_hours: dict[Priority, WholeNumber]
    required_documents: list[str] = []
    approval_required: StrictBool = False
    currencies: dict[str, CurrencyPolicy] = {}  # the currencies a compensation may be asked in, and their rules
    approval_policy: ApprovalPolicy = ApprovalPolicy()
    tasks: list[TaskTemplate] = []  # created for every case of the type when the workflow assigns it
    assignment: list[AssignmentRule] = []  # the first rule matching the case's priority applies
    fields: list[FieldDefinition] = []  # custom fields its cases carry in `fields`
    calendar: Optional[CalendarId] = None  # None: SLAs run in calendar time


class CaseType(CaseTypeRules):
    """One published version of a case type: immutable once published."""

    id: str
    version: int = Field(default=1, ge=1, description="1 at creation, +1 on every publish")
    retired: bool = Field(default=False, description="a retired type opens no new cases; running ones go on")
    published_at: Optional[str] = None
    published_by: Optional[str] = None


class CaseTypeDefinition(CaseTypeRules):
    """The body of PUT /case-types/{id}: the next version's rules."""

    model_config = RequestModel.model_config


class CaseTypeCreate(CaseTypeDefinition):
    """The body of POST /case-types: a new type's id and its first version's rules."""

    id: CaseTypeId = Field(description="upper case letters, digits and _, e.g. WARRANTY_CLAIM")


class CaseTypeList(ApiPage):
    items: list[CaseType]


# The seeded case types are data in the repository, one file per type (chalice packages all of chalicelib/).
SEED_DIR = Path(__file__).parent.parent / "seed" / "case_types"


def seed_case_types(directory: Path = SEED_DIR) -> tuple[CaseTypeCreate, ...]:
    """The seed case types, by id, each validated as a POST /case-types body (a bad file fails loudly)."""
    return tuple(
        CaseTypeCreate.model_validate(json.loads(path.read_text(encoding="utf-8")))
        for path in sorted(directory.glob("*.json"))
    )



# -- what makes a definition unworkable --------------------------------------------------------------

_CURRENCY = re.compile(r"^[A-Z]{3}$")
_DECIMAL = re.compile(r"^\d{1,12}(\.\d{1,2})?$")
_NUMERIC = {FieldType.INTEGER, FieldType.NUMBER, FieldType.MONEY}
_TEXTUAL = {FieldType.STRING, FieldType.TEXT}


def _no_calendar(calendar_id: str) -> bool:
    return False


def definition_faults(
    rules: CaseTypeRules, teams: Collection[str], calendar_exists: Callable[[str], bool] = _no_calendar,
) -> list[FieldIssue]:
    """Every reason `rules` cannot work, each named by its JSON path (`tasks[1].type`). `teams`: the teams
    the personnel directory knows; `calendar_exists`: whether a calendar id names a stored calendar."""
    faults: list[FieldIssue] = []
    if rules.team is not None and rules.team not in teams:
        faults.append(FieldIssue("team", f"unknown team {rules.team}"))
    if rules.calendar is not None and not calendar_exists(rules.calendar):
        faults.append(FieldIssue("calendar", f"unknown calendar {rules.calendar}"))
    faults += _sla_faults("slaHours", rules.sla_hours, every_priority=True)
    faults += _duplicates("requiredDocuments", rules.required_documents)
    faults += _currency_faults(rules)
    if rules.approval_policy.second_level_priorities and not (rules.approval_required or rules.currencies):
        faults.append(FieldIssue(
            "approvalPolicy.secondLevelPriorities",
            "a second level needs an approval: set approvalRequired, or currencies for compensations",
        ))
    faults += _task_faults(rules.tasks)
    faults += _assignment_faults(rules.assignment, teams)
    for i, definition in enumerate(rules.fields):
        faults += _field_faults(f"fields[{i}]", definition)
    faults += _duplicates("fields", [f.name for f in rules.fields], suffix=".name")
    return faults


def _sla_faults(path: str, hours: dict[Priority, int], every_priority: bool) -> list[FieldIssue]:
    faults = [FieldIssue(f"{path}.{p.value}", "must be a positive number of hours") for p, h in hours.items() if h < 1]
    missing = [p.value for p in Priority if p not in hours]
    if every_priority and missing:
        faults.append(FieldIssue(path, f"missing {', '.join(missing)}: every priority needs an SLA"))
    return faults


def _duplicates(path: str, values: list[str], suffix: str = "") -> list[FieldIssue]:
    seen: set[str] = set()
    faults = []
    for i, value in enumerate(values):
        if value in seen:
            faults.append(FieldIssue(f"{path}[{i}]{suffix}", f"{value} is named twice"))
        seen.add(value)
    return faults


def _currency_faults(rules: CaseTypeRules) -> list[FieldIssue]:
    faults = []
    for code, policy in rules.currencies.items():
        if not _CURRENCY.match(code):
            faults.append(FieldIssue(f"currencies.{code}", "not an ISO 4217 code (three upper case letters)"))
        for name, value in (("cap", policy.cap), ("secondLevelAbove", policy.second_level_above)):
            if value is not None and not (_DECIMAL.match(value) and Decimal(value) > 0):
                faults.append(FieldIssue(f"currencies.{code}.{name}", "must be a decimal above 0, at most 2 decimals"))
    return faults


# A case's tasks are created in one transaction (DynamoDB: 100 items): up to 7 items a task when nobody can take
# it (its event, item, two due markers, and an escalation's event, item and load), plus the case and a cursor.
MAX_TASK_TEMPLATES = 10


def _task_faults(tasks: list[TaskTemplate]) -> list[FieldIssue]:
    faults = _duplicates("tasks", [t.type for t in tasks], suffix=".type")
    if len(tasks) > MAX_TASK_TEMPLATES:
        faults.append(FieldIssue(
            "tasks", f"at most {MAX_TASK_TEMPLATES} tasks: a case's tasks are created together, in one write",
        ))
    for i, task in enumerate(tasks):
        if not task.type.strip():
            faults.append(FieldIssue(f"tasks[{i}].type", "must not be empty"))
        if not task.title.strip():
            faults.append(FieldIssue(f"tasks[{i}].title", "must not be empty"))
        if task.sla_hours is not None:
            faults += _sla_faults(f"tasks[{i}].slaHours", task.sla_hours, every_priority=False)
    return faults


def _assignment_faults(rules: list[AssignmentRule], teams: Collection[str]) -> list[FieldIssue]:
    faults = []
    covered: set[Priority] = set()
    for i, rule in enumerate(rules):
        if rule.team is not None and rule.team not in teams:
            faults.append(FieldIssue(f"assignment[{i}].team", f"unknown team {rule.team}"))
        applies = set(rule.priorities) or set(Priority)
        if applies <= covered:
            faults.append(FieldIssue(f"assignment[{i}]", "never applies: earlier rules cover its priorities"))
        covered |= applies
    return faults


def _field_faults(path: str, field: FieldDefinition) -> list[FieldIssue]:
    faults = []
    if field.type == FieldType.ENUM and not field.enum:
        faults.append(FieldIssue(f"{path}.enum", "an enum field needs its values"))
    elif field.type != FieldType.ENUM and field.enum is not None:
        faults.append(FieldIssue(f"{path}.enum", "only an enum field has values"))
    elif field.enum and len(set(field.enum)) != len(field.enum):
        faults.append(FieldIssue(f"{path}.enum", "a value is named twice"))
    for name, bound in (("min", field.min), ("max", field.max)):
        if bound is not None and field.type not in _NUMERIC:
            faults.append(FieldIssue(f"{path}.{name}", "only an integer, number or money field has bounds"))
    if field.min is not None and field.max is not None and field.min > field.max:
        faults.append(FieldIssue(f"{path}.min", "must not be above max"))
    if field.max_length is not None and field.type not in _TEXTUAL:
        faults.append(FieldIssue(f"{path}.maxLength", "only a string or text field has a maxLength"))
    if field.pattern is not None:
        if field.type not in _TEXTUAL:
            faults.append(FieldIssue(f"{path}.pattern", "only a string or text field has a pattern"))
        else:
            try:
                re.compile(field.pattern)
            except re.error as exc:
                faults.append(FieldIssue(f"{path}.pattern", f"not a regular expression: {exc}"))
    return faults


def fields_schema(case_type: CaseType) -> dict[str, Any]:
    """GET /case-types/{id}/schema: the version's custom fields as JSON Schema, named by the type and version
    (`$id` is where the API serves it, relative to the API's address)."""
    return {
        "$id": f"/case-types/{case_type.id}/schema?version={case_type.version}",
        "title": f"{case_type.name} ({case_type.id}) version {case_type.version}: custom fields",
        **fields_json_schema(case_type.fields),
    }
