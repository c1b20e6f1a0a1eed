"""Schemathesis hooks of the fuzz test (tests/e2e/test_fuzz_openapi.py): one check added to all of theirs.

Some of the API's 400s depend on stored state or compare two values, which no OpenAPI document can state:
a cursor this listing issued, an instant not later than now, custom field values a case type defines,
a document kind the case requires, document ids of the case, an assignee in the task's team, an absence
window's order, a file name that is more than path parts and control characters, the tasks and approvals
filters that go together, a calendar's time zone and periods. For those operations schemathesis.toml also
expects 400 from schema-valid requests, and this check makes sure such a 400 names
only those fields: any other 400 to schema-valid data fails, as positive_data_acceptance would fail it."""
from __future__ import annotations

import re

import schemathesis

_CASE_TYPE_RULES = (
    "team", "calendar", "slaHours", "requiredDocuments", "currencies", "approvalPolicy", "tasks", "assignment",
    "fields",
)
# The fields whose rules the document cannot state, by operation; a 400 to valid data may name only these.
STATE_DEPENDENT_FIELDS: dict[tuple[str, str], tuple[str, ...]] = {
    ("GET", "/cases"): ("cursor",),  # a cursor issued for this listing and these filters (every listing's)
    ("GET", "/tasks"): ("status", "team", "cursor"),  # status other than OPEN needs caseId; team not with assignee
    ("GET", "/approvals"): ("caseId", "cursor"),  # status other than PENDING needs caseId
    ("GET", "/personnel"): ("cursor",),
    ("GET", "/cases/{case_id}/comments"): ("cursor",),
    ("GET", "/cases/{case_id}/history"): ("cursor",),
    ("GET", "/cases/{case_id}/documents"): ("cursor",),
    ("GET", "/cases/{case_id}"): ("asOf",),  # not later than now
    ("PUT", "/personnel/{username}"): ("outOfOffice",),  # `to` not before `from`
    ("PUT", "/personnel/{username}/delegation"): ("to", "until"),  # not oneself; `until` after `from`
    ("POST", "/cases/{case_id}/documents"): ("kind", "filename"),  # the case's required kinds; a usable name
    ("POST", "/cases/{case_id}/documents/{document_id}/versions"): ("kind", "filename"),  # the document's kind
    ("POST", "/cases/{case_id}/exports"): ("documentIds",),  # documents of this case
    ("POST", "/tasks/{task_id}/reassign"): ("assignee",),  # a member of the task's team
    ("GET", "/calendars"): ("cursor",),
    # a zone of the tz database; periods that end after they start, do not overlap, and some in the week
    ("PUT", "/calendars/{calendar_id}"): ("timeZone", "workingHours"),
    # a case type the catalog holds and has not retired; the compensation and custom fields that type allows
    ("POST", "/cases"): ("caseType", "compensation", "requiredDocuments", "fields"),
    ("PATCH", "/cases/{case_id}"): ("fields",),  # the custom fields of the case's type version
    ("GET", "/case-types"): ("cursor",),
    # a definition that can work: teams of the directory, stored calendars, each name once, every priority's SLA
    **{operation: _CASE_TYPE_RULES for operation in (("POST", "/case-types"), ("PUT", "/case-types/{case_type_id}"))},
}


@schemathesis.check
def valid_data_refused_only_for_state_dependent_rules(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case,
) -> None:
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 400:
        return None
    allowed = STATE_DEPENDENT_FIELDS.get((case.operation.method.upper(), case.operation.path))
    if allowed is None:
        return None  # positive_data_acceptance reports it
    details = response.json().get("error", {}).get("details", [])
    fields = [re.split(r"[.\[]", detail.get("field", ""))[0] for detail in details]
    unexpected = sorted({field for field in fields if field not in allowed})
    if unexpected or not fields:
        raise AssertionError(
            f"valid data refused for {', '.join(unexpected) or 'no named field'}; only {', '.join(allowed)} depend "
            f"on state the OpenAPI document cannot state: {response.text[:500]}"
        )
    return None
