"""True type from magic bytes, and whether it agrees with what the uploader declared.

The declared content type and the file name are claims; the first bytes are the evidence. A browser,
a mail client or a desktop acts on the claim, so any disagreement quarantines.
"""
from __future__ import annotations

from typing import Optional

from .names import extensions
from .result import Findings

HEAD_BYTES = 8192  # enough for every signature below (tar's sits at 257) and for the text heuristic

ARCHIVES = frozenset({"zip", "gzip", "tar"})
UNINSPECTABLE = frozenset({"bzip2", "xz", "7z", "rar", "ole"})  # formats this processor cannot look into
EXECUTABLES = frozenset({"pe-executable", "elf-executable", "macho-executable", "wasm", "script"})
IMAGES = frozenset({"png", "jpeg", "gif", "webp", "tiff"})

_SIGNATURES: list[tuple[bytes, str]] = [
    (b"%PDF-", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),  # an empty archive
    (b"PK\x07\x08", "zip"),  # a spanned archive's first part
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"Rar!\x1a\x07", "rar"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole"),  # legacy Office (.doc/.xls), macros included
    (b"\x7fELF", "elf-executable"),
    (b"\xfe\xed\xfa\xce", "macho-executable"),
    (b"\xfe\xed\xfa\xcf", "macho-executable"),
    (b"\xce\xfa\xed\xfe", "macho-executable"),
    (b"\xcf\xfa\xed\xfe", "macho-executable"),
    (b"\xca\xfe\xba\xbe", "macho-executable"),  # also a Java class file: executable either way
    (b"\x00asm", "wasm"),
    (b"#!", "script"),
]

_TEXT_BYTES = bytes(range(32, 256)) + b"\t\n\r\f"

TYPES_BY_MIME: dict[str, frozenset[str]] = {
    "application/pdf": frozenset({"pdf"}),
    "image/png": frozenset({"png"}),
    "image/jpeg": frozenset({"jpeg"}),
    "image/jpg": frozenset({"jpeg"}),
    "image/pjpeg": frozenset({"jpeg"}),
    "image/gif": frozenset({"gif"}),
    "image/webp": frozenset({"webp"}),
    "image/tiff": frozenset({"tiff"}),
    "application/zip": frozenset({"zip"}),
    "application/x-zip-compressed": frozenset({"zip"}),
    # Office Open XML and OpenDocument files are zip containers.
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": frozenset({"zip"}),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": frozenset({"zip"}),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": frozenset({"zip"}),
    "application/vnd.oasis.opendocument.text": frozenset({"zip"}),
    "application/vnd.oasis.opendocument.spreadsheet": frozenset({"zip"}),
    "application/gzip": frozenset({"gzip"}),
    "application/x-gzip": frozenset({"gzip"}),
    "application/x-tar": frozenset({"tar"}),
    "application/x-gtar": frozenset({"gzip", "tar"}),
    "text/plain": frozenset({"text"}),
    "text/csv": frozenset({"text"}),
    "text/markdown": frozenset({"text"}),
    "application/json": frozenset({"text"}),
}
UNSPECIFIED_MIMES = frozenset({"", "application/octet-stream", "binary/octet-stream"})

TYPES_BY_EXTENSION: dict[str, frozenset[str]] = {
    "pdf": frozenset({"pdf"}),
    "png": frozenset({"png"}),
    "jpg": frozenset({"jpeg"}), "jpeg": frozenset({"jpeg"}), "jpe": frozenset({"jpeg"}),
    "gif": frozenset({"gif"}),
    "webp": frozenset({"webp"}),
    "tif": frozenset({"tiff"}), "tiff": frozenset({"tiff"}),
    "zip": frozenset({"zip"}), "docx": frozenset({"zip"}), "xlsx": frozenset({"zip"}),
    "pptx": frozenset({"zip"}), "odt": frozenset({"zip"}), "ods": frozenset({"zip"}),
    "gz": frozenset({"gzip"}), "tgz": frozenset({"gzip"}),
    "tar": frozenset({"tar"}),
    "txt": frozenset({"text"}), "csv": frozenset({"text"}), "log": frozenset({"text"}),
    "md": frozenset({"text"}), "json": frozenset({"text"}),
}

# Extensions that run something when opened: refused whatever the bytes are.
EXECUTABLE_EXTENSIONS = frozenset({
    "exe", "dll", "com", "scr", "pif", "cpl", "msi", "msp", "bat", "cmd", "ps1", "psm1", "vbs", "vbe",
    "js", "jse", "wsf", "wsh", "hta", "lnk", "reg", "jar", "sh", "bash", "app", "apk", "deb", "rpm",
    "dmg", "iso", "img", "vhd", "vhdx", "elf", "so", "dylib",
})


def detect(head: bytes) -> str:
    """The type the first bytes prove: a name from the tables above, "text", "dos-executable" or "unknown"."""
    for signature, name in _SIGNATURES:
        if head.startswith(signature):
            return name
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if len(head) >= 262 and head[257:262] == b"ustar":
        return "tar"
    if head[:2] == b"MZ":
        # "MZ" alone could start a sentence; a PE header or the binary zeros of a DOS header cannot.
        offset = int.from_bytes(head[60:64], "little") if len(head) >= 64 else 0
        if head[offset:offset + 4] == b"PE\x00\x00" or b"\x00" in head[:64]:
            return "pe-executable"
    if looks_like_text(head):
        return "text"
    return "unknown"


def looks_like_text(head: bytes) -> bool:
    """No NUL and almost no control bytes; UTF-8 or a legacy 8-bit encoding (Excel's CSVs)."""
    if not head or b"\x00" in head:
        return False
    controls = len(head.translate(None, _TEXT_BYTES))
    return controls * 100 <= len(head)


def family(detected: str) -> str:
    if detected in EXECUTABLES:
        return "executable"
    if detected in ARCHIVES:
        return "archive"
    if detected in IMAGES:
        return "image"
    return detected


def _mime(declared: str) -> str:
    return declared.split(";", 1)[0].strip().lower()


def check_claims(detected: str, declared_content_type: str, filename: str, findings: Findings) -> None:
    """Executable content or extension, unknown types, and any disagreement between bytes, type and name."""
    if detected in EXECUTABLES:
        findings.quarantine("executable-content", f"the bytes are a {detected}")
    elif detected in UNINSPECTABLE:
        findings.quarantine("unsupported-type", f"{detected} content cannot be inspected")
    elif detected == "unknown":
        findings.quarantine("unsupported-type", "the bytes match no supported type")

    mime = _mime(declared_content_type)
    if mime in UNSPECIFIED_MIMES:
        findings.flag("content-type-unspecified")
    elif detected not in TYPES_BY_MIME.get(mime, frozenset()):
        findings.quarantine("content-type-mismatch", f"declared {mime!r}, the bytes are {detected}")

    exts = extensions(filename)
    last: Optional[str] = exts[-1] if exts else None
    # Only the outermost extension picks the program that opens a file: "report.pdf.exe" runs.
    if last in EXECUTABLE_EXTENSIONS:
        findings.quarantine("executable-extension", f"the name {filename!r} ends in .{last}")
    if last is None:
        findings.flag("extension-missing")
    elif last in TYPES_BY_EXTENSION:
        if detected not in TYPES_BY_EXTENSION[last]:
            findings.quarantine("extension-mismatch", f"the name ends in .{last}, the bytes are {detected}")
    elif last not in EXECUTABLE_EXTENSIONS:
        findings.flag("extension-unknown")
