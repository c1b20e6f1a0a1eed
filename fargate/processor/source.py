"""Where the bytes come from: one S3 object version (the container), a local file (benchmarks), or memory (tests).

A source hands out the object as a stream of chunks, never whole; `local_path` lets a parser that
needs random access use an existing file instead of a spooled copy.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, Protocol

from .config import MiB


class SourceUnavailable(Exception):
    """The object could not be read (missing, no access, endpoint down): the task fails and is retried."""


@dataclass
class OpenedObject:
    chunks: Iterator[bytes]
    content_length: Optional[int]
    version_id: Optional[str]
    close: Callable[[], None]


class ObjectSource(Protocol):
    def open(self) -> OpenedObject: ...

    def local_path(self) -> Optional[Path]: ...


class S3ObjectSource:
    def __init__(self, client: Any, bucket: str, key: str, version_id: str, chunk_bytes: int = MiB) -> None:
        self._client, self._bucket, self._key, self._version = client, bucket, key, version_id
        self._chunk = chunk_bytes

    def local_path(self) -> Optional[Path]:
        return None

    def open(self) -> OpenedObject:
        from botocore.exceptions import BotoCoreError, ClientError

        where = f"s3://{self._bucket}/{self._key}?versionId={self._version}"
        try:
            response = self._client.get_object(Bucket=self._bucket, Key=self._key, VersionId=self._version)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "?")
            raise SourceUnavailable(f"{where}: {code}") from error
        except BotoCoreError as error:
            raise SourceUnavailable(f"{where}: {error}") from error
        body = response["Body"]

        def chunks() -> Iterator[bytes]:
            try:
                yield from body.iter_chunks(self._chunk)
            except (BotoCoreError, OSError) as error:  # a connection dropped mid-object
                raise SourceUnavailable(f"{where}: read failed: {error}") from error

        return OpenedObject(chunks(), response.get("ContentLength"), response.get("VersionId"), body.close)


class LocalFileSource:
    def __init__(self, path: Path, chunk_bytes: int = MiB) -> None:
        self._path, self._chunk = Path(path), chunk_bytes

    def local_path(self) -> Optional[Path]:
        return self._path

    def open(self) -> OpenedObject:
        try:
            handle = self._path.open("rb")
        except OSError as error:
            raise SourceUnavailable(f"{self._path}: {error}") from error
        size = self._path.stat().st_size
        return OpenedObject(iter(lambda: handle.read(self._chunk), b""), size, None, handle.close)


class BytesSource:
    """In-memory bytes; no local path, so the pipeline spools exactly as it does for S3."""

    def __init__(self, data: bytes, chunk_bytes: int = 64 * 1024, version_id: Optional[str] = "v1") -> None:
        self._data, self._chunk, self._version = data, chunk_bytes, version_id

    def local_path(self) -> Optional[Path]:
        return None

    def open(self) -> OpenedObject:
        view = memoryview(self._data)
        chunks = (bytes(view[i:i + self._chunk]) for i in range(0, len(view), self._chunk))
        return OpenedObject(chunks, len(self._data), self._version, lambda: None)
