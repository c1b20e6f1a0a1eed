"""One object version, start to finish: stream, verify, detect, inspect, write artifacts and the result.

Everything it touches comes in as an argument (source, artifact store, result sink, limits), so the
container, the local runner and the tests run exactly this code.
"""
from __future__ import annotations

import base64
import binascii
import re
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, Optional

from . import __version__
from .archives import inspect_archive
from .config import Job, Limits
from .deadline import TimeLimitExceeded, time_limit
from .detect import ARCHIVES, HEAD_BYTES, IMAGES, check_claims, detect, family
from .images import inspect_image
from .names import filename_flags
from .pdf import embedded_zip, inspect_pdf
from .result import Findings, Inspection
from .sink import ArtifactStore, ResultSink, to_json
from .source import ObjectSource
from .stream import Scanned, scan
from .text import clip_text, decode_text

RANDOM_ACCESS = frozenset({"pdf"}) | IMAGES | ARCHIVES  # types whose parsers seek: spooled to a temp file
# The small, structured part of the result, repeated under "metadata" for the API's document record
# (which caps it at 32,000 characters: extracted text and entry names stay in S3).
SUMMARY_FIELDS = ("detectedType", "pages", "encrypted", "width", "height", "archiveFormat", "entries",
                  "uncompressedSize", "compressionRatio", "textTruncated", "flags", "artifacts")
_HEX_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")


def process(
    job: Job, source: ObjectSource, artifacts: ArtifactStore, sink: ResultSink, limits: Limits = Limits()
) -> dict[str, Any]:
    """Returns the result it wrote. Raises `SourceUnavailable` (and the sinks' errors) for a retry."""
    started = time.monotonic()
    findings = Findings()
    for flag in filename_flags(job.declared_filename):
        findings.flag(flag)
    with tempfile.TemporaryDirectory(prefix="processor-") as workdir:
        scanned, path = _read(source, Path(workdir), limits, findings)
        detected = detect(scanned.prefix[:HEAD_BYTES]) if scanned is not None else "unknown"
        inspection = Inspection()
        if scanned is not None and not findings.quarantined:
            _verify(job, scanned, detected, path, findings)
        if scanned is not None and not findings.quarantined:
            inspection = _inspect(detected, scanned, path, findings, limits)
    result = _result(job, scanned, detected, findings, inspection, limits, started)
    _write(result, inspection, findings, artifacts, sink, limits)
    return result


def _read(source: ObjectSource, workdir: Path, limits: Limits,
          findings: Findings) -> tuple[Optional[Scanned], Optional[Path]]:
    spools: list[IO[bytes]] = []
    local = source.local_path()

    def spool(prefix: bytes) -> Optional[IO[bytes]]:
        if local is not None or detect(prefix[:HEAD_BYTES]) not in RANDOM_ACCESS:
            return None
        spools.append((workdir / "object").open("w+b"))
        return spools[-1]

    opened = source.open()
    try:
        if opened.content_length is not None and opened.content_length > limits.max_bytes:
            findings.quarantine("too-large", f"{opened.content_length} bytes, limit {limits.max_bytes}")
            return None, None
        prefix_bytes = max(HEAD_BYTES, limits.text_result_bytes)
        scanned = scan(opened.chunks, max_bytes=limits.max_bytes, prefix_bytes=prefix_bytes, spool=spool)
    finally:
        opened.close()
        for handle in spools:
            handle.close()
    if scanned.over_limit:
        findings.quarantine("too-large", f"more than {limits.max_bytes} bytes")
        return None, None
    return scanned, local or scanned.spooled


def _verify(job: Job, scanned: Scanned, detected: str, path: Optional[Path], findings: Findings) -> None:
    if scanned.size == 0:
        findings.quarantine("empty", "the object has no bytes")
        return
    if job.expected_sha256 is not None:
        expected = _expected_hex(job.expected_sha256)
        if expected is None:
            findings.quarantine("sha256-invalid", f"declared SHA-256 {job.expected_sha256[:100]!r} is not one")
        elif expected != scanned.sha256:
            findings.quarantine("sha256-mismatch", f"declared {expected}, actual {scanned.sha256}")
    check_claims(detected, job.declared_content_type, job.declared_filename, findings)
    if detected == "text" and scanned.nul_seen:
        findings.quarantine("text-binary-content", "a text head with binary bytes further on")
    # Two readers, two meanings: PDF readers accept %PDF- anywhere in the first 1024 bytes; zip
    # readers find their directory from the end of the file.
    if detected not in ("pdf", "text") and b"%PDF-" in scanned.prefix[:1024]:
        findings.quarantine("polyglot", f"{detected} with a PDF header in its first 1024 bytes")
    if (detected == "pdf" or detected in IMAGES) and path is not None and embedded_zip(path):
        findings.quarantine("polyglot", f"{detected} with a ZIP archive inside")


def _expected_hex(declared: str) -> Optional[str]:
    """Hex (the API's form) or base64 (S3's x-amz-checksum-sha256 form)."""
    declared = declared.strip()
    if _HEX_SHA256.match(declared):
        return declared.lower()
    try:
        raw = base64.b64decode(declared, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw.hex() if len(raw) == 32 else None


def _inspect(detected: str, scanned: Scanned, path: Optional[Path], findings: Findings, limits: Limits) -> Inspection:
    kind = family(detected)
    if kind == "text":
        text = decode_text(scanned.prefix)
        if scanned.size > len(scanned.prefix):
            findings.flag("text-truncated")
        return Inspection(text=text)
    if path is None:  # cannot happen: these types are spooled
        findings.quarantine("unsupported-type", f"no random-access copy of the {detected}")
        return Inspection()
    try:
        with time_limit(limits.inspect_seconds) as deadline:
            if kind == "pdf":
                return inspect_pdf(path, findings, limits, deadline)
            if kind == "image":
                return inspect_image(path, detected, findings, limits, deadline)
            if kind == "archive":
                return inspect_archive(path, detected, findings, limits, deadline)
    except TimeLimitExceeded as error:
        findings.quarantine("inspection-time-limit", f"{detected}: {error}")
    return Inspection()


def _safe(text: str) -> str:
    """Lone surrogates (undecodable bytes in an environment variable) cannot be stored as UTF-8."""
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def _result(
    job: Job, scanned: Optional[Scanned], detected: str, findings: Findings, inspection: Inspection,
    limits: Limits, started: float,
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "status": findings.status,
        "reasons": [_safe(str(reason)) for reason in findings.reasons],
        "reasonCodes": findings.codes(),
        "flags": list(findings.flags),
        "bucket": job.bucket, "key": job.key, "versionId": job.version_id,
        "caseId": job.case_id, "documentId": job.document_id,
        "sha256": scanned.sha256 if scanned is not None else None,
        "size": scanned.size if scanned is not None else None,
        "detectedType": detected,
        "declaredContentType": _safe(job.declared_content_type),
        "declaredFilename": _safe(job.declared_filename),
        **inspection.fields,
    }
    if inspection.text is not None and not findings.quarantined:
        clipped = clip_text(inspection.text, limits.text_result_bytes)
        result["text"] = clipped
        result["textTruncated"] = len(clipped) < len(inspection.text) or "text-truncated" in findings.flags
    result["processor"] = __version__
    result["processedAt"] = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    result["durationMs"] = round((time.monotonic() - started) * 1000)
    return result


def _write(
    result: dict[str, Any], inspection: Inspection, findings: Findings, artifacts: ArtifactStore, sink: ResultSink,
    limits: Limits,
) -> None:
    """Derived files first, so that a result never names a file that is not there yet."""
    keys: dict[str, str] = {}
    # A quarantined file's content is not offered onwards, not even as text or a thumbnail.
    if not findings.quarantined and inspection.text is not None:
        text = clip_text(inspection.text, limits.text_artifact_bytes)
        keys["text"] = artifacts.put("text.txt", text.encode(), "text/plain; charset=utf-8")
    if not findings.quarantined and inspection.thumbnail is not None:
        keys["thumbnail"] = artifacts.put("thumbnail.png", inspection.thumbnail, "image/png")
    metadata = {k: v for k, v in result.items() if k != "text"}
    metadata.update(inspection.metadata)
    keys["metadata"] = artifacts.put("metadata.json", to_json(metadata).encode(), "application/json")
    result["artifacts"] = keys
    result["metadata"] = {name: result[name] for name in SUMMARY_FIELDS if name in result}
    sink.write(result)
