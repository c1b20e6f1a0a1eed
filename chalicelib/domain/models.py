"""Case, comment and audit-event models, and the request bodies clients send.

JSON is camelCase; Python attributes are snake_case. Request models forbid unknown
fields so a typo is a 400 naming the field, never a silently ignored value.
"""
from __future__ import annotations

from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, Optional

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints, model_validator

from .base import NOT_BLANK, ApiModel, ApiPage, RequestModel
from .clock import ISO_FORM
from .customers import CustomerId, CustomerView


class Priority(str, Enum):
    """How urgent a case is: its case type sets an SLA per priority, and may route or approve by it."""

    LOW = "LOW"  # the longest SLA
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"  # the shortest SLA; some case types ask a second approval level for it


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
# At least one character that is not a space: the value is stripped first.
Label = Annotated[str, StringConstraints(min_length=1, max_length=50, pattern=r"^[\w .:/-]*[\w.:/-][\w .:/-]*$")]
Amount = Annotated[
    str, StringConstraints(pattern=r"^\d{1,12}(\.\d{1,2})?$"), AfterValidator(_positive_amount),
    Field(json_schema_extra={"allOf": [{"pattern": "[1-9]", "description": "greater than 0"}]}),
]


Title = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=NOT_BLANK)]
Description = Annotated[str, StringConstraints(max_length=10_000)]
Tags = Annotated[list[Label], Field(max_length=20)]


class Money(RequestModel):
    amount: Amount = Field(description="Decimal string, at most 2 decimals, e.g. \"1250.00\"")
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = Field(
        description="ISO 4217 code"
    )


class CaseCreate(RequestModel):
    """A case type's rules (its ids, currencies, caps) are data: the service checks them, answering 400s."""

    title: Title
    description: Description = ""
    case_type: Identifier
    priority: Priority
    customer_id: CustomerId
    compensation: Optional[Money] = None
    required_documents: Optional[Annotated[list[Label], Field(max_length=20)]] = None
    tags: Tags = []
    fields: dict[str, Any] = Field(
        default={}, description="values of the type's custom fields, as GET /case-types/{id}/schema describes them",
    )


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


# Not Optional: an explicit null is a 400 naming the field; an omitted field keeps its value.
_OMITTED: Any = Field(default=None, json_schema_extra=_no_default)


class CasePatch(RequestModel):
    model_config = ConfigDict(json_schema_extra={"minProperties": 1})  # the validator below

    title: Title = _OMITTED
    description: Description = _OMITTED
    priority: Priority = _OMITTED
    tags: Tags = _OMITTED
    fields: dict[str, Any] = Field(  # omitted as the others are (their Field, with a description)
        default=_OMITTED.default, json_schema_extra=_no_default,
        description="only the custom fields named change (checked against the case's type version); "
                    "null clears an optional one",
    )

    @model_validator(mode="after")
    def _not_empty(self) -> "CasePatch":
        if not self.model_fields_set:
            raise ValueError("at least one of title, description, priority, tags, fields is required")
        return self


class CommentCreate(RequestModel):
    text: Annotated[str, StringConstraints(min_length=1, max_length=5_000, pattern=NOT_BLANK)]


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
    number: str = Field(description="human-readable number, CASE-<year>-<6 digits>, given at creation")
    title: str
    description: str
    case_type: str = Field(description="id of the case's type (see GET /case-types)")
    case_type_version: int = Field(
        default=1, description="the version of its type the case was opened under: its rules while it runs",
    )
    priority: Priority
    customer_id: str
    compensation: Optional[Money] = Field(default=None, description="the compensation the case asks for, if any")
    required_documents: list[str] = Field(
        default=[], description="document kinds the case needs before it can proceed, from its type and later additions"
    )
    tags: list[str] = []
    fields: dict[str, Any] = Field(
        default={}, description="values of its type version's custom fields (GET /case-types/{id}/schema)",
    )
    status: CaseStatus
    version: int = Field(description="1 at creation, +1 on every change; send it back as If-Match to update")
    team: Optional[str] = Field(
        default=None, description="the team that owns the case: its type's team, else its creator's"
    )
    assignee: Optional[str] = Field(default=None, description="username of the case worker, once assigned")
    participants: list[str] = Field(
        default=[], description="usernames who work on the case besides its creator and assignee"
    )
    created_at: str = Field(description=f"when the case was opened: {ISO_FORM}")
    created_by: str = Field(description="username of who opened the case")
    updated_at: str = Field(description=f"when the case last changed: {ISO_FORM}")
    updated_by: str = Field(description="username of who changed the case last")
    due_at: str = Field(
        description=f"SLA deadline: creation plus its type's hours for the priority (working hours on its type's "
                    f"calendar), later by the time it waited for documents: {ISO_FORM}"
    )
    sla_paused_at: Optional[str] = Field(
        default=None, description=f"set while the SLA clock is stopped (waiting for documents): since when, {ISO_FORM}",
    )
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


class CasePage(ApiPage):
    items: list[Case]


class CommentList(ApiPage):
    items: list[Comment]


class History(ApiPage):
    items: list[AuditEvent]


class HistoryVerification(ApiModel):
    valid: bool
    events: int
    first_invalid_seq: Optional[int] = None
