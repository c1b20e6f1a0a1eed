"""Case types are configuration: SLA, required documents, owning team, approval and caps (per currency)."""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Optional

from .assignment import AssignmentRule
from .base import ApiModel
from .models import Priority
from .tasks import TaskTemplate


class ApprovalPolicy(ApiModel):
    """How many approval levels a case needs: one, or two at a priority (or above its currency's amount)."""

    second_level_priorities: list[Priority] = []


class CurrencyPolicy(ApiModel):
    """A case type's money rules in one currency: amounts are never compared across currencies."""

    cap: Optional[str] = None  # decimal string: the most a compensation may ask for and be approved
    second_level_above: Optional[str] = None  # decimal string: a compensation above it needs approval level 2


class CaseType(ApiModel):
    id: str
    name: str
    team: Optional[str] = None  # None: the creator's team owns the case
    sla_hours: dict[Priority, int]
    required_documents: list[str] = []
    approval_required: bool = False
    currencies: dict[str, CurrencyPolicy] = {}  # the currencies a compensation may be asked in, and their rules
    approval_policy: ApprovalPolicy = ApprovalPolicy()
    tasks: list[TaskTemplate] = []  # created for every case of the type when the workflow assigns it
    assignment: list[AssignmentRule] = []  # the first rule matching the case's priority applies


class CaseTypeList(ApiModel):
    items: list[CaseType]


# The seeded case types are data, shipped beside this module (chalice packages every file under chalicelib/).
_SEED = Path(__file__).with_name("case_types.json")


def load_case_types(path: Path) -> tuple[CaseType, ...]:
    """Case types from a JSON list in the API's shape, each validated as a CaseType (a bad file fails loudly)."""
    return tuple(CaseType.model_validate(raw) for raw in json.loads(path.read_text(encoding="utf-8")))


# Loaded at import: every function's container is built with them, so loading later would only move the cost.
DEFAULT_CASE_TYPES = load_case_types(_SEED)


def due_at(case_type: CaseType, priority: Priority, created: datetime) -> datetime:
    return created + timedelta(hours=case_type.sla_hours[priority])
