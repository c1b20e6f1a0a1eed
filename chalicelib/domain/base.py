"""The base of every API model: camelCase JSON, snake_case attributes. Its own module so that model
modules can import it without importing each other."""
from __future__ import annotations

from typing import Annotated, Any, Optional

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt
from pydantic.alias_generators import to_camel


class ApiModel(BaseModel):
    # defer_build: validators are built on first use, not at import, which halves cold starts.
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, defer_build=True)

    def to_api(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


class ApiPage(ApiModel):
    """A page of a listing: each listing adds its `items`."""

    next_cursor: Optional[str] = Field(
        default=None, description="pass as `cursor` (with the same filters) for the next page; null on the last page",
    )


class RequestModel(ApiModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=False, extra="forbid", str_strip_whitespace=True,
        defer_build=True,
    )


# Request strings are stripped before their constraints apply, so a required text must hold a character
# that is not whitespace (as str.strip() sees it: ECMA's \s lacks \x1c-\x1f and \x85 but has \ufeff).
# The pattern says so in the OpenAPI document; the stripping already enforces it.
NOT_BLANK = r"[^\s\x1c-\x1f\x85]|\ufeff"


def _whole_number(value: Any) -> Any:
    """JSON Schema counts 2.0 as an integer; Python's JSON reads it as a float. Booleans stay refused."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# An integer field of a request: 3 and 3.0, never true, "3" or 3.5.
WholeNumber = Annotated[StrictInt, BeforeValidator(_whole_number)]
