"""Identifiers a client sends that could become (part of) a DynamoDB key are bounded at the HTTP edge: a value
too long for a key is a 400 naming the parameter, on every route, never a 500 from the table; and the
idempotency records of two users never share a key, whatever their names and keys contain."""
from __future__ import annotations

import re

import pytest

from app import api
from chalicelib.adapters.dynamo import keys
from chalicelib.web import MAX_QUERY_VALUE_CHARS
from tests.api_support import POOL, expect

QUERIES = sorted(
    (spec.method, spec.path, name)
    for spec in api.specs if spec.method == "GET" and not spec.public
    for name in spec.query if name != "cursor"  # the listing that issued it checks a cursor
)


def test_routes_declare_query_parameters():
    assert ("GET", "/cases", "assignee") in QUERIES and ("GET", "/tasks", "caseId") in QUERIES
    assert ("GET", "/cases/{case_id}/documents/{document_id}/download", "versionId") in QUERIES


@pytest.mark.parametrize("method, path, name", QUERIES, ids=[f"{p}?{n}" for _, p, n in QUERIES])
def test_a_query_value_too_long_for_a_key_is_a_400_naming_it(client, method, path, name):
    concrete = re.sub(r"{\w+}", "x1", path)
    too_long = '1' * (MAX_QUERY_VALUE_CHARS + 1)
    result = POOL.call(client, method, f"{concrete}?{name}={too_long}", "ada", None, None, {})[:2]
    assert expect(result, 400, "VALIDATION_ERROR", name)["error"]["message"]


def test_a_long_multibyte_assignee_is_refused_before_any_read(client):
    result = POOL.call(client, "GET", f"/cases?assignee={'é' * 2000}", "alice", None, None, {})[:2]
    expect(result, 400, "VALIDATION_ERROR", "assignee")


def test_values_within_the_limit_still_reach_the_service(client):
    status, body, _ = POOL.call(client, "GET", f"/tasks?assignee={'a' * MAX_QUERY_VALUE_CHARS}", "ada", None, None, {})
    assert status == 200 and body["items"] == []


def test_the_widest_query_value_fits_a_dynamodb_sort_key():
    widest = "\U0001F600" * MAX_QUERY_VALUE_CHARS  # 4 bytes a character in UTF-8
    longest_prefix = max(("USER#", "TEAM#", keys.CASE_PREFIX, keys.VERSION_PREFIX + "x" * 64 + "#"), key=len)
    assert len((longest_prefix + widest).encode("utf-8")) <= 1024


@pytest.mark.parametrize("one, other", [
    (("a#b", "c"), ("a", "b#c")),
    (("alice", "1#2"), ("alice#1", "2")),
    (("a", "#"), ("a#", "")),
    (("1#a", "b"), ("1", "a#b")),
])
def test_idempotency_keys_of_different_owners_never_collide(one, other):
    assert keys.idempotency_pk(*one) != keys.idempotency_pk(*other)
