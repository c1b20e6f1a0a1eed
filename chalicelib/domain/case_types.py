"""Case types are configuration: SLA, required documents, owning team, approval and caps (per currency)."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Optional

from .assignment import AssignmentPolicy, AssignmentRule
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


_STANDARD_SLA = {Priority.LOW: 240, Priority.MEDIUM: 120, Priority.HIGH: 48, Priority.CRITICAL: 8}


def _in_currencies(eur: CurrencyPolicy, usd: CurrencyPolicy, gbp: CurrencyPolicy) -> dict[str, CurrencyPolicy]:
    return {"EUR": eur, "USD": usd, "GBP": gbp}

DEFAULT_CASE_TYPES: tuple[CaseType, ...] = (
    CaseType(
        id="GENERAL", name="General enquiry", sla_hours=_STANDARD_SLA,
        currencies=_in_currencies(CurrencyPolicy(second_level_above="1000.00"),
                                  CurrencyPolicy(second_level_above="1100.00"),
                                  CurrencyPolicy(second_level_above="850.00")),
        tasks=[TaskTemplate(type="ANSWER", title="Answer the enquiry")],
        assignment=[AssignmentRule(policy=AssignmentPolicy.ROUND_ROBIN)],
    ),
    CaseType(
        id="CLAIM", name="Insurance claim", team="claims",
        sla_hours={Priority.LOW: 336, Priority.MEDIUM: 168, Priority.HIGH: 72, Priority.CRITICAL: 24},
        required_documents=["claim-form", "proof-of-loss"], approval_required=True,
        currencies=_in_currencies(CurrencyPolicy(cap="50000.00", second_level_above="1000.00"),
                                  CurrencyPolicy(cap="55000.00", second_level_above="1100.00"),
                                  CurrencyPolicy(cap="43000.00", second_level_above="850.00")),
        approval_policy=ApprovalPolicy(second_level_priorities=[Priority.CRITICAL]),
        tasks=[
            TaskTemplate(type="VERIFY_DOCUMENTS", title="Check the claim documents"),
            TaskTemplate(type="ASSESS_CLAIM", title="Assess the claim"),
        ],
        assignment=[
            AssignmentRule(
                policy=AssignmentPolicy.LEAST_LOADED, required_skills=["claims"],
                priorities=[Priority.HIGH, Priority.CRITICAL],
            ),
            AssignmentRule(policy=AssignmentPolicy.LEAST_LOADED),
        ],
    ),
    CaseType(
        id="COMPLAINT", name="Customer complaint", team="complaints", sla_hours=_STANDARD_SLA,
        currencies=_in_currencies(CurrencyPolicy(cap="5000.00", second_level_above="2500.00"),
                                  CurrencyPolicy(cap="5500.00", second_level_above="2750.00"),
                                  CurrencyPolicy(cap="4300.00", second_level_above="2150.00")),
        approval_policy=ApprovalPolicy(second_level_priorities=[Priority.CRITICAL]),
        tasks=[
            TaskTemplate(type="INVESTIGATE", title="Investigate the complaint"),
            TaskTemplate(type="RESPOND", title="Respond to the customer"),
        ],
        assignment=[AssignmentRule(policy=AssignmentPolicy.SKILLS_MATCH, required_skills=["complaints"])],
    ),
)


def due_at(case_type: CaseType, priority: Priority, created: datetime) -> datetime:
    return created + timedelta(hours=case_type.sla_hours[priority])
