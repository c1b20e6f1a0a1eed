"""Archives inspected without extraction: zip and tar(.gz) metadata, never a file written out.

What is read: the zip central directory and each entry's local header (to find entries whose bytes
overlap, the trick behind non-recursive zip bombs), tar headers, and the first bytes of each entry
(bounded) to spot archives inside archives. Sizes are never taken from what an archive declares: every
zip entry is inflated (into nothing: only counted) from its own data until its compressed stream ends, and a
gzip stream as a whole; the inflated bytes count against the size limit, which stops the inflating there.
A zip entry whose stream inflates to another size than its headers declare is quarantined: extractors
disagree on such an entry (some trust the header, some the stream).
"""
from __future__ import annotations

import gzip
import io
import stat
import struct
import tarfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Optional, Protocol, cast

from .config import Limits
from .deadline import Deadline
from .detect import ARCHIVES, detect
from .names import extensions, has_traversal, is_absolute
from .result import Findings, Inspection

_PEEK = 512  # covers tar's signature at 257
_NESTED_TYPES = ARCHIVES | {"bzip2", "xz", "7z", "rar"}
_NESTED_EXTENSIONS = frozenset({"zip", "jar", "war", "apk", "gz", "tgz", "tar", "bz2", "xz", "7z", "rar", "cab"})
_EOCD = struct.Struct("<4s4H2LH")
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")


class ArchiveLimit(Exception):
    pass


class _Readable(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


@dataclass
class _Entries:
    """Everything learnt about the entries; turned into reasons once, at the end."""

    count: int = 0
    total: int = 0
    compressed: int = 0
    worst_ratio: tuple[float, str] = (0.0, "")
    names: list[str] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    problems: dict[str, list[str]] = field(default_factory=dict)

    def problem(self, code: str, name: str) -> None:
        self.problems.setdefault(code, []).append(name)

    def add(self, name: str, size: int, compressed: Optional[int], limits: Limits) -> None:
        self.count += 1
        self.total += size
        if len(self.names) < 100:
            self.names.append(name)
        if name in self.seen:
            self.problem("archive-duplicate-names", name)  # extractors disagree on which copy wins
        self.seen.add(name)
        if has_traversal(name):
            self.problem("archive-path-traversal", name)
        if is_absolute(name):
            self.problem("archive-absolute-path", name)
        if "\x00" in name:
            self.problem("archive-path-traversal", name)  # C extractors stop at the NUL: another name
        if any(ext in _NESTED_EXTENSIONS for ext in extensions(name)[-1:]):
            self.problem("archive-nested", name)
        if compressed is not None:
            self.compressed += compressed
            if size >= limits.archive_ratio_min_bytes:
                ratio = size / max(compressed, 1)
                if ratio > self.worst_ratio[0]:
                    self.worst_ratio = (ratio, name)

    def measured(self, name: str, declared: int, size: int, compressed: int, limits: Limits) -> None:
        """An entry's inflated size replaces the size its headers declared (added with the metadata)."""
        self.total += size - declared
        if size != declared:
            self.problem("archive-size-mismatch", name)
        if size >= limits.archive_ratio_min_bytes and size / max(compressed, 1) > self.worst_ratio[0]:
            self.worst_ratio = (size / max(compressed, 1), name)

    def peeked(self, name: str, head: bytes) -> None:
        if detect(head) in _NESTED_TYPES and name not in self.problems.get("archive-nested", []):
            self.problem("archive-nested", name)

    def report(self, findings: Findings, limits: Limits, archive_size: int) -> None:
        if self.count > limits.archive_max_entries:
            findings.quarantine("archive-too-many-entries", f"{self.count} entries, limit {limits.archive_max_entries}")
        if self.total > limits.archive_max_total_bytes:
            findings.quarantine("archive-too-large",
                                f"{self.total} bytes uncompressed, limit {limits.archive_max_total_bytes}")
        overall = self.total / max(archive_size, 1)
        if self.total >= limits.archive_ratio_min_bytes and overall > limits.archive_max_ratio:
            findings.quarantine("archive-ratio", f"{self.total} bytes from {archive_size} (ratio {overall:.0f})")
        elif self.worst_ratio[0] > limits.archive_max_ratio:
            findings.quarantine("archive-ratio", f"entry {self.worst_ratio[1]!r} has ratio {self.worst_ratio[0]:.0f}")
        for code, names in self.problems.items():
            shown = ", ".join(repr(name) for name in names[:3])
            findings.quarantine(code, f"{len(names)} entr{'y' if len(names) == 1 else 'ies'}: {shown}")

    def fields(self, archive_format: str, archive_size: int) -> dict[str, Any]:
        return {
            "archiveFormat": archive_format, "entries": self.count, "uncompressedSize": self.total,
            "compressionRatio": round(self.total / max(archive_size, 1), 2),
        }


def inspect_archive(path: Path, detected: str, findings: Findings, limits: Limits, deadline: Deadline) -> Inspection:
    size = path.stat().st_size
    entries = _Entries()
    inspection = Inspection()
    archive_format = detected
    try:
        if detected == "zip":
            _inspect_zip(path, entries, findings, limits, deadline)
        elif detected == "tar":
            with path.open("rb") as raw:
                _inspect_tar(_Bounded(raw, limits.archive_max_total_bytes, deadline), entries, limits, deadline)
        else:
            archive_format = _inspect_gzip(path, entries, limits, deadline)
    except ArchiveLimit as error:
        findings.quarantine("archive-too-large", str(error))
    except Exception as error:  # noqa: BLE001 - corrupt archives are a verdict, not a crash
        findings.quarantine("archive-unreadable", f"{type(error).__name__}: {error}"[:300])
    entries.report(findings, limits, size)
    inspection.fields.update(entries.fields(archive_format, size))
    inspection.metadata["entryNames"] = entries.names
    return inspection


def _inspect_zip(path: Path, entries: _Entries, findings: Findings, limits: Limits, deadline: Deadline) -> None:
    with path.open("rb") as handle:
        declared = declared_zip_entries(handle)
        if declared is not None and declared > limits.archive_max_entries:
            # Parsing a huge central directory is itself the attack (memory): count it and stop.
            entries.count = declared
            return
        with zipfile.ZipFile(handle) as archive:
            infos = archive.infolist()
            overlapping = _overlapping(handle, infos, getattr(archive, "start_dir", None))
            if overlapping:
                findings.quarantine("archive-overlapping-entries", overlapping)
            for info in infos:
                entries.add(info.filename, info.file_size, info.compress_size, limits)
                mode = info.external_attr >> 16
                if info.create_system == 3 and stat.S_ISLNK(mode):
                    entries.problem("archive-link", info.filename)
                elif info.create_system == 3 and (stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISFIFO(mode)):
                    entries.problem("archive-special-file", info.filename)
                if info.flag_bits & 0x1:
                    entries.problem("archive-encrypted", info.filename)  # content hidden from inspection
            if overlapping:
                return  # reading entries of a bomb is what it wants
            inflated = _Inflated(limits.archive_max_total_bytes, deadline)
            for info in infos:
                if info.is_dir() or info.flag_bits & 0x1:
                    continue
                size, compressed, head = _measure(handle, archive, info, inflated)
                entries.measured(info.filename, info.file_size, size, compressed, limits)
                if head:
                    entries.peeked(info.filename, head)


def declared_zip_entries(handle: IO[bytes]) -> Optional[int]:
    """The entry count the end-of-central-directory record declares (zip64 aware), before parsing it."""
    handle.seek(0, io.SEEK_END)
    size = handle.tell()
    start = max(0, size - (_EOCD.size + 0xFFFF))
    handle.seek(start)
    tail = handle.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + _EOCD.size > len(tail):
        return None
    count = _EOCD.unpack_from(tail, at)[4]
    if count != 0xFFFF or at < _ZIP64_LOCATOR.size:
        return int(count)
    signature, _, zip64_offset, _ = _ZIP64_LOCATOR.unpack_from(tail, at - _ZIP64_LOCATOR.size)
    if signature != b"PK\x06\x07":
        return int(count)
    handle.seek(zip64_offset)
    record = handle.read(_ZIP64_EOCD.size)
    if len(record) < _ZIP64_EOCD.size or record[:4] != b"PK\x06\x06":
        return None
    return int(_ZIP64_EOCD.unpack(record)[7])  # entries in total (index 6 counts this disk only)


class _Inflated:
    """The bytes inflated from every entry of one archive together, against the total size limit."""

    def __init__(self, limit: int, deadline: Deadline) -> None:
        self._limit, self._deadline = limit, deadline
        self.count = 0

    def add(self, size: int) -> None:
        self.count += size
        if self.count > self._limit:
            raise ArchiveLimit(f"more than {self._limit} bytes after decompression")
        self._deadline.check()


def _measure(
    handle: IO[bytes], archive: zipfile.ZipFile, info: zipfile.ZipInfo, inflated: _Inflated,
) -> tuple[int, int, bytes]:
    """(inflated size, compressed bytes it came from, its first bytes) of one zip entry, from its data.

    A deflated entry is inflated from the start of its data until the deflate stream ends, whatever the
    headers say its sizes are (the stream marks its own end, so a header that understates the sizes cannot
    hide bytes an extractor that follows the stream would write). Stored data is its declared compressed
    size; other methods are read through zipfile, which stops at the declared size and fails on the CRC."""
    handle.seek(info.header_offset + 26)
    name_length, extra_length = struct.unpack("<HH", handle.read(4))
    start = info.header_offset + 30 + name_length + extra_length
    handle.seek(start)
    if info.compress_type == zipfile.ZIP_DEFLATED:
        end = getattr(archive, "start_dir", None)  # an entry's data lies before the central directory
        return _inflate(handle, inflated, None if end is None else end - start)
    if info.compress_type == zipfile.ZIP_STORED:
        inflated.add(info.compress_size)
        return info.compress_size, info.compress_size, handle.read(min(_PEEK, info.compress_size))
    size, head = 0, b""
    with archive.open(info) as member:
        while chunk := member.read(1 << 20):
            head += chunk[:_PEEK - len(head)]
            size += len(chunk)
            inflated.add(len(chunk))
    return size, info.compress_size, head


def _inflate(handle: IO[bytes], inflated: _Inflated, available: Optional[int]) -> tuple[int, int, bytes]:
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)  # raw deflate, as zip stores it
    size = consumed = read = 0
    head = b""
    while not inflater.eof:
        chunk = handle.read(1 << 16 if available is None else min(1 << 16, available - read))
        read += len(chunk)
        if not chunk:
            raise zipfile.BadZipFile("a deflate stream runs into the central directory or past the archive's end")
        data = chunk
        while data and not inflater.eof:
            out = inflater.decompress(data, 1 << 20)  # bounded output: the input may be a bomb
            head += out[:_PEEK - len(head)]
            size += len(out)
            inflated.add(len(out))
            data = inflater.unconsumed_tail
        consumed += len(chunk) - len(inflater.unused_data) - len(data)
    return size, consumed, head


def _overlapping(handle: IO[bytes], infos: list[zipfile.ZipInfo], central_directory: Optional[int]) -> str:
    """Entries whose local header + data share bytes (or run into the central directory).

    A well-formed zip lays entries end to end; a bomb makes many central-directory entries point
    into the same compressed bytes, so a small file extracts to terabytes without any nesting.
    """
    spans: list[tuple[int, int, str]] = []
    for info in infos:
        handle.seek(info.header_offset)
        header = handle.read(30)
        if len(header) < 30 or header[:4] != b"PK\x03\x04":
            return f"entry {info.filename!r} has no local header at offset {info.header_offset}"
        name_length, extra_length = struct.unpack("<HH", header[26:30])
        end = info.header_offset + 30 + name_length + extra_length + info.compress_size
        spans.append((info.header_offset, end, info.filename))
    spans.sort()
    for (start, end, name), (next_start, _, next_name) in zip(spans, spans[1:]):
        if next_start < end:
            return f"entries {name!r} and {next_name!r} overlap at offset {next_start}"
    if spans and central_directory is not None and spans[-1][1] > central_directory:
        return f"entry {spans[-1][2]!r} runs into the central directory"
    return ""


class _Bounded(io.RawIOBase):
    """A reader that fails once more than `limit` bytes came through it (gzip output, tar input)."""

    def __init__(self, inner: _Readable, limit: int, deadline: Deadline) -> None:
        super().__init__()
        self._inner, self._limit, self._deadline = inner, limit, deadline
        self.count = 0

    def readable(self) -> bool:
        return True

    def read(self, size: Optional[int] = -1) -> bytes:
        wanted = 1 << 20 if size is None or size < 0 else min(size, 1 << 20)
        data = self._inner.read(wanted)
        self.count += len(data)
        if self.count > self._limit:
            raise ArchiveLimit(f"more than {self._limit} bytes after decompression")
        self._deadline.check()
        return data


def _inspect_tar(stream: _Readable, entries: _Entries, limits: Limits, deadline: Deadline) -> None:
    # Stream mode ("r|") reads headers in order and never seeks: nothing is extracted or buffered whole.
    with tarfile.open(fileobj=cast(IO[bytes], stream), mode="r|") as archive:
        for member in archive:
            deadline.check()
            entries.add(member.name, member.size, None, limits)
            if member.issym() or member.islnk():
                entries.problem("archive-link", member.name)
            elif member.ischr() or member.isblk() or member.isfifo():
                entries.problem("archive-special-file", member.name)
            if entries.count > limits.archive_max_entries:
                break  # reported as too many entries; reading on is only more work
            if member.isfile() and member.size:
                extracted = archive.extractfile(member)
                if extracted is not None:
                    entries.peeked(member.name, extracted.read(_PEEK))


def _inspect_gzip(path: Path, entries: _Entries, limits: Limits, deadline: Deadline) -> str:
    with gzip.open(path, "rb") as first:
        head = first.read(_PEEK)
    with path.open("rb") as raw, gzip.GzipFile(fileobj=raw) as inflated:
        bounded = _Bounded(inflated, limits.archive_max_total_bytes, deadline)
        if detect(head) == "tar":
            _inspect_tar(bounded, entries, limits, deadline)
            entries.total = max(entries.total, bounded.count)
            return "tar+gzip"
        while bounded.read(1 << 20):
            pass
        name = "(gzip member)"
        entries.add(name, bounded.count, None, limits)
        entries.peeked(name, head)
        return "gzip"
