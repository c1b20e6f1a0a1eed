"""PDFs with pypdf: page count, text, encryption, within limits on pages, decompressed bytes and time.

pypdf's own per-stream limits apply (its `apply_configuration`), and before any page is read every
FlateDecode stream is inflated once, incrementally and discarding output, against a budget for the
whole document: a few KB that inflate to gigabytes are stopped after the budget, not after the RAM.
"""
from __future__ import annotations

import logging
import mmap
import zlib
from pathlib import Path
from typing import Any, Iterator

from .config import Limits
from .deadline import Deadline
from .result import Findings, Inspection
from .text import clip_text

_INFLATE_STEP = 1 << 20


class InflationLimit(Exception):
    pass


def inspect_pdf(path: Path, findings: Findings, limits: Limits, deadline: Deadline) -> Inspection:
    import pypdf
    from pypdf import PasswordType
    from pypdf.errors import LimitReachedError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # malformed-but-readable files warn a lot
    inspection = Inspection()
    stream_limit = limits.pdf_max_stream_bytes
    try:
        with pypdf.apply_configuration(
            zlib_maximum_output_length=stream_limit, lzw_maximum_output_length=stream_limit,
            run_length_maximum_output_length=stream_limit, brotli_maximum_output_length=stream_limit,
            jbig2_maximum_output_length=stream_limit, array_based_stream_maximum_output_length=stream_limit,
            image_maximum_buffer_size=stream_limit,
            jbig2dec_binary=None,  # never run an external decoder on hostile input
        ), path.open("rb") as handle:
            reader = pypdf.PdfReader(handle, strict=False)
            inspection.fields["encrypted"] = reader.is_encrypted
            if reader.is_encrypted:
                # An empty user password is common ("protected" against printing only): then it can be read.
                if reader.decrypt("") == PasswordType.NOT_DECRYPTED:
                    findings.quarantine("pdf-encrypted", "needs a password, so its content cannot be inspected")
                    return inspection
                findings.flag("pdf-encrypted")
            inflated = _inflate_all(reader, limits, deadline)
            inspection.fields["inflatedBytes"] = inflated
            pages = len(reader.pages)
            inspection.fields["pages"] = pages
            inspection.metadata["pdf"] = _document_info(reader)
            inspection.text = _extract_text(reader, pages, findings, limits, deadline)
    except (InflationLimit, LimitReachedError) as error:
        findings.quarantine("pdf-decompression-limit", str(error))
    except Exception as error:  # noqa: BLE001 - a parser failure is a verdict on the file, not a crash
        findings.quarantine("pdf-unreadable", f"{type(error).__name__}: {error}"[:300])
    return inspection


def embedded_zip(path: Path) -> bool:
    """A ZIP local header and end-of-central-directory anywhere inside: a PDF+ZIP polyglot.

    Both signatures are required: one 4-byte signature occurs by chance in large compressed streams.
    """
    with path.open("rb") as handle:
        if path.stat().st_size == 0:
            return False
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return data.find(b"PK\x05\x06") >= 0 and data.find(b"PK\x03\x04") >= 0


def _streams(reader: Any) -> Iterator[Any]:
    from pypdf.generic import IndirectObject, StreamObject

    for generation, numbers in list(reader.xref.items()):
        for number in list(numbers):
            try:
                obj = reader.get_object(IndirectObject(number, generation, reader))
            except Exception:  # noqa: BLE001 - an unreadable object is pypdf's problem later, not a bomb
                continue
            if isinstance(obj, StreamObject):
                yield obj


def _inflate_all(reader: Any, limits: Limits, deadline: Deadline) -> int:
    total = 0
    for stream in _streams(reader):
        deadline.check()
        filters = stream.get("/Filter")
        first = filters[0] if isinstance(filters, list) and filters else filters
        if first not in ("/FlateDecode", "/Fl"):
            continue  # other filters are bounded by pypdf's own limits when decoded
        # The raw (still encoded) bytes; pypdf 7.1 keeps them in `_data` (pinned; a test covers it).
        raw = getattr(stream, "_data", b"") or b""
        remaining = min(limits.pdf_max_stream_bytes, limits.pdf_max_inflated_bytes - total)
        total += _inflated_size(raw, remaining, deadline)
    return total


def _inflated_size(raw: bytes, budget: int, deadline: Deadline) -> int:
    inflater = zlib.decompressobj()
    produced = 0
    pending = raw
    try:
        while True:
            out = inflater.decompress(pending, _INFLATE_STEP)
            produced += len(out)
            if produced > budget:
                raise InflationLimit(f"a FlateDecode stream of {len(raw)} bytes inflates past {budget} bytes")
            pending = inflater.unconsumed_tail
            if inflater.eof or (not pending and not out):
                return produced
            deadline.check()
    except zlib.error:
        return produced  # corrupt data: pypdf will fail or recover on its own, within its limits


def _document_info(reader: Any) -> dict[str, str]:
    try:
        info = reader.metadata or {}
        return {str(k).lstrip("/"): str(v)[:500] for k, v in list(info.items())[:50]}
    except Exception:  # noqa: BLE001 - metadata is optional: unreadable means none
        return {}


def _extract_text(reader: Any, pages: int, findings: Findings, limits: Limits, deadline: Deadline) -> str:
    parts: list[str] = []
    size = 0
    for index, page in enumerate(reader.pages):
        if index >= limits.pdf_max_pages:
            findings.flag("pdf-pages-truncated")
            break
        deadline.check()
        text = page.extract_text() or ""
        parts.append(text)
        size += len(text)
        if size >= limits.text_artifact_bytes:
            findings.flag("text-truncated")
            break
    return clip_text("\n".join(parts), limits.text_artifact_bytes)
