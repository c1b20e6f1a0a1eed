"""Extracted text made safe to store: no control characters, cut on a character boundary."""
from __future__ import annotations

import re

# C0/C1 controls except tab and newline: they break JSON consumers and terminals, and JSON escapes
# would inflate them sixfold past DynamoDB's 400 KB item limit.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clip_text(text: str, max_bytes: int) -> str:
    cleaned = _CONTROLS.sub(" ", text)
    encoded = cleaned.encode("utf-8", "replace")
    if len(encoded) <= max_bytes:
        return cleaned
    return encoded[:max_bytes].decode("utf-8", "ignore")


def decode_text(data: bytes) -> str:
    """UTF-8 if it is (a character cut at the end is dropped), else Latin-1, which decodes anything."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.reason == "unexpected end of data":
            return data[: error.start].decode("utf-8", "replace")
        return data.decode("latin-1")
