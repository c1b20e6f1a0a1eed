"""The one pass over the object's bytes: SHA-256, size, the leading bytes, and a spooled copy if needed.

This is the per-byte hot path (the benchmark measures it against bare hashlib): per chunk it hashes,
looks for a NUL byte until it has seen one (memchr speed) and, only for types whose parsers need
random access, writes the chunk to a temporary file. Everything else looks at the prefix only.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Callable, Iterable, Optional

# Decides, from the prefix, where to copy the bytes for random access (None: no copy needed).
SpoolChooser = Callable[[bytes], Optional[IO[bytes]]]


@dataclass
class Scanned:
    size: int                 # bytes read (stops just past max_bytes)
    sha256: Optional[str]     # hex; None when reading stopped at the size limit
    prefix: bytes             # the first `prefix_bytes` bytes
    over_limit: bool
    nul_seen: bool            # any NUL byte anywhere (text must have none)
    spooled: Optional[Path] = None


def scan(
    chunks: Iterable[bytes], *, max_bytes: int, prefix_bytes: int, spool: Optional[SpoolChooser] = None
) -> Scanned:
    digest = hashlib.sha256()
    size = 0
    prefix = bytearray()
    nul_seen = False
    held: list[bytes] = []  # chunks read before the prefix was complete, until the spool is chosen
    target: Optional[IO[bytes]] = None
    chosen = spool is None
    for chunk in chunks:
        size += len(chunk)
        if size > max_bytes:
            return Scanned(size, None, bytes(prefix), True, nul_seen, _name(target))
        digest.update(chunk)
        if not nul_seen and b"\x00" in chunk:
            nul_seen = True
        if len(prefix) < prefix_bytes:
            prefix += chunk[: prefix_bytes - len(prefix)]
        if target is not None:
            target.write(chunk)
        elif not chosen:
            held.append(chunk)
            if len(prefix) >= prefix_bytes:
                target, chosen = _choose(spool, prefix, held), True
                held = []
    if not chosen:
        target = _choose(spool, prefix, held)
    if target is not None:
        target.flush()
    return Scanned(size, digest.hexdigest(), bytes(prefix), False, nul_seen, _name(target))


def _choose(spool: Optional[SpoolChooser], prefix: bytearray, held: list[bytes]) -> Optional[IO[bytes]]:
    target = spool(bytes(prefix)) if spool is not None else None
    if target is not None:
        for chunk in held:
            target.write(chunk)
    return target


def _name(target: Optional[IO[bytes]]) -> Optional[Path]:
    return Path(target.name) if target is not None else None
