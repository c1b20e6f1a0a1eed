"""Custom field values against their definitions: each fault is a 400 naming `fields.<name>`, the JSON Schema
served to clients accepts everything the check accepts, PII never passes `public_fields`, and list filters
take only enum and boolean fields."""
from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.custom_fields import (
    FieldDefinition,
    FieldType,
    fields_json_schema,
    filterable_fields,
    parse_field_filters,
    public_fields,
    validate_field_values,
)
from chalicelib.errors import InvalidInput


def field(name: str, type: str, **rules: Any) -> FieldDefinition:
    return FieldDefinition.model_validate({"name": name, "label": name.title(), "type": type, **rules})


DEFINITIONS = [
    field("serial", "string", required=True, pattern="[A-Z]{2}-[0-9]{4}", help="on the back of the device"),
    field("notes", "text"),
    field("units", "integer", min=1, max=10),
    field("weight", "number", min=0.5),
    field("price", "money", min=1, max=5000, pii=False),
    field("bought", "date"),
    field("warranty", "boolean"),
    field("channel", "enum", enum=["shop", "web"]),
    field("phone", "string", pii=True),
]
VALID = {"serial": "AB-1234", "units": 2.0, "weight": 1, "price": {"amount": "12.5", "currency": "EUR"},
         "bought": "2024-02-29", "warranty": False, "channel": "web", "phone": "+31 6 1234"}


def schema_validator(definitions: list[FieldDefinition]) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(fields_json_schema(definitions), format_checker=jsonschema.FormatChecker())


def faults(values: Any, definitions: list[FieldDefinition] = DEFINITIONS, **kwargs: Any) -> dict[str, str]:
    with pytest.raises(InvalidInput) as refused:
        validate_field_values(definitions, values, **kwargs)
    return {issue.field: issue.issue for issue in refused.value.details}


def test_valid_values_come_back_normalised_in_the_definitions_order():
    checked = validate_field_values(DEFINITIONS, dict(reversed(VALID.items())))
    assert list(checked) == [name for name in (d.name for d in DEFINITIONS) if name in VALID]
    assert checked["units"] == 2 and isinstance(checked["units"], int)
    assert checked["price"] == {"amount": "12.50", "currency": "EUR"}
    assert checked["weight"] == 1 and checked["warranty"] is False


@pytest.mark.parametrize("name, value, issue", [
    ("units", True, "must be an integer"),
    ("units", 2.5, "must be an integer"),
    ("units", "2", "must be an integer"),
    ("units", 0, "must be at least 1"),
    ("units", 11, "must be at most 10"),
    ("weight", "1.5", "must be a number"),
    ("weight", False, "must be a number"),
    ("weight", float("nan"), "must be a number"),
    ("weight", 0.25, "must be at least 0.5"),
    ("bought", "2023-02-29", "is not a date in the calendar"),
    ("bought", "29/02/2024", "must be a date as YYYY-MM-DD"),
    ("bought", "2024-02-01\n", "must be a date as YYYY-MM-DD"),
    ("bought", "２０２４-02-01", "must be a date as YYYY-MM-DD"),
    ("warranty", "true", "must be true or false"),
    ("channel", "fax", "must be one of shop, web"),
    ("notes", ["a"], "must be a string"),
    ("notes", "x" * 10_001, "must be at most 10000 characters"),
    ("phone", "x" * 201, "must be at most 200 characters"),
    ("phone", "two\nlines", "must be one line"),
    ("phone", "two\u2028lines", "must be one line"),
    ("serial", "AB-12345", "must match [A-Z]{2}-[0-9]{4}"),
    ("serial", "xAB-1234", "must match [A-Z]{2}-[0-9]{4}"),
    ("price", "12.50", 'must be an object with "amount" and "currency"'),
])
def test_a_wrong_value_is_a_fault_named_by_its_field(name, value, issue):
    assert faults({**VALID, name: value}) == {f"fields.{name}": issue}


NOT_AN_AMOUNT = 'must be a decimal string with at most 2 decimals, e.g. "1250.00"'


@pytest.mark.parametrize("price, path, issue", [
    ({"amount": "12.505", "currency": "EUR"}, "amount", NOT_AN_AMOUNT),
    ({"amount": 12.5, "currency": "EUR"}, "amount", NOT_AN_AMOUNT),
    ({"amount": "-1", "currency": "EUR"}, "amount", NOT_AN_AMOUNT),
    ({"amount": "0.99", "currency": "EUR"}, "amount", "must be at least 1"),
    ({"amount": "5000.01", "currency": "EUR"}, "amount", "must be at most 5000"),
    ({"amount": "10", "currency": "eur"}, "currency", "must be an ISO 4217 code of 3 capital letters"),
    ({"amount": "10"}, "currency", "must be an ISO 4217 code of 3 capital letters"),
    ({"amount": "10", "currency": "EUR", "rate": 1}, "rate", "unknown field"),
])
def test_a_money_fault_names_the_part(price, path, issue):
    assert faults({**VALID, "price": price}) == {f"fields.price.{path}": issue}


def test_every_fault_is_named_at_once():
    assert faults({"units": 0, "colour": "red", "channel": "fax"}) == {
        "fields.colour": "is not a field of this case type",
        "fields.serial": "is required",
        "fields.units": "must be at least 1",
        "fields.channel": "must be one of shop, web",
    }


def test_fields_must_be_an_object():
    assert faults(["serial"]) == {"fields": "expected an object"}


def test_a_patch_may_leave_required_fields_out_and_clear_optional_ones():
    assert validate_field_values(DEFINITIONS, {"units": 3, "notes": None}, partial=True) == {"units": 3, "notes": None}
    assert faults({"serial": None}, partial=True) == {"fields.serial": "is required and cannot be null"}


def test_a_null_on_create_is_a_field_left_out():
    assert validate_field_values(DEFINITIONS, {"serial": "AB-0001", "notes": None}) == {"serial": "AB-0001"}
    assert faults({"serial": None}) == {"fields.serial": "is required and cannot be null"}


def test_a_pattern_is_never_tried_on_a_long_value():
    slow = [field("code", "text", pattern="(a+)+b", maxLength=5000)]
    assert faults({"code": "a" * 1001}, slow) == {"fields.code": "must be at most 1000 characters"}


def test_the_schema_describes_each_field():
    schema = fields_json_schema(DEFINITIONS)
    props = schema["properties"]
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["required"] == ["serial"] and schema["additionalProperties"] is False
    assert props["serial"] == {
        "title": "Serial", "description": "on the back of the device", "type": "string", "maxLength": 200,
        "not": props["serial"]["not"], "pattern": "^(?:[A-Z]{2}-[0-9]{4})$",
    }
    assert props["units"] == {"title": "Units", "type": ["integer", "null"], "minimum": 1, "maximum": 10}
    assert props["channel"]["enum"] == ["shop", "web", None]
    assert props["bought"]["format"] == "date" and props["notes"]["maxLength"] == 10_000
    assert props["phone"]["x-pii"] is True and "x-pii" not in props["serial"]
    jsonschema.Draft202012Validator.check_schema(schema)


def test_the_schema_refuses_what_the_check_refuses():
    validator = schema_validator(DEFINITIONS)
    for bad in ({"units": True}, {"phone": "a\nb"}, {"bought": "2023-02-29"}, {"colour": 1}, {"channel": "fax"}):
        assert not validator.is_valid({**VALID, **bad}), bad
    assert not validator.is_valid({"units": 2})


RULED_FIELDS = st.sampled_from([
    field("s", "string", maxLength=5), field("s", "string", pattern="[a-c]+"), field("s", "text", maxLength=8),
    field("i", "integer", min=-2, max=3), field("n", "number", min=0.5, max=9.75), field("m", "money", max=100),
    field("d", "date"), field("b", "boolean"), field("e", "enum", enum=["x", "y"]),
])
ANY_VALUE = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 12), st.floats(-5, 12), st.integers(), st.floats(allow_nan=False),
    st.text(max_size=12), st.text(alphabet="abc\n", max_size=6), st.sampled_from(["x", "y", "z"]),
    st.dates().map(str), st.from_regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", fullmatch=True),
    st.fixed_dictionaries({"amount": st.from_regex(r"[0-9]{1,4}(\.[0-9]{0,3})?", fullmatch=True),
                           "currency": st.sampled_from(["EUR", "eur", "USDX"])}),
)


@settings(max_examples=300, deadline=None)
@given(
    definitions=st.lists(st.tuples(RULED_FIELDS, st.booleans(), st.booleans()), max_size=4),
    values=st.lists(ANY_VALUE, min_size=4, max_size=4),
    partial=st.booleans(),
)
def test_whatever_the_check_accepts_the_schema_accepts(definitions, values, partial):
    fields = [d.model_copy(update={"name": f"{d.name}{i}", "required": req, "pii": pii})
              for i, (d, req, pii) in enumerate(definitions)]
    sent = {f.name: value for f, value in zip(fields, values)}
    try:
        checked = validate_field_values(fields, sent, partial=partial)
    except InvalidInput:
        return
    validator = schema_validator(fields)
    validator.validate(sent)
    validator.validate({k: v for k, v in checked.items() if v is not None} if partial else checked)


def test_public_fields_leave_out_pii_and_undefined_values():
    values = validate_field_values(DEFINITIONS, VALID)
    public = public_fields(DEFINITIONS, {**values, "retired": "x"})
    assert "phone" not in public and "retired" not in public
    assert public["serial"] == "AB-1234" and public["price"] == {"amount": "12.50", "currency": "EUR"}


def test_only_enum_and_boolean_fields_are_filters():
    assert list(filterable_fields(DEFINITIONS)) == ["warranty", "channel"]
    assert parse_field_filters(DEFINITIONS, {"status": "OPEN", "field.warranty": "true", "field.channel": "shop"}) == {
        "warranty": True, "channel": "shop",
    }
    assert parse_field_filters(DEFINITIONS, {"field.warranty": "false"}) == {"warranty": False}


def test_a_bad_filter_names_its_query_parameter():
    with pytest.raises(InvalidInput) as refused:
        parse_field_filters(DEFINITIONS, {"field.warranty": "yes", "field.channel": "fax", "field.units": "2",
                                          "field.nope": "x"})
    assert {d.field: d.issue for d in refused.value.details} == {
        "field.warranty": "must be true or false",
        "field.channel": "must be one of shop, web",
        "field.units": "is not an enum or boolean field of this case type",
        "field.nope": "is not an enum or boolean field of this case type",
    }


def test_every_type_has_a_check_and_a_schema():
    for kind in FieldType:
        rules = {"enum": ["a"]} if kind == FieldType.ENUM else {}
        assert fields_json_schema([field("f", kind.value, **rules)])["properties"]["f"]["type"]
