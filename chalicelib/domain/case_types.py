"""Case types are configuration: SLA, required documents, owning team, approval and caps."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Optional

from .models import ApiModel, Priority


class CaseType(ApiModel):
    id: str
    name: str
    team: Optional[str] = None  # None: the creator's team owns the case
    sla_hours: dict[Priority, int]
    required_documents: list[str] = []
    approval_required: bool = False
    compensation_cap: Optional[str] = None  # decimal string, in the case's currency


class CaseTypeList(ApiModel):
    items: list[CaseType]


_STANDARD_SLA = {Priority.LOW: 240, Priority.MEDIUM: 120, Priority.HIGH: 48, Priority.CRITICAL: 8}

DEFAULT_CASE_TYPES: tuple[CaseType, ...] = (
    CaseType(id="GENERAL", name="General enquiry", sla_hours=_STANDARD_SLA),
    CaseType(
        id="CLAIM", name="Insurance claim", team="claims",
        sla_hours={Priority.LOW: 336, Priority.MEDIUM: 168, Priority.HIGH: 72, Priority.CRITICAL: 24},
        required_documents=["claim-form", "proof-of-loss"], approval_required=True,
        compensation_cap="50000.00",
    ),
    CaseType(
        id="COMPLAINT", name="Customer complaint", team="complaints", sla_hours=_STANDARD_SLA,
        compensation_cap="5000.00",
    ),
)


def due_at(case_type: CaseType, priority: Priority, created: datetime) -> datetime:
    return created + timedelta(hours=case_type.sla_hours[priority])
