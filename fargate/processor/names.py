"""File names as attackers write them: hidden extensions, path tricks, bytes that break headers and logs.

The API sanitises the name it stores; the processor reports what the uploader actually sent, and
derives the extension a person (or a file manager) would act on.
"""
from __future__ import annotations

import re
import unicodedata

MAX_NAME_BYTES = 255  # what common file systems accept for one path component

# Characters that reorder how a name is displayed: "invoice\u202eFDP.exe" shows as "invoiceexe.PDF".
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_RESERVED = frozenset(':*?"<>|')  # not allowed in Windows names; ":" also selects NTFS alternate streams
_DRIVE = re.compile(r"^[A-Za-z]:")
_SEPARATORS = re.compile(r"[\\/]")


def is_absolute(name: str) -> bool:
    return name.startswith(("/", "\\")) or bool(_DRIVE.match(name))


def has_traversal(name: str) -> bool:
    return any(part == ".." for part in _SEPARATORS.split(name))


def filename_flags(name: str) -> list[str]:
    """Problems with a declared file name, as flags (the name does not change what the bytes are)."""
    if not name:
        return ["filename-missing"]
    flags = []
    if "\x00" in name:
        flags.append("filename-nul")
    if any(char in BIDI_CONTROLS for char in name):
        flags.append("filename-bidi-control")
    if "\r" in name or "\n" in name:
        flags.append("filename-crlf")
    if any(unicodedata.category(char) == "Cc" and char not in "\x00\r\n" for char in name):
        flags.append("filename-control-character")
    if has_traversal(name):
        flags.append("filename-path-traversal")
    if is_absolute(name):
        flags.append("filename-absolute-path")
    elif _SEPARATORS.search(name):
        flags.append("filename-path-separator")
    if any(char in _RESERVED for char in name):
        flags.append("filename-reserved-character")
    if len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        flags.append("filename-too-long")
    return flags


def extensions(name: str) -> list[str]:
    """The name's extensions, lower case, outermost last: "Report.PDF.exe" -> ["pdf", "exe"].

    Taken from the last path component after removing what hides or truncates an extension on
    display or on Windows: control and bidi characters, and trailing dots and spaces.
    """
    visible = "".join(
        char for char in name
        if char not in BIDI_CONTROLS and unicodedata.category(char) not in ("Cc", "Cf")
    )
    base = _SEPARATORS.split(visible)[-1].rstrip(" .")
    parts = base.split(".")
    return [part.strip().lower() for part in parts[1:] if part.strip()]
