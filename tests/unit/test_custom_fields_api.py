"""Custom fields over the HTTP edge, in-process: `field.<name>` query parameters reach GET /cases only (anywhere
else they are unknown parameters), and GET /case-types/{id}/schema answers a version's fields as JSON Schema
with the version as ETag."""
from __future__ import annotations

from tests.api_support import POOL, expect


def test_field_filters_reach_the_case_listing_only(client):
    expect(POOL.call(client, "GET", "/cases?field.severity=high", "alice"), 400, "VALIDATION_ERROR",
           field="field.severity")  # needs caseType, which the service says
    refused = expect(POOL.call(client, "GET", "/cases?caseType=GENERAL&field.severity=high", "alice"), 400)
    assert refused["error"]["details"] == [
        {"field": "field.severity", "issue": "is not an enum or boolean field of this case type"},
    ]
    unknown = expect(POOL.call(client, "GET", "/tasks?field.severity=high", "alice"), 400)
    assert unknown["error"]["details"] == [{"field": "field.severity", "issue": "unknown query parameter"}]


def test_the_schema_of_a_type_version(client):
    status, schema, headers = POOL.call(client, "GET", "/case-types/GENERAL/schema", "alice")
    assert status == 200 and headers["ETag"] == '"1"' and headers["Content-Type"] == "application/json"
    assert schema["$id"] == "/case-types/GENERAL/schema?version=1" and "GENERAL" in schema["title"]
    assert (schema["type"], schema["properties"], schema["additionalProperties"]) == ("object", {}, False)
    assert POOL.call(client, "GET", "/case-types/GENERAL/schema?version=1", "alice")[1] == schema
    expect(POOL.call(client, "GET", "/case-types/GENERAL/schema?version=2", "alice"), 404, "NOT_FOUND")
    expect(POOL.call(client, "GET", "/case-types/GENERAL/schema?version=0", "alice"), 400, field="version")
    expect(POOL.call(client, "GET", "/case-types/NOPE/schema", "alice"), 404, "NOT_FOUND")
    expect(POOL.call(client, "GET", "/case-types/GENERAL/schema"), 401)
