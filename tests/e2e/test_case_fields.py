"""Custom fields on the running local system, over HTTP with real tokens: an admin creates a type with an enum,
a required number, a personal string and a boolean; a caseworker's case with bad values is a 400 naming each
`fields.<name>`, a good one stores them; a PATCH of one field is audited and the case as of before it shows
the old value; the type's schema validates the stored values; listings filter by the enum and the boolean (only
beside caseType); the case data product's v2 rows carry the fields but the personal one."""
from __future__ import annotations

import json
import time
import uuid
from typing import Any

import jsonschema

from tests.e2e.test_case_types import definition, fields_of
from tests.e2e.test_data_mesh import case_rows

FIELDS = [
    {"name": "severity", "label": "Severity", "type": "enum", "enum": ["minor", "major"]},
    {"name": "units", "label": "Units affected", "type": "number", "required": True, "min": 1},
    {"name": "phone", "label": "Callback phone", "type": "string", "pii": True},
    {"name": "urgent", "label": "Urgent", "type": "boolean"},
]
PHONE = "+44 20 7946 0958"


def v2_rows(local_stack: dict[str, Any], case_id: str) -> list[dict[str, Any]]:
    return case_rows(local_stack, case_id, prefix="cases/v2/")


def patch_fields(session: Any, case_id: str, fields: dict[str, Any]) -> Any:
    """PATCH at the case's current version; the case's workflow moves it meanwhile, so a 412 reads it again."""
    for _ in range(10):
        etag = session.get(f"/cases/{case_id}").headers["ETag"]
        response = session.patch(f"/cases/{case_id}", json={"fields": fields}, headers={"If-Match": etag})
        if response.status_code != 412:
            return response
    raise AssertionError(f"case {case_id} kept moving: {response.text}")


def test_cases_carry_their_types_custom_fields(api, local_stack, drain_lambdas):
    ada, alice = api("ada"), api("alice")
    type_id = f"FAULT_{uuid.uuid4().hex[:6].upper()}"
    # no tasks: these cases would otherwise hold the claims team's capacity, which later tests assign by
    created_type = ada.post("/case-types", json={"id": type_id, **definition(name="Fault report", fields=FIELDS,
                                                                             tasks=[])})
    assert created_type.status_code == 201, created_type.text

    def open_case(**fields: Any):
        return alice.post("/cases", json={"title": "Lift stuck", "caseType": type_id, "priority": "HIGH",
                                          "customerId": "CUST-1003", "fields": fields})

    bad = open_case(severity="catastrophic", urgent="yes", colour="red")
    assert bad.status_code == 400
    assert fields_of(bad) == {"fields.severity", "fields.urgent", "fields.units", "fields.colour"}

    opened = open_case(severity="minor", units=3, phone=PHONE, urgent=True)
    assert opened.status_code == 201, opened.text
    case = opened.json()
    assert case["fields"] == {"severity": "minor", "units": 3, "phone": PHONE, "urgent": True}
    other = open_case(severity="major", units=1, urgent=False).json()

    schema = alice.get(f"/case-types/{type_id}/schema")
    assert schema.status_code == 200 and schema.headers["ETag"] == '"1"'
    assert schema.json()["$id"] == f"/case-types/{type_id}/schema?version=1" and type_id in schema.json()["title"]
    jsonschema.Draft202012Validator(schema.json()).validate(case["fields"])
    assert alice.get(f"/case-types/{type_id}/schema", params={"version": "1"}).json() == schema.json()
    assert alice.get(f"/case-types/{type_id}/schema", params={"version": "2"}).status_code == 404
    assert alice.get(f"/case-types/{type_id}/schema", params={"version": "x"}).status_code == 400

    stale = alice.patch(f"/cases/{case['id']}", json={"fields": {"severity": "major"}}, headers={"If-Match": '"99"'})
    assert stale.status_code == 412
    refused = patch_fields(alice, case["id"], {"units": None})
    assert refused.status_code == 400 and fields_of(refused) == {"fields.units"}
    patched = patch_fields(alice, case["id"], {"severity": "major", "phone": None})
    assert patched.status_code == 200, patched.text
    assert patched.json()["fields"] == {"severity": "major", "units": 3, "urgent": True}
    history = alice.get(f"/cases/{case['id']}/history", params={"limit": 100}).json()["items"]
    assert [e["data"]["changes"] for e in history if e["type"] == "CASE_UPDATED"] == [{
        "fields.severity": {"from": "minor", "to": "major"}, "fields.phone": {"from": PHONE, "to": None},
    }]
    then = alice.get(f"/cases/{case['id']}", params={"asOf": case["createdAt"]})  # before the PATCH
    assert then.status_code == 200 and then.json()["fields"] == case["fields"]

    def listed(**params: str) -> list[str]:
        response = alice.get("/cases", params={"caseType": type_id, "limit": 50, **params})
        assert response.status_code == 200, response.text
        return [c["id"] for c in response.json()["items"]]

    assert listed(**{"field.severity": "major"}) == [other["id"], case["id"]]
    assert listed(**{"field.urgent": "true"}) == [case["id"]]
    assert listed(**{"field.urgent": "false", "field.severity": "major"}) == [other["id"]]
    assert listed(**{"field.severity": "minor"}) == []
    without_type = alice.get("/cases", params={"field.severity": "major"})
    assert without_type.status_code == 400 and fields_of(without_type) == {"field.severity"}
    assert without_type.json()["error"]["details"][0]["issue"] == "needs caseType"
    not_filterable = alice.get("/cases", params={"caseType": type_id, "field.units": "3"})
    assert not_filterable.status_code == 400 and fields_of(not_filterable) == {"field.units"}

    deadline, rows = time.monotonic() + 30, []
    while time.monotonic() < deadline and len(rows) < 2:
        drain_lambdas()
        rows = [r for r in v2_rows(local_stack, case["id"]) if r["eventType"] in ("CASE_CREATED", "CASE_UPDATED")]
        time.sleep(0.5)
    assert [r["eventType"] for r in rows] == ["CASE_CREATED", "CASE_UPDATED"]
    assert rows[0]["fields"] == {"severity": "minor", "units": 3, "urgent": True}
    assert rows[1]["fields"] == {"severity": "major", "units": 3, "urgent": True}
    assert all(r["caseTypeVersion"] == 1 for r in rows)
    assert PHONE not in json.dumps(v2_rows(local_stack, case["id"]))
