"""The query parameters of the listings, with the rules their services enforce, for the OpenAPI document.

Query values arrive as text; the services check them (see services/cases.py, tasks.py, approvals.py,
personnel.py, documents.py). A filter that is present must not be blank. Every listing is paged alike: `limit`
(DEFAULT_PAGE by default, at most MAX_PAGE; services/cursor.py answers 400 naming `limit` beyond) and the
`cursor` of the previous page's `nextCursor`."""
from __future__ import annotations

from typing import Annotated, Optional

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints
from pydantic.alias_generators import to_camel

from .approvals import ApprovalStatus
from .base import NOT_BLANK
from .case_types import VERSION_NUMBER
from .customers import CustomerId
from .models import CaseStatus, Priority
from .tasks import TaskStatus

DEFAULT_PAGE = 25
MAX_PAGE = 100
PAGE = ("limit", "cursor")  # the query parameters of every listing's page (PageQuery)
# Query values become parts of DynamoDB keys (an assignee's inbox, a customer's cases, a version's record):
# 200 characters are at most 800 bytes of UTF-8, within a sort key's 1024 with any prefix the keys add.
# The API edge (web.py) refuses longer values of every parameter but the cursor.
MAX_QUERY_VALUE_CHARS = 200

Filter = Optional[
    Annotated[str, StringConstraints(min_length=1, max_length=MAX_QUERY_VALUE_CHARS, pattern=NOT_BLANK)]
]
Cursor = Optional[Annotated[str, StringConstraints(min_length=1, pattern=NOT_BLANK)]]
Name = Optional[Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]]


class Query(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, extra="forbid")


class PageQuery(Query):
    """A listing without filters: its page size and where to resume."""

    limit: Optional[int] = Field(
        default=None, ge=1, le=MAX_PAGE, description=f"page size, {DEFAULT_PAGE} by default, at most {MAX_PAGE}",
    )
    cursor: Cursor = Field(default=None, description="the `nextCursor` of the previous page, with the same filters")


class CaseListQuery(PageQuery):
    status: Optional[CaseStatus] = None
    assignee: Filter = Field(default=None, description="a username, or `me`")
    priority: Optional[Priority] = None
    customer_id: Optional[CustomerId] = None
    case_type: Filter = None


class CaseReadQuery(Query):
    as_of: Optional[AwareDatetime] = Field(
        default=None,
        description="an ISO 8601 instant with its offset (RFC 3339), not in the future, e.g. 2026-03-01T12:00:00Z: "
        "the case as it stood then, rebuilt from its audit chain (404 before the case existed)",
    )


class TaskListQuery(PageQuery):
    assignee: Filter = Field(default=None, description="a username, or `me` (the default without team and caseId)")
    team: Filter = Field(default=None, description="the team's queue; not with assignee")
    status: Optional[TaskStatus] = Field(default=None, description="other than OPEN only with caseId")
    case_id: Filter = None


class ApprovalListQuery(PageQuery):
    assignee: Name = Field(default=None, description="a username, or `me`")
    status: Optional[ApprovalStatus] = Field(default=None, description="other than PENDING only with caseId")
    case_id: Name = None


class PersonnelQuery(PageQuery):
    team: Filter = None


class DownloadQuery(Query):
    version_id: Optional[
        Annotated[str, StringConstraints(max_length=MAX_QUERY_VALUE_CHARS, pattern=r"^[\x20-\x7e]+$")]
    ] = Field(
        default=None,
        # S3 version ids are ASCII: the service refuses unprintable ones, and finds no version for the others.
        description="a version of the document; the latest by default",
    )


class CaseTypeSchemaQuery(Query):
    version: Optional[Annotated[str, StringConstraints(pattern=VERSION_NUMBER.pattern)]] = Field(
        default=None, description="a published version (the current one by default)",
    )
