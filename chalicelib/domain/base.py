"""The base of every API model: camelCase JSON, snake_case attributes. Its own module so that model
modules can import it without importing each other."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class ApiModel(BaseModel):
    # defer_build: validators are built on first use, not at import, which halves cold starts.
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, defer_build=True)

    def to_api(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


class RequestModel(ApiModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=False, extra="forbid", str_strip_whitespace=True,
        defer_build=True,
    )
