"""Turn pydantic's errors into the API's field-level 400s."""
from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ..errors import FieldIssue, InvalidInput

M = TypeVar("M", bound=BaseModel)


def _field_name(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc) or "body"


def parse(model: type[M], payload: Any) -> M:
    if isinstance(payload, model):  # already parsed by the HTTP edge
        return payload
    if not isinstance(payload, dict):
        raise InvalidInput("the request body must be a JSON object", [FieldIssue("body", "expected an object")])
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        details = [
            FieldIssue(_field_name(err["loc"]), "unknown field" if err["type"] == "extra_forbidden" else err["msg"])
            for err in exc.errors(include_url=False)
        ]
        raise InvalidInput("the request body is invalid", details) from None
