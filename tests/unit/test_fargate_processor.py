"""The document processor (fargate/processor) against the issue's bad-input list, with no network.

Every fixture is generated here: PDFs by hand and with pypdf's writer, images with Pillow or byte by
byte, archives with zipfile/tarfile or byte by byte. Bytes go through `BytesSource`, which has no
local path, so the pipeline streams and spools exactly as it does for an S3 object.
"""
from __future__ import annotations

import base64
import hashlib
import io
import json
import stat
import struct
import sys
import tarfile
import threading
import zipfile
import zlib
from pathlib import Path
from typing import Any, Literal, Optional

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "fargate"))

from processor.config import ConfigError, Job, Limits  # noqa: E402
from processor.deadline import Deadline, TimeLimitExceeded, time_limit  # noqa: E402
from processor.detect import detect  # noqa: E402
from processor.names import extensions, filename_flags  # noqa: E402
from processor.pipeline import process  # noqa: E402
from processor.sink import MemoryArtifacts, MemorySink  # noqa: E402
from processor.source import BytesSource, LocalFileSource  # noqa: E402
from processor.stream import scan  # noqa: E402

MiB = 1 << 20


# ---------------------------------------------------------------- fixtures: bytes

def pdf_bytes(pages: list[tuple[bytes, bytes]]) -> bytes:
    """A PDF written by hand: one (stream dictionary extras, raw stream bytes) per page."""
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    }
    kids = []
    for index, (extras, data) in enumerate(pages):
        page, content = 4 + 2 * index, 5 + 2 * index
        kids.append(b"%d 0 R" % page)
        objects[page] = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
                         b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % content)
        objects[content] = b"<< /Length %d%s >>\nstream\n" % (len(data), extras) + data + b"\nendstream"
    objects[2] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(kids), len(pages))
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + objects[number] + b"\nendobj\n"
    xref, size = len(out), max(objects) + 1
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    out += b"".join(b"%010d 00000 n \n" % offsets[number] for number in range(1, size))
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref)
    return bytes(out)


def text_page(text: str) -> tuple[bytes, bytes]:
    return b"", b"BT /F1 12 Tf 72 720 Td (%s) Tj ET" % text.encode("latin-1")


def zeros_deflate(mebibytes: int) -> bytes:
    """A zlib stream that inflates to `mebibytes` MiB of zeros, built in milliseconds.

    After a full flush the compressor's output for another MiB of zeros is always the same ~1 KB,
    so the segment is repeated instead of compressed again. The stream has no end (no adler32): a
    reader that stops at its limit never gets there, and one that does not is the bug under test.
    """
    compressor = zlib.compressobj(9)
    block = bytes(MiB)
    first = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    segment = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    return first + segment * (mebibytes - 1)


def pypdf_pdf(pages: int = 1, password: Optional[str] = None, owner_only: bool = False) -> bytes:
    from pypdf import PdfReader, PdfWriter

    plain = pdf_bytes([text_page(f"Page {i + 1} of the claim") for i in range(pages)])
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(plain)))
    if password is not None or owner_only:
        writer.encrypt(user_password="" if owner_only else (password or ""), owner_password="owner-secret",
                       algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def png_bytes(size: tuple[int, int] = (640, 480), fmt: str = "PNG") -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format=fmt)
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height; the pixel data is a few bytes (a decompression bomb)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    pixels = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def zip_bytes(entries: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


def _local_header(name: bytes, data: bytes) -> bytes:
    return struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 0, 0, 0, zlib.crc32(data), len(data), len(data),
                       len(name), 0) + name


def _central_entry(name: bytes, data: bytes, offset: int) -> bytes:
    return struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 0, 0, 0, zlib.crc32(data), len(data), len(data),
                       len(name), 0, 0, 0, 0, 0, offset) + name


def _end_record(entries: int, directory: bytes, offset: int) -> bytes:
    return struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, entries, entries, len(directory), offset, 0)


def zip_same_offset() -> bytes:
    """Two central-directory entries that point at one local header: one stored payload, two files."""
    data = b"A" * 1000
    body = _local_header(b"a.txt", data) + data
    directory = _central_entry(b"a.txt", data, 0) + _central_entry(b"b.txt", data, 0)
    return body + directory + _end_record(2, directory, len(body))


def zip_overlapping() -> bytes:
    """Fifield's overlap: entry a's stored data *contains* entry b's local header and data."""
    inner_data = b"B" * 500
    inner = _local_header(b"b.txt", inner_data) + inner_data
    body = _local_header(b"a.txt", inner) + inner
    directory = _central_entry(b"a.txt", inner, 0) + _central_entry(b"b.txt", inner_data, 30 + len(b"a.txt"))
    return body + directory + _end_record(2, directory, len(body))


def zip_symlink() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        info = zipfile.ZipInfo("evidence/link")
        info.create_system = 3
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(info, "/etc/passwd")
        archive.writestr("evidence/readme.txt", "hello")
    return out.getvalue()


def zip_encrypted() -> bytes:
    """zipfile cannot encrypt: set the 'encrypted' flag bit in the local header and the directory entry."""
    data = bytearray(zip_bytes({"secret.txt": b"hidden" * 10}, zipfile.ZIP_STORED))
    data[6] |= 0x1
    directory = data.find(b"PK\x01\x02")
    data[directory + 8] |= 0x1
    return bytes(data)


@pytest.fixture(scope="module")
def zip_bomb() -> bytes:
    """200 MiB of zeros deflated into ~200 KB (ratio ~1000); written in 1 MiB pieces, ~1 s."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        with archive.open("zeros.bin", "w") as member:
            block = bytes(MiB)
            for _ in range(200):
                member.write(block)
    return out.getvalue()


def tar_bytes(members: list[tarfile.TarInfo], data: dict[str, bytes], mode: Literal["w", "w:gz"] = "w") -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode=mode) as archive:
        for member in members:
            payload = data.get(member.name)
            if payload is not None:
                member.size = len(payload)
            archive.addfile(member, io.BytesIO(payload) if payload is not None else None)
    return out.getvalue()


def tar_member(name: str, kind: bytes = tarfile.REGTYPE, linkname: str = "") -> tarfile.TarInfo:
    member = tarfile.TarInfo(name)
    member.type = kind
    member.linkname = linkname
    return member


PE_EXECUTABLE = (b"MZ\x90\x00" + b"\x00" * 56 + struct.pack("<I", 0x80) + b"\x00" * 64
                 + b"PE\x00\x00" + b"\x4c\x01" + b"\x00" * 400)
ELF_EXECUTABLE = b"\x7fELF\x02\x01\x01" + b"\x00" * 500


# ---------------------------------------------------------------- running the pipeline

class Run:
    def __init__(self, result: dict[str, Any], artifacts: MemoryArtifacts, sink: MemorySink) -> None:
        self.result, self.artifacts, self.sink = result, artifacts, sink

    @property
    def status(self) -> str:
        return self.result["status"]

    @property
    def codes(self) -> list[str]:
        return self.result["reasonCodes"]

    def file(self, name: str) -> bytes:
        return self.artifacts.files[self.artifacts.prefix + name][0]


def run(data: bytes, filename: str, content_type: str, limits: Limits = Limits(), sha256: Optional[str] = None,
        chunk: int = 64 * 1024) -> Run:
    job = Job(bucket="evidence", key="uploads/c-1/d-1", version_id="v1", case_id="c-1", document_id="d-1",
              declared_content_type=content_type, declared_filename=filename, expected_sha256=sha256)
    artifacts, sink = MemoryArtifacts(job.derived_prefix), MemorySink()
    result = process(job, BytesSource(data, chunk), artifacts, sink, limits)
    assert sink.results == [json.loads(json.dumps(result))]  # what was returned is what was stored
    return Run(result, artifacts, sink)


def quarantined(outcome: Run, code: str) -> None:
    assert outcome.status == "QUARANTINED", outcome.result
    assert code in outcome.codes, outcome.result["reasons"]
    assert all(reason.split(": ", 1)[1] for reason in outcome.result["reasons"])  # each has a detail
    assert "text.txt" not in str(outcome.artifacts.files) and "thumbnail.png" not in str(outcome.artifacts.files)


# ---------------------------------------------------------------- good input

def test_a_pdf_is_ready_with_pages_text_hash_and_derived_files():
    data = pdf_bytes([text_page("Claim 42: water damage"), text_page("Signed by the customer")])
    outcome = run(data, "claim.pdf", "application/pdf")
    assert outcome.status == "READY", outcome.result["reasons"]
    assert outcome.result["sha256"] == hashlib.sha256(data).hexdigest()
    assert outcome.result["size"] == len(data)
    assert outcome.result["detectedType"] == "pdf" and outcome.result["pages"] == 2
    assert "Claim 42: water damage" in outcome.result["text"] and "Signed by the customer" in outcome.result["text"]
    assert b"water damage" in outcome.file("text.txt")
    metadata = json.loads(outcome.file("metadata.json"))
    assert metadata["sha256"] == outcome.result["sha256"] and "text" not in metadata
    assert outcome.result["artifacts"] == {
        "text": "derived/c-1/d-1/v1/text.txt", "metadata": "derived/c-1/d-1/v1/metadata.json"}
    # The API's document record reads the structured part under "metadata" (it has no room for text).
    assert outcome.result["metadata"]["pages"] == 2 and outcome.result["metadata"]["detectedType"] == "pdf"
    assert "text" not in outcome.result["metadata"]


def test_a_pdf_written_by_pypdf_is_read_the_same_way():
    outcome = run(pypdf_pdf(pages=3), "claim.pdf", "application/pdf; charset=binary")
    assert outcome.status == "READY" and outcome.result["pages"] == 3
    assert "Page 3 of the claim" in outcome.result["text"]


def test_an_image_is_ready_with_dimensions_and_a_256px_png_thumbnail():
    from PIL import Image

    outcome = run(png_bytes((1024, 512)), "photo.png", "image/png")
    assert outcome.status == "READY", outcome.result["reasons"]
    assert (outcome.result["width"], outcome.result["height"]) == (1024, 512)
    thumbnail = Image.open(io.BytesIO(outcome.file("thumbnail.png")))
    assert thumbnail.format == "PNG" and max(thumbnail.size) == 256


def test_a_jpeg_is_ready_too():
    outcome = run(png_bytes((300, 200), "JPEG"), "photo.JPG", "image/jpeg")
    assert outcome.status == "READY" and outcome.result["detectedType"] == "jpeg"


def test_a_plain_zip_is_ready_with_its_entry_count_and_sizes():
    outcome = run(zip_bytes({"a.txt": b"alpha" * 100, "dir/b.csv": b"1,2,3\n" * 100}), "bundle.zip", "application/zip")
    assert outcome.status == "READY", outcome.result["reasons"]
    assert outcome.result["entries"] == 2 and outcome.result["uncompressedSize"] == 1100


def test_an_office_document_is_a_zip_that_may_be_declared_as_such():
    docx = zip_bytes({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})
    mime = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert run(docx, "statement.docx", mime).status == "READY"


def test_a_tar_gz_is_listed_through_a_bounded_decompressor():
    data = tar_bytes([tar_member("notes/a.txt"), tar_member("notes/b.txt")],
                     {"notes/a.txt": b"a" * 100, "notes/b.txt": b"b" * 100}, "w:gz")
    outcome = run(data, "notes.tgz", "application/gzip")
    assert outcome.status == "READY", outcome.result["reasons"]
    assert outcome.result["archiveFormat"] == "tar+gzip" and outcome.result["entries"] == 2


def test_plain_text_is_ready_and_its_text_kept():
    outcome = run("Témoin: the car was blue.\n".encode() * 3, "statement.txt", "text/plain")
    assert outcome.status == "READY" and outcome.result["text"].startswith("Témoin")


def test_a_declared_sha256_that_matches_in_hex_or_base64_passes():
    data = pdf_bytes([text_page("ok")])
    digest = hashlib.sha256(data)
    assert run(data, "a.pdf", "application/pdf", sha256=digest.hexdigest().upper()).status == "READY"
    assert run(data, "a.pdf", "application/pdf", sha256=base64.b64encode(digest.digest()).decode()).status == "READY"


# ---------------------------------------------------------------- the bad input

def test_an_empty_file_is_quarantined():
    quarantined(run(b"", "empty.pdf", "application/pdf"), "empty")


def test_a_declared_sha256_that_does_not_match_is_quarantined():
    data = pdf_bytes([text_page("ok")])
    outcome = run(data, "a.pdf", "application/pdf", sha256=hashlib.sha256(b"something else").hexdigest())
    quarantined(outcome, "sha256-mismatch")
    assert outcome.result["sha256"] == hashlib.sha256(data).hexdigest()  # the real hash is still reported


def test_a_declared_sha256_that_is_not_a_sha256_is_quarantined():
    quarantined(run(b"hello", "a.txt", "text/plain", sha256="not-a-hash"), "sha256-invalid")


def test_an_object_over_max_bytes_is_quarantined_without_reading_it_all():
    chunks_read = []

    class Streaming(BytesSource):
        def open(self):  # no content length up front, as with a chunked transfer
            opened = super().open()
            opened.content_length = None

            def counted():
                for chunk in BytesSource.open(self).chunks:
                    chunks_read.append(len(chunk))
                    yield chunk
            opened.chunks = counted()
            return opened

    job = Job("b", "k", "v1", "c-1", "d-1", "text/plain", "big.txt")
    result = process(job, Streaming(b"x" * 10_000, 1000), MemoryArtifacts(), MemorySink(), Limits(max_bytes=2500))
    assert result["status"] == "QUARANTINED" and result["reasonCodes"] == ["too-large"]
    assert sum(chunks_read) == 3000  # stopped at the first chunk past the limit
    # With a content length the object is refused before a byte is read.
    outcome = run(b"x" * 10_000, "big.txt", "text/plain", Limits(max_bytes=2500))
    quarantined(outcome, "too-large")
    assert outcome.result["sha256"] is None


@pytest.mark.parametrize("payload", [PE_EXECUTABLE, ELF_EXECUTABLE], ids=["windows-pe", "linux-elf"])
def test_an_executable_named_report_pdf_is_quarantined(payload):
    outcome = run(payload, "report.pdf", "application/pdf")
    quarantined(outcome, "executable-content")
    assert {"content-type-mismatch", "extension-mismatch"} <= set(outcome.codes)


def test_report_pdf_exe_is_quarantined_even_when_the_bytes_are_a_pdf():
    outcome = run(pdf_bytes([text_page("hi")]), "report.pdf.exe", "application/pdf")
    quarantined(outcome, "executable-extension")
    assert ".exe" in outcome.result["reasons"][0]


def test_a_right_to_left_override_cannot_hide_an_exe_extension():
    # Displays as "invoiceexe.pdf"; the extension Windows acts on is .exe.
    outcome = run(pdf_bytes([text_page("hi")]), "invoice\u202efdp.exe", "application/pdf")
    quarantined(outcome, "executable-extension")
    assert "filename-bidi-control" in outcome.result["flags"]


def test_a_pdf_with_a_zip_appended_is_a_polyglot():
    data = pdf_bytes([text_page("looks fine")]) + zip_bytes({"payload.js": b"alert(1)"})
    quarantined(run(data, "claim.pdf", "application/pdf"), "polyglot")


def test_a_zip_with_a_pdf_header_at_its_start_is_a_polyglot():
    data = b"%PDF-1.7\n" + zip_bytes({"payload.txt": b"x" * 100})
    quarantined(run(data, "claim.pdf", "application/pdf"), "polyglot")


def test_a_zip_with_a_pdf_header_in_its_first_kilobyte_is_a_polyglot():
    data = zip_bytes({"a.pdf": pdf_bytes([text_page("x")])}, zipfile.ZIP_STORED)
    assert data.startswith(b"PK") and b"%PDF-" in data[:1024]
    quarantined(run(data, "bundle.zip", "application/zip"), "polyglot")


def test_an_image_with_a_zip_appended_is_a_polyglot():
    quarantined(run(png_bytes() + zip_bytes({"a.class": b"\xca\xfe"}), "photo.png", "image/png"), "polyglot")


def test_a_content_type_other_than_the_bytes_is_quarantined():
    quarantined(run(png_bytes(), "photo.png", "image/jpeg"), "content-type-mismatch")
    quarantined(run(png_bytes(), "photo.png", "application/x-unknown"), "content-type-mismatch")


def test_an_extension_other_than_the_bytes_is_quarantined():
    quarantined(run(png_bytes(), "photo.jpg", "image/png"), "extension-mismatch")


def test_bytes_of_no_supported_type_are_quarantined():
    quarantined(run(bytes(range(256)) * 8, "data.bin", "application/octet-stream"), "unsupported-type")
    quarantined(run(b"7z\xbc\xaf\x27\x1c" + bytes(100), "a.7z", ""), "unsupported-type")


def test_a_text_head_with_binary_bytes_later_is_quarantined():
    data = b"plain words\n" * 20_000 + b"\x00\x01\x02" + b"more"
    quarantined(run(data, "notes.txt", "text/plain"), "text-binary-content")


@pytest.mark.parametrize(("name", "flag"), [
    ("evil\x00.pdf", "filename-nul"),
    ("inv\u202eoice.pdf", "filename-bidi-control"),
    ("a\r\nContent-Type: text/html.pdf", "filename-crlf"),
    ("../../etc/claim.pdf", "filename-path-traversal"),
    ("/etc/claim.pdf", "filename-absolute-path"),
    ("C:\\claim.pdf", "filename-absolute-path"),
    ("é" * 200 + ".pdf", "filename-too-long"),
])
def test_unsafe_file_names_are_flagged_in_the_result(name, flag):
    outcome = run(pdf_bytes([text_page("fine")]), name, "application/pdf")
    assert flag in outcome.result["flags"]
    assert outcome.status == "READY"  # the bytes are a fine PDF; the API stores a sanitised name
    assert outcome.result["declaredFilename"] == name  # reported as sent (JSON escapes what needs it)


def test_a_flate_stream_inflating_to_gigabytes_is_stopped_at_the_limit():
    bomb = zeros_deflate(2048)  # 2 GiB of zeros in ~2 MB
    assert len(bomb) < 3 * MiB
    data = pdf_bytes([text_page("cover"), (b" /Filter /FlateDecode", bomb)])
    outcome = run(data, "claim.pdf", "application/pdf")  # default limits: 64 MiB a stream, 256 MiB in all
    quarantined(outcome, "pdf-decompression-limit")
    assert outcome.result["durationMs"] < 10_000


def test_the_whole_documents_inflated_bytes_are_bounded_not_only_each_stream():
    pages = [(b" /Filter /FlateDecode", zeros_deflate(3)) for _ in range(4)]  # 4 x 3 MiB
    limits = Limits(pdf_max_stream_bytes=4 * MiB, pdf_max_inflated_bytes=10 * MiB)
    outcome = run(pdf_bytes(pages), "claim.pdf", "application/pdf", limits)
    quarantined(outcome, "pdf-decompression-limit")
    assert "FlateDecode" in outcome.result["reasons"][0]  # our incremental check, not a parser failure


def test_an_image_decompression_bomb_is_quarantined():
    quarantined(run(png_claiming(100_000, 100_000), "photo.png", "image/png"), "image-decompression-bomb")


def test_an_image_between_one_and_two_times_the_pixel_limit_is_a_bomb_too():
    # Pillow only warns in this band; the processor treats the warning as the error it is.
    outcome = run(png_claiming(9_000, 9_000), "photo.png", "image/png")  # 81 MP > 50 MP
    quarantined(outcome, "image-decompression-bomb")


def test_a_truncated_image_is_quarantined_as_unreadable():
    quarantined(run(png_bytes()[:200], "photo.png", "image/png"), "image-unreadable")


def test_a_zip_bomb_is_quarantined_by_its_ratio(zip_bomb):
    assert len(zip_bomb) < 400_000
    outcome = run(zip_bomb, "bundle.zip", "application/zip")
    quarantined(outcome, "archive-ratio")
    assert outcome.result["uncompressedSize"] == 200 * MiB


def test_a_zip_declaring_more_than_the_total_size_limit_is_quarantined(zip_bomb):
    outcome = run(zip_bomb, "bundle.zip", "application/zip", Limits(archive_max_total_bytes=100 * MiB))
    quarantined(outcome, "archive-too-large")


@pytest.mark.parametrize("data", [zip_same_offset(), zip_overlapping()], ids=["same-offset", "overlapping-ranges"])
def test_an_overlapping_entry_zip_is_quarantined(data):
    with zipfile.ZipFile(io.BytesIO(data)) as archive:  # a valid zip as far as zipfile is concerned
        assert len(archive.infolist()) == 2
    quarantined(run(data, "bundle.zip", "application/zip"), "archive-overlapping-entries")


def test_zip_entries_with_parent_paths_are_quarantined():
    outcome = run(zip_bytes({"ok.txt": b"x", "../../etc/cron.d/evil": b"x"}), "bundle.zip", "application/zip")
    quarantined(outcome, "archive-path-traversal")
    assert "../../etc/cron.d/evil" in outcome.result["reasons"][0]


def test_zip_entries_with_absolute_paths_are_quarantined():
    quarantined(run(zip_bytes({"/etc/passwd": b"x"}), "bundle.zip", "application/zip"), "archive-absolute-path")


def test_zip_symlinks_are_quarantined():
    quarantined(run(zip_symlink(), "bundle.zip", "application/zip"), "archive-link")


def test_a_zip_inside_a_zip_is_quarantined_by_name_or_by_content():
    inner = zip_bytes({"deeper.txt": b"x"})
    quarantined(run(zip_bytes({"inner.zip": inner}), "bundle.zip", "application/zip"), "archive-nested")
    quarantined(run(zip_bytes({"innocent.dat": inner}), "bundle.zip", "application/zip"), "archive-nested")
    gz = tar_bytes([tar_member("x.txt")], {"x.txt": b"x"}, "w:gz")
    quarantined(run(zip_bytes({"data.bin": gz}), "bundle.zip", "application/zip"), "archive-nested")


def test_encrypted_zip_entries_are_quarantined():
    quarantined(run(zip_encrypted(), "bundle.zip", "application/zip"), "archive-encrypted")


def test_duplicate_zip_entry_names_are_quarantined():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive, pytest.warns(UserWarning, match="Duplicate name"):
        archive.writestr("a.txt", "first")
        archive.writestr("a.txt", "second")
    quarantined(run(out.getvalue(), "bundle.zip", "application/zip"), "archive-duplicate-names")


def test_too_many_zip_entries_are_quarantined_before_the_directory_is_parsed():
    data = zip_bytes({f"f{i}.txt": b"x" for i in range(11)})
    quarantined(run(data, "bundle.zip", "application/zip", Limits(archive_max_entries=10)), "archive-too-many-entries")


def test_a_zip64_directory_claiming_millions_of_entries_is_quarantined_unparsed():
    body = _local_header(b"a.txt", b"")
    zip64_end = struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, 5_000_000, 5_000_000, 46 * 5_000_000, 0)
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, len(body), 1)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    outcome = run(body + zip64_end + locator + end, "bundle.zip", "application/zip")
    quarantined(outcome, "archive-too-many-entries")
    assert outcome.result["entries"] == 5_000_000


def test_tar_links_parent_paths_absolute_paths_and_devices_are_quarantined():
    data = tar_bytes(
        [tar_member("ok.txt"), tar_member("../escape.txt"), tar_member("/etc/shadow"),
         tar_member("link", tarfile.SYMTYPE, "/etc/passwd"), tar_member("hard", tarfile.LNKTYPE, "ok.txt"),
         tar_member("dev", tarfile.CHRTYPE)],
        {"ok.txt": b"x", "../escape.txt": b"x", "/etc/shadow": b"x"},
    )
    outcome = run(data, "bundle.tar", "application/x-tar")
    for code in ("archive-path-traversal", "archive-absolute-path", "archive-link", "archive-special-file"):
        quarantined(outcome, code)


def test_a_gzip_bomb_is_quarantined_by_its_ratio_and_stopped_at_the_size_limit():
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip container
    data = b"".join(compressor.compress(bytes(MiB)) for _ in range(20)) + compressor.flush()
    quarantined(run(data, "logs.gz", "application/gzip"), "archive-ratio")
    quarantined(run(data, "logs.gz", "application/gzip", Limits(archive_max_total_bytes=5 * MiB)), "archive-too-large")


def test_a_corrupt_archive_is_quarantined_not_a_crash():
    quarantined(run(zip_bytes({"a.txt": b"x" * 100})[:-30], "bundle.zip", "application/zip"), "archive-unreadable")


# ---------------------------------------------------------------- PDFs: encryption, limits, damage

def test_a_pdf_with_an_empty_user_password_is_read_and_flagged():
    outcome = run(pypdf_pdf(owner_only=True), "claim.pdf", "application/pdf")
    assert outcome.status == "READY", outcome.result["reasons"]
    assert outcome.result["encrypted"] is True and "pdf-encrypted" in outcome.result["flags"]
    assert "Page 1 of the claim" in outcome.result["text"]


def test_a_pdf_that_needs_a_password_is_quarantined():
    quarantined(run(pypdf_pdf(password="s3cret"), "claim.pdf", "application/pdf"), "pdf-encrypted")


def test_pages_past_the_limit_are_counted_but_not_read():
    outcome = run(pdf_bytes([text_page(f"page {i}") for i in range(5)]), "long.pdf", "application/pdf",
                  Limits(pdf_max_pages=2))
    assert outcome.status == "READY" and outcome.result["pages"] == 5
    assert "pdf-pages-truncated" in outcome.result["flags"]
    assert "page 1" in outcome.result["text"] and "page 2" not in outcome.result["text"]


def test_text_in_the_result_is_truncated_and_said_to_be():
    outcome = run(pdf_bytes([text_page("x" * 900) for _ in range(3)]), "a.pdf", "application/pdf",
                  Limits(text_result_bytes=1000))
    assert len(outcome.result["text"].encode()) <= 1000 and outcome.result["textTruncated"] is True
    assert len(outcome.file("text.txt")) > 2000  # the artifact keeps more


def test_a_damaged_pdf_is_quarantined_not_a_crash():
    damaged = b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 9 0 R >>\n" + b"\xff" * 300
    quarantined(run(damaged, "a.pdf", "application/pdf"), "pdf-unreadable")


def test_an_inspection_over_its_wall_time_is_quarantined():
    data = pdf_bytes([text_page(f"page {i}") for i in range(200)])
    outcome = run(data, "slow.pdf", "application/pdf", Limits(inspect_seconds=0.001))
    quarantined(outcome, "inspection-time-limit")


def test_the_time_limit_holds_off_the_main_thread_through_the_deadline_checks():
    outcomes = []
    data = pdf_bytes([text_page(f"page {i}") for i in range(200)])
    thread = threading.Thread(target=lambda: outcomes.append(
        run(data, "slow.pdf", "application/pdf", Limits(inspect_seconds=0.001))))
    thread.start()
    thread.join(30)
    quarantined(outcomes[0], "inspection-time-limit")


def test_time_limit_interrupts_code_that_swallows_exceptions():
    with pytest.raises(TimeLimitExceeded):
        with time_limit(0.05):
            while True:
                try:
                    sum(range(1000))
                except Exception:  # noqa: BLE001 - a parser's broad handler must not absorb the limit
                    pass
    with pytest.raises(TimeLimitExceeded):
        Deadline(0).check()


# ---------------------------------------------------------------- pieces

def test_detection_by_magic_bytes():
    assert detect(b"%PDF-1.4") == "pdf"
    assert detect(png_bytes()) == "png"
    assert detect(PE_EXECUTABLE) == "pe-executable"
    assert detect(ELF_EXECUTABLE) == "elf-executable"
    assert detect(b"#!/bin/sh\nrm -rf /") == "script"
    assert detect(b"MZ is the name of our company\n") == "text"
    assert detect(tar_bytes([tar_member("a")], {"a": b"x"})) == "tar"
    assert detect(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "webp"
    assert detect("naïve café;1,5\n".encode("cp1252")) == "text"  # Excel's legacy CSVs
    assert detect(bytes(range(256))) == "unknown"


def test_extensions_are_the_ones_a_file_manager_acts_on():
    assert extensions("Report.PDF.exe") == ["pdf", "exe"]
    assert extensions("report.exe. . ") == ["exe"]  # Windows drops trailing dots and spaces
    assert extensions("a/b\\c.tar.gz") == ["tar", "gz"]
    assert extensions("invoice\u202efdp.exe") == ["exe"]
    assert filename_flags("claim.pdf") == [] and filename_flags("") == ["filename-missing"]


def test_the_stream_pass_hashes_sizes_and_spools_only_when_asked(tmp_path):
    data = b"%PDF-" + bytes(range(256)) * 1000
    chunks = [data[i:i + 1000] for i in range(0, len(data), 1000)]
    plain = scan(chunks, max_bytes=10 * MiB, prefix_bytes=8192)
    assert plain.sha256 == hashlib.sha256(data).hexdigest() and plain.size == len(data)
    assert plain.prefix == data[:8192] and plain.nul_seen and plain.spooled is None
    target = (tmp_path / "copy").open("w+b")
    spooled = scan(chunks, max_bytes=10 * MiB, prefix_bytes=8192, spool=lambda prefix: target)
    target.close()
    assert spooled.spooled == tmp_path / "copy" and (tmp_path / "copy").read_bytes() == data


def test_a_local_file_is_inspected_in_place_without_a_copy(tmp_path):
    path = tmp_path / "claim.pdf"
    path.write_bytes(pdf_bytes([text_page("local")]))
    job = Job("b", "k", "v1", "c-1", "d-1", "application/pdf", "claim.pdf")
    result = process(job, LocalFileSource(path), MemoryArtifacts(), MemorySink())
    assert result["status"] == "READY" and "local" in result["text"]


def test_the_job_and_limits_come_from_the_container_environment():
    env = {"BUCKET": "b", "KEY": "uploads/x", "VERSION_ID": "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY", "CASE_ID": "c-1",
           "DOCUMENT_ID": "d-1", "MAX_BYTES": "1000", "LIMIT_PDF_MAX_PAGES": "7", "LIMIT_INSPECT_SECONDS": "2.5",
           "EXPECTED_SHA256": "", "RESULT_TABLE": "cases"}
    job, limits = Job.from_env(env), Limits.from_env(env)
    assert job.derived_prefix == "derived/c-1/d-1/3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY/"
    assert job.expected_sha256 is None and job.result_table == "cases"
    assert (limits.max_bytes, limits.pdf_max_pages, limits.inspect_seconds) == (1000, 7, 2.5)
    with pytest.raises(ConfigError, match="CASE_ID"):
        Job.from_env({**env, "CASE_ID": ""})
    with pytest.raises(ConfigError, match="DOCUMENT_ID"):
        Job.from_env({**env, "DOCUMENT_ID": "../other-case"})
    with pytest.raises(ConfigError, match="MAX_BYTES"):
        Limits.from_env({"MAX_BYTES": "lots"})
