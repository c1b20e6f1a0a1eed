"""Custom fields: what a case type asks of its cases beyond the fixed fields, as data an admin writes.

The definitions' shape, the check of a case's values against them (`validate_field_values`), the same rules
as JSON Schema for clients (`fields_json_schema`), what may leave the system (`public_fields`) and the fields
a case listing may filter by (`parse_field_filters`)."""
from __future__ import annotations

import math
import re
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, Callable, Mapping, Optional, Sequence, Union

from pydantic import Field, StrictBool, StrictFloat, StringConstraints

from ..errors import FieldIssue, InvalidInput
from .base import ApiModel, WholeNumber

FieldName = Annotated[str, StringConstraints(pattern=r"^[a-z][A-Za-z0-9_]{0,39}$")]


class FieldType(str, Enum):
    STRING = "string"  # one line, at most 200 characters unless maxLength says otherwise
    TEXT = "text"  # free text, at most 10,000 characters unless maxLength says otherwise
    INTEGER = "integer"
    NUMBER = "number"
    MONEY = "money"  # {"amount": "12.50", "currency": "EUR"}, as the fixed compensation field
    DATE = "date"  # YYYY-MM-DD
    BOOLEAN = "boolean"
    ENUM = "enum"  # one of `enum`


class FieldDefinition(ApiModel):
    """One custom field of a case type."""

    name: FieldName = Field(description="the key in a case's `fields` object")
    label: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    type: FieldType
    required: StrictBool = False
    enum: Optional[list[str]] = Field(default=None, description="the allowed values of an enum field")
    min: Optional[StrictFloat] = Field(default=None, description="smallest value of an integer, number or money field")
    max: Optional[StrictFloat] = Field(default=None, description="largest value of an integer, number or money field")
    max_length: Optional[WholeNumber] = Field(default=None, ge=1, description="longest string or text")
    pattern: Optional[str] = Field(default=None, description="a regular expression a string value must match")
    pii: StrictBool = Field(default=False, description="personal data: never leaves the system in data products")
    help: Optional[str] = Field(default=None, max_length=500, description="a hint shown beside the field")


STRING_MAX_LENGTH = 200
TEXT_MAX_LENGTH = 10_000
# A pattern is a regular expression an admin wrote: one that backtracks badly costs time exponential in the
# input's length, so a field with a pattern holds at most this much and longer values are never matched.
PATTERN_MAX_LENGTH = 1_000
AMOUNT_PATTERN = r"^[0-9]{1,12}(\.[0-9]{1,2})?$"
CURRENCY_PATTERN = r"^[A-Z]{3}$"
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
# Any of these ends a line (str.splitlines): a string field is one line.
LINE_BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"
FILTER_PREFIX = "field."


class FieldFault(ValueError):
    """A value that does not fit its definition; `path` names the part at fault within the field."""

    def __init__(self, issue: str, path: str = "") -> None:
        super().__init__(issue)
        self.issue, self.path = issue, path


def max_length(definition: FieldDefinition) -> int:
    default = TEXT_MAX_LENGTH if definition.type == FieldType.TEXT else STRING_MAX_LENGTH
    longest = definition.max_length or default
    return min(longest, PATTERN_MAX_LENGTH) if definition.pattern else longest


def _shown(bound: float) -> str:
    return str(int(bound)) if bound.is_integer() else str(bound)


def _bounded(value: Union[int, float, Decimal], definition: FieldDefinition, path: str = "") -> None:
    if definition.min is not None and value < Decimal(str(definition.min)):
        raise FieldFault(f"must be at least {_shown(definition.min)}", path)
    if definition.max is not None and value > Decimal(str(definition.max)):
        raise FieldFault(f"must be at most {_shown(definition.max)}", path)


def _string(value: Any, definition: FieldDefinition) -> str:
    if not isinstance(value, str):
        raise FieldFault("must be a string")
    if len(value) > max_length(definition):
        raise FieldFault(f"must be at most {max_length(definition)} characters")
    if definition.type == FieldType.STRING and any(c in LINE_BREAKS for c in value):
        raise FieldFault("must be one line")
    if definition.pattern is not None and not re.fullmatch(definition.pattern, value):
        raise FieldFault(f"must match {definition.pattern}")
    return value


def _integer(value: Any, definition: FieldDefinition) -> int:
    # JSON Schema counts 2.0 as an integer, as WholeNumber does for the fixed fields; true is not 1.
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise FieldFault("must be an integer")
    _bounded(value, definition)
    return value


def _number(value: Any, definition: FieldDefinition) -> Union[int, float]:
    # NaN and Infinity are not JSON, though Python's parser reads them.
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (
        isinstance(value, float) and not math.isfinite(value)
    ):
        raise FieldFault("must be a number")
    _bounded(value, definition)
    return value


def _money(value: Any, definition: FieldDefinition) -> dict[str, str]:
    if not isinstance(value, dict):
        raise FieldFault('must be an object with "amount" and "currency"')
    extra = sorted(set(value) - {"amount", "currency"})
    if extra:
        raise FieldFault("unknown field", extra[0])
    amount, currency = value.get("amount"), value.get("currency")
    if not isinstance(amount, str) or not re.fullmatch(AMOUNT_PATTERN, amount):
        raise FieldFault('must be a decimal string with at most 2 decimals, e.g. "1250.00"', "amount")
    if not isinstance(currency, str) or not re.fullmatch(CURRENCY_PATTERN, currency):
        raise FieldFault("must be an ISO 4217 code of 3 capital letters", "currency")
    _bounded(Decimal(amount), definition, "amount")
    return {"amount": f"{Decimal(amount):.2f}", "currency": currency}


def _date(value: Any, definition: FieldDefinition) -> str:
    if not isinstance(value, str) or not re.fullmatch(DATE_PATTERN, value):
        raise FieldFault("must be a date as YYYY-MM-DD")
    try:
        date.fromisoformat(value)
    except ValueError:
        raise FieldFault("is not a date in the calendar") from None
    return value


def _boolean(value: Any, definition: FieldDefinition) -> bool:
    if not isinstance(value, bool):
        raise FieldFault("must be true or false")
    return value


def _enum(value: Any, definition: FieldDefinition) -> str:
    allowed = definition.enum or []
    if not isinstance(value, str) or value not in allowed:
        raise FieldFault(f"must be one of {', '.join(allowed)}")
    return value


_CHECKS: dict[FieldType, Callable[[Any, FieldDefinition], Any]] = {
    FieldType.STRING: _string, FieldType.TEXT: _string, FieldType.INTEGER: _integer, FieldType.NUMBER: _number,
    FieldType.MONEY: _money, FieldType.DATE: _date, FieldType.BOOLEAN: _boolean, FieldType.ENUM: _enum,
}


def validate_field_values(
    definitions: Sequence[FieldDefinition], values: Any, *, partial: bool = False,
) -> dict[str, Any]:
    """A case's `fields` checked against its type version's definitions, normalised (2.0 → 2, money amounts
    with 2 decimals), in the definitions' order. On create (`partial=False`) every required field must be
    given and a null is the same as leaving a field out (dropped); on PATCH (`partial=True`) only the given
    fields are checked and a null clears an optional field (kept as None). Raises InvalidInput with one
    issue per fault, each named `fields.<name>` (or `fields.<name>.amount` inside money)."""
    if not isinstance(values, dict):
        raise InvalidInput("the case's fields are invalid", [FieldIssue("fields", "expected an object")])
    by_name = {d.name: d for d in definitions}
    issues = [
        FieldIssue(f"fields.{name}", "is not a field of this case type") for name in values if name not in by_name
    ]
    checked: dict[str, Any] = {}
    for definition in definitions:
        path = f"fields.{definition.name}"
        if definition.name not in values:
            if definition.required and not partial:
                issues.append(FieldIssue(path, "is required"))
            continue
        value = values[definition.name]
        if value is None:
            if definition.required:
                issues.append(FieldIssue(path, "is required and cannot be null"))
            elif partial:
                checked[definition.name] = None
            continue
        try:
            checked[definition.name] = _CHECKS[definition.type](value, definition)
        except FieldFault as fault:
            issues.append(FieldIssue(f"{path}.{fault.path}" if fault.path else path, fault.issue))
    if issues:
        raise InvalidInput("the case's fields are invalid", issues)
    return checked


def _value_schema(definition: FieldDefinition) -> dict[str, Any]:
    bounds = {
        key: int(bound) if definition.type == FieldType.INTEGER and bound.is_integer() else bound
        for key, bound in (("minimum", definition.min), ("maximum", definition.max)) if bound is not None
    }
    kind = definition.type
    if kind in (FieldType.STRING, FieldType.TEXT):
        schema: dict[str, Any] = {"type": "string", "maxLength": max_length(definition)}
        if kind == FieldType.STRING:
            # `pattern` passes a non-string, so `not` alone would refuse the null of an optional field.
            schema["not"] = {"type": "string", "pattern": f"[{LINE_BREAKS}]"}
        if definition.pattern is not None:
            schema["pattern"] = f"^(?:{definition.pattern})$"
        return schema
    if kind in (FieldType.INTEGER, FieldType.NUMBER):
        return {"type": kind.value, **bounds}
    if kind == FieldType.MONEY:
        amount: dict[str, Any] = {"type": "string", "pattern": AMOUNT_PATTERN}
        if bounds:
            amount["description"] = ", ".join(f"{k} {_shown(float(v))}" for k, v in bounds.items())
        return {
            "type": "object", "additionalProperties": False, "required": ["amount", "currency"],
            "properties": {"amount": amount, "currency": {"type": "string", "pattern": CURRENCY_PATTERN}},
        }
    if kind == FieldType.DATE:
        return {"type": "string", "format": "date", "pattern": DATE_PATTERN}
    if kind == FieldType.BOOLEAN:
        return {"type": "boolean"}
    return {"type": "string", "enum": list(definition.enum or [])}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """An optional field may be sent as null (left out on create, cleared on PATCH)."""
    nullable = {**schema, "type": [schema["type"], "null"]}
    if "enum" in schema:
        nullable["enum"] = [*schema["enum"], None]
    return nullable


def fields_json_schema(definitions: Sequence[FieldDefinition]) -> dict[str, Any]:
    """A case's `fields` as JSON Schema (draft 2020-12), for `GET /case-types/{id}/schema` and form builders.
    Money bounds are in the amount's description: JSON Schema has no minimum for a decimal string."""
    properties = {}
    for definition in definitions:
        schema = _value_schema(definition)
        prop = {"title": definition.label, **(schema if definition.required else _nullable(schema))}
        if definition.help:
            prop["description"] = definition.help
        if definition.pii:
            prop["x-pii"] = True
        properties[definition.name] = prop
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": properties,
        "required": [d.name for d in definitions if d.required],
        "additionalProperties": False,
    }


def public_fields(definitions: Sequence[FieldDefinition], values: Mapping[str, Any]) -> dict[str, Any]:
    """The values that may leave the system: those of defined fields that are not personal data. A value with
    no definition (say, of a field a later version dropped) is left out too: only what is known safe goes."""
    return {d.name: values[d.name] for d in definitions if not d.pii and d.name in values}


def filterable_fields(definitions: Sequence[FieldDefinition]) -> dict[str, FieldDefinition]:
    """The fields a case listing may filter by: a few known values each, so a filter is an exact match."""
    return {d.name: d for d in definitions if d.type in (FieldType.ENUM, FieldType.BOOLEAN)}


def parse_field_filters(
    definitions: Sequence[FieldDefinition], params: Mapping[str, str],
) -> dict[str, Union[str, bool]]:
    """The `field.<name>=<value>` query parameters of a case listing as {name: value}; other parameters are
    not looked at. Raises InvalidInput naming each bad parameter (`field.<name>`)."""
    filterable = filterable_fields(definitions)
    filters: dict[str, Union[str, bool]] = {}
    issues = []
    for param, raw in params.items():
        if not param.startswith(FILTER_PREFIX):
            continue
        definition = filterable.get(param[len(FILTER_PREFIX):])
        if definition is None:
            issues.append(FieldIssue(param, "is not an enum or boolean field of this case type"))
        elif definition.type == FieldType.BOOLEAN:
            if raw not in ("true", "false"):
                issues.append(FieldIssue(param, "must be true or false"))
            else:
                filters[definition.name] = raw == "true"
        elif raw not in (definition.enum or []):
            issues.append(FieldIssue(param, f"must be one of {', '.join(definition.enum or [])}"))
        else:
            filters[definition.name] = raw
    if issues:
        raise InvalidInput("invalid field filter", issues)
    return filters
