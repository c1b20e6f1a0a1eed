"""The integration events' contract as the repository holds it (schemas/events/): every event a test sees
published or delivered is checked against its type's schema."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas" / "events"


@lru_cache(maxsize=1)
def _validators() -> dict[str, Draft202012Validator]:
    documents = {path.name.removesuffix(".v1.json"): json.loads(path.read_text()) for path in SCHEMAS.glob("*.json")}
    registry = Registry().with_resources(
        (document["$id"], Resource.from_contents(document)) for document in documents.values()
    )
    for document in documents.values():
        Draft202012Validator.check_schema(document)
    return {
        name: Draft202012Validator(document, registry=registry, format_checker=FormatChecker())
        for name, document in documents.items() if name != "envelope"
    }


def schema_types() -> set[str]:
    return set(_validators())


def assert_valid(event: dict[str, Any]) -> None:
    """Raise unless `event` is valid against the schema of its type (an unknown type has none: it fails)."""
    validator = _validators().get(event.get("type", ""))
    assert validator is not None, f"no schema for event type {event.get('type')!r}"
    errors = sorted(validator.iter_errors(event), key=lambda error: list(error.path))
    assert not errors, f"{event['type']} is not valid: " + "; ".join(
        f"{'/'.join(map(str, e.path)) or '(event)'}: {e.message}" for e in errors
    )
