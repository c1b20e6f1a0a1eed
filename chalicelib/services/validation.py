"""Turn pydantic's errors into the API's field-level 400s."""
from __future__ import annotations

from typing import Any, Optional, TypeVar

from pydantic import BaseModel, ValidationError

from ..errors import FieldIssue, InvalidInput

M = TypeVar("M", bound=BaseModel)


def json_path(loc: tuple[Any, ...]) -> str:
    """A field's location as a JSON path: `tasks[1].type`, `compensation.amount`."""
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".") or "body"


def parse(model: type[M], payload: Any) -> M:
    if isinstance(payload, model):  # already parsed by the HTTP edge
        return payload
    if not isinstance(payload, dict):
        raise InvalidInput("the request body must be a JSON object", [FieldIssue("body", "expected an object")])
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        details = [
            FieldIssue(json_path(err["loc"]), "unknown field" if err["type"] == "extra_forbidden" else err["msg"])
            for err in exc.errors(include_url=False)
        ]
        raise InvalidInput("the request body is invalid", details) from None


def parse_if_match(if_match: Optional[str], what: str = "case") -> int:
    """The version an If-Match header names (`"3"`, `W/"3"`, `3`); a 400 naming If-Match when absent or not one."""
    if if_match is None:
        raise InvalidInput("If-Match is required", [FieldIssue("If-Match", f"send the {what}'s ETag")])
    value = if_match.strip()
    if value.startswith("W/"):
        value = value[2:]
    value = value.strip('"')
    if not (value.isascii() and value.isdigit()):  # int() refuses digits such as '²'
        raise InvalidInput("If-Match is invalid", [FieldIssue("If-Match", f"expected the {what}'s ETag, e.g. \"3\"")])
    return int(value)
