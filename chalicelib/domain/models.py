"""Case, comment and audit-event models, and the request bodies clients send.

JSON is camelCase; Python attributes are snake_case. Request models forbid unknown
fields so a typo is a 400 naming the field, never a silently ignored value.
"""
from __future__ import annotations

from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, Optional

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from .base import ApiModel, RequestModel
from .customers import CustomerView


class Priority(str, Enum):
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"


class CaseStatus(str, Enum):
    NEW = "NEW"
    OPEN = "OPEN"
    IN_PROGRESS = "IN_PROGRESS"
    PENDING_DOCUMENTS = "PENDING_DOCUMENTS"
    PENDING_APPROVAL = "PENDING_APPROVAL"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    COMPENSATION = "COMPENSATION"
    RESOLVED = "RESOLVED"
    CLOSED = "CLOSED"
    REOPENED = "REOPENED"
    NEEDS_ATTENTION = "NEEDS_ATTENTION"


def _positive_amount(value: str) -> str:
    if Decimal(value) <= 0:
        raise ValueError("must be greater than 0")
    return value


Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")]
Label = Annotated[str, StringConstraints(min_length=1, max_length=50, pattern=r"^[\w .:/-]+$")]
Amount = Annotated[
    str, StringConstraints(pattern=r"^\d{1,12}(\.\d{1,2})?$"), AfterValidator(_positive_amount)
]


Title = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Description = Annotated[str, StringConstraints(max_length=10_000)]
Tags = Annotated[list[Label], Field(max_length=20)]


class Money(RequestModel):
    amount: Amount = Field(description="Decimal string, at most 2 decimals, e.g. \"1250.00\"")
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = Field(
        description="ISO 4217 code"
    )


class CaseCreate(RequestModel):
    title: Title
    description: Description = ""
    case_type: Identifier
    priority: Priority
    customer_id: Identifier
    compensation: Optional[Money] = None
    required_documents: Optional[Annotated[list[Label], Field(max_length=20)]] = None
    tags: Tags = []


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


# Not Optional: an explicit null is a 400 naming the field; an omitted field keeps its value.
_OMITTED: Any = Field(default=None, json_schema_extra=_no_default)


class CasePatch(RequestModel):
    title: Title = _OMITTED
    description: Description = _OMITTED
    priority: Priority = _OMITTED
    tags: Tags = _OMITTED

    @model_validator(mode="after")
    def _not_empty(self) -> "CasePatch":
        if not self.model_fields_set:
            raise ValueError("at least one of title, description, priority, tags is required")
        return self


class CommentCreate(RequestModel):
    text: Annotated[str, StringConstraints(min_length=1, max_length=5_000)]


class WorkflowState(ApiModel):
    """Where the case's workflow is: kept on the case so a lost run can resume from its stage."""

    stage: str
    execution_id: Optional[str] = None
    run: int = 1
    executions: list[str] = []
    updated_at: Optional[str] = None


class WorkflowStep(ApiModel):
    state: str
    entered_at: str
    exited_at: Optional[str] = None


class WorkflowView(ApiModel):
    stage: Optional[str] = None
    execution_id: Optional[str] = None
    executions: list[str] = []
    status: Optional[str] = None
    history: list[WorkflowStep] = []


class Case(ApiModel):
    id: str
    number: str
    title: str
    description: str
    case_type: str
    priority: Priority
    customer_id: str
    compensation: Optional[Money] = None
    required_documents: list[str] = []
    tags: list[str] = []
    status: CaseStatus
    version: int
    team: Optional[str] = None
    assignee: Optional[str] = None
    participants: list[str] = []
    created_at: str
    created_by: str
    updated_at: str
    updated_by: str
    due_at: str
    workflow: Optional[WorkflowState] = None
    # The customer as the data mesh showed them when the case was opened (never refreshed).
    customer_snapshot: Optional[CustomerView] = None
    # Head of the audit chain; internal, never sent to clients.
    audit_seq: int = Field(default=0, exclude=True)
    audit_hash: str = Field(default="", exclude=True)


class Comment(ApiModel):
    id: str
    case_id: str
    text: str
    author: str
    created_at: str


class AuditEvent(ApiModel):
    seq: int
    case_id: str
    type: str
    actor: str
    at: str
    data: dict[str, Any] = {}
    prev_hash: str
    hash: str


class CasePage(ApiModel):
    items: list[Case]
    next_cursor: Optional[str] = None


class CommentList(ApiModel):
    items: list[Comment]


class History(ApiModel):
    items: list[AuditEvent]


class HistoryVerification(ApiModel):
    valid: bool
    events: int
    first_invalid_seq: Optional[int] = None
