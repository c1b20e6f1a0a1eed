"""Archive checks count the bytes an entry actually inflates to, never the sizes its headers declare
(issue 12 item 11): crafted zips whose local header and central directory lie about an entry's sizes."""
from __future__ import annotations

import io
import struct
import zipfile
import zlib

import pytest

from tests.unit.test_fargate_processor import Limits, MiB, quarantined, run, zip_bytes  # puts fargate/ on the path


def deflated(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


def crafted_zip(
    name: str, stored: bytes, method: int, crc: int, declared_compressed: int, declared_size: int,
) -> bytes:
    """One entry whose local header and central directory both declare the given sizes, whatever `stored` is."""
    raw = name.encode()
    local = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, method, 0, 0, crc, declared_compressed, declared_size,
                        len(raw), 0) + raw
    central = struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, method, 0, 0, crc, declared_compressed,
                          declared_size, len(raw), 0, 0, 0, 0, 0, 0) + raw
    body = local + stored
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 1, 1, len(central), len(body), 0)
    return body + central + end


def lying_bomb(real_size: int, declared_size: int = 100, declare_compressed: bool = True) -> bytes:
    """Zeros that inflate to `real_size`, declared as `declared_size` (and, unless `declare_compressed`, with a
    compressed size of 10 bytes too, so zipfile would stop reading the stream early)."""
    payload = bytes(real_size)
    stream = deflated(payload)
    compressed = len(stream) if declare_compressed else 10
    return crafted_zip("notes.txt", stream, zipfile.ZIP_DEFLATED, zlib.crc32(payload[:declared_size]), compressed,
                       declared_size)


def test_the_crafted_zip_is_one_zipfile_reads_as_small():
    """The premise: trusting the headers, this is a 100-byte text file."""
    with zipfile.ZipFile(io.BytesIO(lying_bomb(50 * MiB))) as archive:
        [info] = archive.infolist()
        assert info.file_size == 100 and archive.open(info).read(1000) == bytes(100)


@pytest.mark.parametrize("declare_compressed", [True, False], ids=["true-compressed-size", "understated-both"])
def test_a_zip_whose_headers_understate_the_size_is_measured_by_what_it_inflates_to(declare_compressed):
    data = lying_bomb(50 * MiB, declare_compressed=declare_compressed)
    outcome = run(data, "bundle.zip", "application/zip")
    quarantined(outcome, "archive-size-mismatch")
    quarantined(outcome, "archive-ratio")
    assert outcome.result["uncompressedSize"] == 50 * MiB


def test_inflating_stops_at_the_total_size_limit_whatever_the_headers_declare():
    outcome = run(lying_bomb(50 * MiB), "bundle.zip", "application/zip", Limits(archive_max_total_bytes=10 * MiB))
    quarantined(outcome, "archive-too-large")
    assert "after decompression" in " ".join(outcome.result["reasons"])


def test_a_zip_declaring_more_than_it_holds_is_a_mismatch_not_a_size():
    payload = b"statement of claim\n" * 10
    stream = deflated(payload)
    # 4 GiB, the most a plain zip header can declare.
    data = crafted_zip("claim.txt", stream, zipfile.ZIP_DEFLATED, zlib.crc32(payload), len(stream), 0xFFFF_FFFE)
    outcome = run(data, "bundle.zip", "application/zip")
    quarantined(outcome, "archive-size-mismatch")
    assert "archive-too-large" not in outcome.codes and outcome.result["uncompressedSize"] == len(payload)


def test_a_stored_entry_whose_sizes_disagree_is_a_mismatch():
    payload = b"x" * 200
    outcome = run(crafted_zip("a.txt", payload, zipfile.ZIP_STORED, zlib.crc32(payload), 200, 20), "bundle.zip",
                  "application/zip")
    quarantined(outcome, "archive-size-mismatch")


def test_an_entry_hidden_behind_an_understated_size_is_still_peeked_at():
    """The first bytes come from the stream too: a nested archive cannot hide behind a short declared size."""
    inner = zip_bytes({"deeper.txt": b"x" * 1000})
    data = crafted_zip("data.bin", deflated(inner), zipfile.ZIP_DEFLATED, 0, len(deflated(inner)), 2)
    quarantined(run(data, "bundle.zip", "application/zip"), "archive-nested")


def test_a_deflate_stream_running_past_the_archive_is_unreadable():
    stream = deflated(bytes(MiB))[:-20]  # cut: the stream never ends
    data = crafted_zip("a.txt", stream, zipfile.ZIP_DEFLATED, 0, len(stream), MiB)
    quarantined(run(data, "bundle.zip", "application/zip"), "archive-unreadable")


def test_an_honest_zip_measures_what_it_declares():
    outcome = run(zip_bytes({"a.txt": b"alpha" * 100, "b.txt": b""}), "bundle.zip", "application/zip")
    assert outcome.status == "READY", outcome.result["reasons"]
    assert outcome.result["uncompressedSize"] == 500
