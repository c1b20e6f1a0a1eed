"""Custom fields: what a case type asks of its cases beyond the fixed fields, as data an admin writes.

This module holds the definition's shape; validating values against it and serving it as JSON Schema
build on it."""
from __future__ import annotations

from enum import Enum
from typing import Annotated, Optional

from pydantic import Field, StrictBool, StrictFloat, StringConstraints

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
