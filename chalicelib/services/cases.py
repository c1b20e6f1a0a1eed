"""Case use cases: create, read, list, update, comment, history. Pure Python over the ports."""
from __future__ import annotations

import hashlib
import json
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import Enum
from types import MappingProxyType
from typing import Any, Callable, Mapping, Optional, Sequence, Union

from pydantic.alias_generators import to_camel

from ..cache import Cache
from ..cache.invalidation import case_key
from ..cache.read_through import ReadThrough
from ..domain import audit
from ..domain.access import Action, Principal, can_view, require, visibility
from ..domain.approvals import priority_locked
from ..domain.case_types import CaseType
from ..domain.case_as_of import CaseAsOf, NotYetCreated, as_of, parse_instant
from ..domain.changes import CaseChange
from ..domain.clock import Clock, iso, utc_now
from ..domain.custom_fields import FILTER_PREFIX, FieldDefinition, parse_field_filters, validate_field_values
from ..domain.customers import CustomerView, check_customer_id
from ..domain.models import (
    Case, CaseCreate, CasePage, CasePatch, CaseStatus, Comment, CommentCreate, CommentList, History,
    HistoryVerification, Priority,
)
from ..domain.queries import DEFAULT_PAGE
from ..errors import Conflict, FieldIssue, InvalidInput, NotFound, PreconditionFailed
from ..domain.records import IdempotencyRecord
from ..domain.sla import due_after, repriced_due
from ..ports import CaseQuery, CaseRepository, IdempotencyKeyTaken, StaleWrite
from .case_types import CaseTypeCatalog
from .sla import CalendarLookup, calendar_for, no_calendars
from . import cursor
from .validation import parse, parse_if_match
from .retry import Decided, retrying
from .. import metrics

__all__ = ["CaseNumbers", "CaseService", "Clock", "ListFilters", "case_read_cache", "iso", "utc_now"]
IDEMPOTENCY_TTL_SECONDS = 24 * 3600


class CaseNumbers:
    """Hands out unique case numbers, reserving a block per counter write so most creates
    cost no extra request. Numbers are unique and increase per container; a recycled
    container leaves a gap, which a human-readable reference can afford."""

    def __init__(self, repository: CaseRepository, block_size: int = 10) -> None:
        self._repository, self._block_size = repository, block_size
        self._lock = threading.Lock()
        self._next: dict[int, int] = {}
        self._last: dict[int, int] = {}

    def next(self, year: int) -> str:
        with self._lock:
            if self._next.get(year, 1) > self._last.get(year, 0):
                last = self._repository.reserve_case_numbers(f"CASE_NUMBER#{year}", self._block_size)
                self._next[year], self._last[year] = last - self._block_size + 1, last
            number = self._next[year]
            self._next[year] = number + 1
        return f"CASE-{year}-{number:06d}"


@dataclass(frozen=True)
class ListFilters:
    status: Optional[str] = None
    assignee: Optional[str] = None
    priority: Optional[str] = None
    customer_id: Optional[str] = None
    case_type: Optional[str] = None


def _request_hash(payload: Any) -> str:
    if isinstance(payload, CaseCreate):  # parsed at the HTTP edge: hash the fields the client sent
        payload = payload.model_dump(mode="json", by_alias=True, exclude_unset=True)
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


class CaseService:
    def __init__(
        self,
        repository: CaseRepository,
        case_types: CaseTypeCatalog,
        numbers: CaseNumbers,
        clock: Clock = utc_now,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
        read_cache: Optional[ReadThrough[Case]] = None,
        customer_snapshot: Optional[Callable[[str], CustomerView]] = None,
        calendars: CalendarLookup = no_calendars,
    ) -> None:
        """`customer_snapshot`: the customer's view from the data mesh, taken when a case is opened; it must
        answer within a bounded time and never raise (the case is opened whatever the mesh does)."""
        self._repo = repository
        self._read_cache = read_cache
        self._customer_snapshot = customer_snapshot
        self._case_types = case_types
        self._numbers = numbers
        self._clock = clock
        self._new_id = new_id
        self._calendars = calendars

    # -- queries -----------------------------------------------------------------------------

    def get(self, principal: Principal, case_id: str) -> Case:
        require(principal, Action.READ_CASES)
        case = self._repo.get_case(case_id)
        if case is None or not can_view(principal, case):
            raise NotFound(f"case {case_id} not found")
        return case

    def read(self, principal: Principal, case_id: str) -> Case:
        """`get` for a reader that only shows the case: served from the read cache when it holds the case.
        Writes use `get`, which always reads the table (a conditional write needs the current audit head).
        The cache holds data, not decisions: visibility is checked here on every call."""
        if self._read_cache is None:
            return self.get(principal, case_id)
        require(principal, Action.READ_CASES)
        case = self._read_cache.get(case_key(case_id), lambda: self._repo.get_case(case_id))
        if case is None or not can_view(principal, case):
            raise NotFound(f"case {case_id} not found")
        return case

    def read_as_of(self, principal: Principal, case_id: str, instant_text: str) -> CaseAsOf:
        """The case as it stood at the instant, rebuilt from its audit chain; visible as the case is now.
        Before the case existed it is not found; an instant that is malformed or still to come is a 400."""
        try:
            instant = parse_instant(instant_text)
        except ValueError as exc:
            raise InvalidInput("asOf is not an ISO 8601 instant", [FieldIssue("asOf", str(exc))]) from None
        if instant > self._clock():
            raise InvalidInput("asOf is in the future", [FieldIssue("asOf", "must not be later than now")])
        case = self.get(principal, case_id)
        try:
            return as_of(self._repo.list_events(case_id), instant, (case.audit_seq, case.audit_hash))
        except NotYetCreated:
            raise NotFound(f"case {case_id} did not exist at {instant_text}") from None

    def list(
        self, principal: Principal, filters: ListFilters, limit: int, page_cursor: Optional[str],
        field_params: Mapping[str, str] = MappingProxyType({}),
    ) -> CasePage:
        """`field_params`: `field.<name>=<value>` query parameters, each an enum or boolean custom field of the
        current version of the `caseType` filter's type (without one there is no field to name)."""
        require(principal, Action.READ_CASES)
        if filters.assignee == "me":
            filters = ListFilters(**{**filters.__dict__, "assignee": principal.username})
        for name, value in filters.__dict__.items():
            if value is not None and not value.strip():
                raise InvalidInput(f"empty {name} filter", [FieldIssue(to_camel(name), "must not be empty")])
        _check_enum("status", filters.status, CaseStatus)
        _check_enum("priority", filters.priority, Priority)
        if filters.customer_id is not None:
            check_customer_id(filters.customer_id)  # as a case's: no other id can match
        fields = self._field_filters(filters.case_type, field_params)
        scope = visibility(principal)
        query = CaseQuery(visibility=scope, fields=fields, **filters.__dict__)
        items, next_cursor = cursor.paged(
            "cases", {**filters.__dict__, "fields": fields, "scope": scope.__dict__}, limit, page_cursor,
            lambda size, start: self._repo.list_cases(query, size, start),
        )
        return CasePage(items=items, next_cursor=next_cursor)

    def _field_filters(self, case_type_id: Optional[str], params: Mapping[str, str]) -> dict[str, Union[str, bool]]:
        named = sorted(name for name in params if name.startswith(FILTER_PREFIX))
        if not named:
            return {}
        if case_type_id is None:
            issues = [FieldIssue(name, "needs caseType") for name in named]
            raise InvalidInput("a field filter needs a caseType filter", issues)
        case_type = self._case_types.current(case_type_id)
        return parse_field_filters(case_type.fields if case_type is not None else (), params)

    def comments(
        self, principal: Principal, case_id: str, limit: int = DEFAULT_PAGE, page_cursor: Optional[str] = None,
    ) -> CommentList:
        """Oldest first."""
        self.get(principal, case_id)
        items, next_cursor = cursor.paged(
            "comments", {"case": case_id}, limit, page_cursor,
            lambda size, start: self._repo.comments_page(case_id, size, start),
        )
        return CommentList(items=items, next_cursor=next_cursor)

    def history(
        self, principal: Principal, case_id: str, limit: int = DEFAULT_PAGE, page_cursor: Optional[str] = None,
    ) -> History:
        """The audit events in chain order, oldest first."""
        self.get(principal, case_id)
        items, next_cursor = cursor.paged(
            "history", {"case": case_id}, limit, page_cursor,
            lambda size, start: self._repo.events_page(case_id, size, start),
        )
        return History(items=items, next_cursor=next_cursor)

    def verify_history(self, principal: Principal, case_id: str) -> HistoryVerification:
        """The chain checked against the case's head. The case and its events are two reads: a change landing
        between them leaves events past the head read first, and then only the events up to that head are
        checked (the later ones by the next check). Events past a head that did not move are not the case's
        (e.g. appended behind its back) and fail the check."""
        case = self.get(principal, case_id)
        events = self._repo.list_events(case_id)
        if events and events[-1].seq > case.audit_seq:
            now = self._repo.get_case(case_id)
            if now is not None and now.audit_seq > case.audit_seq:
                events = [e for e in events if e.seq <= case.audit_seq]
        return audit.verify_chain(events, head=(case.audit_seq, case.audit_hash))

    # -- commands ----------------------------------------------------------------------------

    def create(self, principal: Principal, payload: Any, idempotency_key: Optional[str] = None) -> Case:
        require(principal, Action.CREATE_CASE)
        request = parse(CaseCreate, payload)
        case_type = self._case_types.for_new_case(request.case_type)
        _check_cap(case_type, request)
        _check_required_documents(case_type, request)
        fields = validate_field_values(case_type.fields, request.fields)
        if idempotency_key is not None:
            _check_idempotency_key(idempotency_key)
        now = self._clock()
        case = Case(
            id=self._new_id(),
            number=self._numbers.next(now.year),
            title=request.title,
            description=request.description,
            case_type=case_type.id,
            case_type_version=case_type.version,
            priority=request.priority,
            customer_id=request.customer_id,
            compensation=request.compensation,
            required_documents=(
                request.required_documents if request.required_documents is not None else case_type.required_documents
            ),
            tags=request.tags,
            fields=fields,
            status=CaseStatus.NEW,
            version=1,
            team=case_type.team or principal.team,
            created_at=iso(now),
            created_by=principal.username,
            updated_at=iso(now),
            updated_by=principal.username,
            due_at=iso(due_after(now, case_type.sla_hours[request.priority], calendar_for(case_type, self._calendars))),
            customer_snapshot=self._customer_snapshot(request.customer_id) if self._customer_snapshot else None,
        )
        change = CaseChange(case, principal.username, case.created_at, new=True)
        change.append("CASE_CREATED", _created_event_data(case))
        if idempotency_key is not None:
            change.put(IdempotencyRecord(
                owner=principal.username, key=idempotency_key, request_hash=_request_hash(payload),
                case_id=case.id, issued_at=int(now.timestamp()),
                expires_at=int(now.timestamp()) + IDEMPOTENCY_TTL_SECONDS,
            ))
        case = change.case
        try:
            self._repo.apply(change)
        except IdempotencyKeyTaken:
            # The key was used before (or by a concurrent twin of this request): answer as it was answered.
            return self._replay(principal, idempotency_key or "", payload)
        except StaleWrite:
            # The id is new, so only this request can have written it: the SDK retried a write whose answer
            # was lost (a timeout) and the retry found its own item. Anything else is a real conflict.
            stored = self._repo.get_case(case.id)
            if stored is None or stored.audit_hash != case.audit_hash:
                raise
            case = stored
        metrics.count(metrics.CASES_CREATED)
        return case

    def update(self, principal: Principal, case_id: str, payload: Any, if_match: Optional[str]) -> Case:
        require(principal, Action.UPDATE_CASE)
        expected_version = parse_if_match(if_match)
        patch = parse(CasePatch, payload)

        def decide(case: Case) -> Decided[Case]:
            if case.version != expected_version:
                raise PreconditionFailed(
                    f"case {case_id} is at version {case.version}, not {expected_version}; reload and retry"
                )
            edited = patch.model_fields_set - {"fields"}
            changes = {
                name: {"from": _jsonable(getattr(case, name)), "to": _jsonable(getattr(patch, name))}
                for name in edited
                if getattr(case, name) != getattr(patch, name)
            }
            fields = case.fields
            if patch.fields:  # checked against the version the case was opened under, as all its rules are
                fields = _patched_fields(self._case_types.of_case(case).fields, case.fields, patch.fields)
                changes.update({
                    f"fields.{name}": {"from": case.fields.get(name), "to": fields.get(name)}
                    for name in patch.fields if case.fields.get(name) != fields.get(name)
                })
            if not changes:
                return None, case
            if "priority" in changes and priority_locked(case):
                raise Conflict(
                    f"case {case_id} is {case.status.value}: its priority was fixed when its approval opened",
                    [FieldIssue("priority", "cannot change from the approval until the case is reopened")],
                )
            change = CaseChange(case, principal.username, iso(self._clock()))
            derived: dict[str, Any] = {}
            if "priority" in changes:  # the SLA depends on priority: the due date moves with it
                case_type = self._case_types.of_case(case)
                due = repriced_due(
                    datetime.fromisoformat(case.created_at), datetime.fromisoformat(case.due_at),
                    case_type.sla_hours[case.priority], case_type.sla_hours[patch.priority],
                    calendar_for(case_type, self._calendars),
                )
                derived["due_at"] = iso(due)
                changes["dueAt"] = {"from": case.due_at, "to": derived["due_at"]}
            change.append("CASE_UPDATED", {"changes": changes, "version": case.version + 1})
            if fields != case.fields:
                derived["fields"] = fields
            change.move(**{name: getattr(patch, name) for name in edited}, **derived)
            return change, change.case

        # A lost race is read again: either the version moved (412) or only the audit head did (retry).
        return retrying(
            self._repo.apply, lambda: self.get(principal, case_id), decide,
            f"case {case_id} is changing too fast; retry",
        )

    def add_comment(self, principal: Principal, case_id: str, payload: Any) -> Comment:
        require(principal, Action.COMMENT)
        request = parse(CommentCreate, payload)
        comment_id = self._new_id()

        def decide(case: Case) -> Decided[Comment]:
            change = CaseChange(case, principal.username, iso(self._clock()))
            comment = Comment(
                id=comment_id, case_id=case.id, text=request.text, author=principal.username, created_at=change.at,
            )
            change.append("COMMENT_ADDED", {"commentId": comment.id, "text": comment.text})
            change.put(comment)
            return change, comment

        return retrying(
            self._repo.apply, lambda: self.get(principal, case_id), decide,
            f"case {case_id} is changing too fast; retry",
        )

    def _replay(self, principal: Principal, key: str, payload: Any) -> Case:
        record = self._repo.get_idempotency(principal.username, key)
        case = self._repo.get_case(record.case_id) if record else None
        if record is None or case is None:  # deleted by TTL in between: rare, and safe to retry
            raise Conflict("the Idempotency-Key is being recycled; retry the request")
        if record.request_hash != _request_hash(payload):
            raise Conflict(
                "this Idempotency-Key was used with a different request body",
                [FieldIssue("Idempotency-Key", "reused with another body")],
            )
        return case


def case_read_cache(cache: Cache, ttl_seconds: int) -> ReadThrough[Case]:
    """Cases as JSON with their audit head (an internal field the API never shows)."""
    return ReadThrough(
        cache, ttl_seconds,
        dump=lambda case: {**case.to_api(), "auditSeq": case.audit_seq, "auditHash": case.audit_hash},
        load=Case.model_validate,
    )
def _created_event_data(case: Case) -> dict[str, Any]:
    """The audit trail is permanent: it records which customer data the case was opened with (status,
    sources and their ages), not the personal data itself, which stays on the case."""
    data: dict[str, Any] = {"case": case.model_dump(mode="json", by_alias=True, exclude={"customer_snapshot"})}
    if case.customer_snapshot is not None:
        data["customerSnapshot"] = case.customer_snapshot.model_dump(mode="json", by_alias=True, exclude={"fields"})
    return data


def _patched_fields(
    definitions: Sequence[FieldDefinition], values: dict[str, Any], patch: dict[str, Any],
) -> dict[str, Any]:
    """The case's custom field values after a PATCH naming some of them (null clears one), checked against
    its type version's definitions (`fields.<name>` 400s), in the definitions' order."""
    merged = {**values, **validate_field_values(definitions, patch, partial=True)}
    return {d.name: merged[d.name] for d in definitions if merged.get(d.name) is not None}


def _check_idempotency_key(key: str) -> None:
    if not 1 <= len(key) <= 128 or not key.isprintable():
        raise InvalidInput("invalid Idempotency-Key", [FieldIssue("Idempotency-Key", "1-128 printable characters")])


def _check_enum(field: str, value: Optional[str], enum: type[Enum]) -> None:
    if value is not None and value not in enum._value2member_map_:
        raise InvalidInput(
            f"invalid {field}", [FieldIssue(field, f"must be one of {', '.join(enum._value2member_map_)}")]
        )


def _check_required_documents(case_type: CaseType, request: CaseCreate) -> None:
    """A case may ask for more evidence than its type, never less: leaving out a required document would let
    its workflow skip the documents stage."""
    if request.required_documents is None:
        return
    missing = [kind for kind in case_type.required_documents if kind not in request.required_documents]
    if missing:
        raise InvalidInput(
            "requiredDocuments may only add to the case type's required documents",
            [FieldIssue("requiredDocuments", f"must include {', '.join(missing)} (required by {case_type.id})")],
        )


def _check_cap(case_type: CaseType, request: CaseCreate) -> None:
    """Caps are per currency: a currency the case type has no rules for is refused, never compared as another."""
    if request.compensation is None:
        return
    currency = request.compensation.currency
    rules = case_type.currencies.get(currency)
    if rules is None:
        supported = ", ".join(sorted(case_type.currencies)) or "none: this case type pays no compensation"
        raise InvalidInput(
            f"{case_type.id} cases are not compensated in {currency}",
            [FieldIssue("compensation.currency", f"must be one of {supported}")],
        )
    if rules.cap is not None and Decimal(request.compensation.amount) > Decimal(rules.cap):
        raise InvalidInput(
            "compensation exceeds the case type's cap",
            [FieldIssue("compensation.amount", f"must not exceed {rules.cap} {currency}")],
        )


def _jsonable(value: Any) -> Any:
    if isinstance(value, list):
        return list(value)
    return value.value if hasattr(value, "value") else value
