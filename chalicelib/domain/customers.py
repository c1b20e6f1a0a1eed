"""The customer view: one customer's fields merged from several data products, each field carrying the
product it came from and how old it is.

Merge rule: for each field, the newest value among the sources that answered and are within their
product's freshness SLA wins. When no such value exists, the newest value known at all is served (a source
that is down contributes its last known record), marked stale with the reason."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from typing import Annotated, Any, Iterable, Optional

from pydantic import AfterValidator, Field

from ..errors import FieldIssue, InvalidInput
from .base import ApiModel

# The customer ids of the contract (the data mesh's key, the CRM's), e.g. CUST-1001: one rule wherever a
# customer id comes in (a case's customerId, the customerId filter, GET /customers/{id}). ASCII digits only
# (`\d` would take other scripts' digits too); matched with fullmatch (`$` alone lets a final newline through).
CUSTOMER_ID = re.compile(r"^CUST-[0-9]{1,12}$")
CUSTOMER_ID_RULE = "must look like CUST-1001 (CUST- and 1 to 12 digits)"


def is_customer_id(value: str) -> bool:
    return CUSTOMER_ID.fullmatch(value) is not None


def check_customer_id(customer_id: str, field: str = "customerId") -> None:
    """A 400 naming `field` unless `customer_id` is one."""
    if not is_customer_id(customer_id or ""):
        raise InvalidInput(f"invalid customer id {customer_id[:64]!r}", [FieldIssue(field, CUSTOMER_ID_RULE)])


def _customer_id(value: str) -> str:
    if not is_customer_id(value):
        raise ValueError(CUSTOMER_ID_RULE)
    return value


# A request body's customer id: the rule's own words in the 400, its pattern in the OpenAPI document.
CustomerId = Annotated[str, AfterValidator(_customer_id), Field(json_schema_extra={"pattern": CUSTOMER_ID.pattern})]

# A product that failed is reported with this status only: its addresses and errors stay in the log.
SOURCE_FAILED = "the product could not be read; the details are logged under this request's id"


class StaleReason(str, Enum):
    SOURCE_UNAVAILABLE = "SOURCE_UNAVAILABLE"  # the last known value: the product did not answer
    OUTSIDE_SLA = "OUTSIDE_SLA"  # the product answered, but its data is older than its freshness SLA


class SourceState(str, Enum):
    OK = "OK"
    STALE = "STALE"
    UNAVAILABLE = "UNAVAILABLE"  # did not answer, and nothing is known from before
    NOT_FOUND = "NOT_FOUND"  # answered: no such customer


class ViewStatus(str, Enum):
    COMPLETE = "COMPLETE"  # every product answered with fresh data (or knows no such customer)
    PARTIAL = "PARTIAL"  # some fields are stale or some products unavailable
    UNAVAILABLE = "UNAVAILABLE"  # no product answered and nothing is known from before
    NOT_FOUND = "NOT_FOUND"  # every product answered: no such customer
    # Snapshots of cases opened before every customer id had to be one (CUSTOMER_ID): never looked up.
    NOT_LOOKED_UP = "NOT_LOOKED_UP"


class FieldValue(ApiModel):
    value: Any
    source: str  # the data product's id
    as_of: str  # when the source's record was last updated (ISO 8601)
    age_seconds: int
    stale: bool = False
    stale_reason: Optional[StaleReason] = None


class SourceStatus(ApiModel):
    product: str
    status: SourceState
    as_of: Optional[str] = None
    age_seconds: Optional[int] = None
    freshness_sla_seconds: int
    error: Optional[str] = None


class CustomerView(ApiModel):
    customer_id: str
    status: ViewStatus
    assembled_at: str
    fields: dict[str, FieldValue] = {}
    sources: list[SourceStatus] = []


@dataclass(frozen=True)
class SourceRecord:
    """What one data product holds about one customer, and when that data was last updated."""

    fields: dict[str, Any]
    as_of: datetime


@dataclass(frozen=True)
class Observation:
    """One product's answer for a lookup. `record`: what it answered (live) or, when it did not answer,
    its last known record (live=False); `found=False` with live=True: it answered that it has no such customer."""

    product: str
    freshness_sla_seconds: int
    live: bool
    record: Optional[SourceRecord] = None
    found: bool = True
    error: Optional[str] = None


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(value: Any) -> Optional[datetime]:
    """An ISO 8601 timestamp (a trailing Z allowed) as an aware datetime; None when it is not one."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _age(now: datetime, as_of: datetime) -> int:
    return max(0, int((now - as_of).total_seconds()))


def _within_sla(observation: Observation, now: datetime) -> bool:
    record = observation.record
    return record is not None and _age(now, record.as_of) <= observation.freshness_sla_seconds


def _source_status(observation: Observation, now: datetime) -> SourceStatus:
    record = observation.record
    common = dict(product=observation.product, freshness_sla_seconds=observation.freshness_sla_seconds,
                  error=observation.error)
    if record is None:
        state = SourceState.NOT_FOUND if observation.live and not observation.found else SourceState.UNAVAILABLE
        return SourceStatus(status=state, **common)
    fresh = observation.live and _within_sla(observation, now)
    return SourceStatus(
        status=SourceState.OK if fresh else SourceState.STALE, as_of=iso(record.as_of),
        age_seconds=_age(now, record.as_of), **common,
    )


def merge(customer_id: str, observations: Iterable[Observation], now: datetime) -> CustomerView:
    observations = list(observations)
    candidates: dict[str, list[tuple[bool, datetime, Observation]]] = {}
    for observation in observations:
        if observation.record is None:
            continue
        fresh = observation.live and _within_sla(observation, now)
        for name in observation.record.fields:
            candidates.setdefault(name, []).append((fresh, observation.record.as_of, observation))
    fields: dict[str, FieldValue] = {}
    for name, options in sorted(candidates.items()):
        # Fresh values first, then the newest; a tie goes to the product listed first in the catalog.
        fresh, as_of, observation = max(options, key=lambda option: (option[0], option[1]))
        reason = None if fresh else (StaleReason.OUTSIDE_SLA if observation.live else StaleReason.SOURCE_UNAVAILABLE)
        fields[name] = FieldValue(
            value=observation.record.fields[name], source=observation.product, as_of=iso(as_of),  # type: ignore[union-attr]
            age_seconds=_age(now, as_of), stale=not fresh, stale_reason=reason,
        )
    sources = [_source_status(observation, now) for observation in observations]
    return CustomerView(
        customer_id=customer_id, status=_status(fields, sources), assembled_at=iso(now), fields=fields, sources=sources,
    )


def _status(fields: dict[str, FieldValue], sources: list[SourceStatus]) -> ViewStatus:
    states = {source.status for source in sources}
    if not fields:
        if sources and states == {SourceState.NOT_FOUND}:
            return ViewStatus.NOT_FOUND
        return ViewStatus.UNAVAILABLE
    return ViewStatus.COMPLETE if states <= {SourceState.OK, SourceState.NOT_FOUND} else ViewStatus.PARTIAL
