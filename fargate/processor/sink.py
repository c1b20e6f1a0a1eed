"""Where results go. Small ports so that the pipeline needs no AWS and tests need no network.

- `ArtifactStore.put(name, body, content_type)`: derived files (text, thumbnail, metadata, result)
  under `derived/<caseId>/<documentId>/<versionId>/` in the document's bucket.
- `ResultSink.write(result)`: the verdict, where the workflow and the API read it.
"""
from __future__ import annotations

import json
from typing import Any, Mapping, Protocol, Sequence


class ArtifactStore(Protocol):
    def put(self, name: str, body: bytes, content_type: str) -> str:
        """Stores one derived file and returns where it went (the S3 key)."""


class ResultSink(Protocol):
    def write(self, result: Mapping[str, Any]) -> None: ...


def to_json(result: Mapping[str, Any]) -> str:
    text = json.dumps(result, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    # Names read from tar headers or the environment may hold lone surrogates (undecodable bytes):
    # UTF-8 cannot store them, so they become U+FFFD rather than failing the write.
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


class S3Artifacts:
    def __init__(self, client: Any, bucket: str, prefix: str) -> None:
        self._client, self._bucket, self._prefix = client, bucket, prefix

    def put(self, name: str, body: bytes, content_type: str) -> str:
        key = self._prefix + name
        self._client.put_object(Bucket=self._bucket, Key=key, Body=body, ContentType=content_type)
        return key


class ArtifactResultSink:
    """result.json beside the other derived files: the default, readable with S3 access only."""

    def __init__(self, artifacts: ArtifactStore) -> None:
        self._artifacts = artifacts

    def write(self, result: Mapping[str, Any]) -> None:
        self._artifacts.put("result.json", to_json(result).encode(), "application/json")


class DynamoDBResultSink:
    """One item per processed version in the case's partition; a retried task writes the same item again."""

    def __init__(self, client: Any, table: str, case_id: str, document_id: str, version_id: str) -> None:
        self._client, self._table = client, table
        self._key = {"PK": f"CASE#{case_id}", "SK": f"DOCRESULT#{document_id}#{version_id}"}

    def write(self, result: Mapping[str, Any]) -> None:
        item = {name: {"S": value} for name, value in self._key.items()}
        item["result"] = {"S": to_json(result)}
        item["status"] = {"S": str(result.get("status", ""))}
        self._client.put_item(TableName=self._table, Item=item)


class MultiSink:
    def __init__(self, sinks: Sequence[ResultSink]) -> None:
        self._sinks = list(sinks)

    def write(self, result: Mapping[str, Any]) -> None:
        for sink in self._sinks:
            sink.write(result)


class MemoryArtifacts:
    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self.files: dict[str, tuple[bytes, str]] = {}

    def put(self, name: str, body: bytes, content_type: str) -> str:
        self.files[self.prefix + name] = (body, content_type)
        return self.prefix + name


class MemorySink:
    def __init__(self) -> None:
        self.results: list[dict[str, Any]] = []

    def write(self, result: Mapping[str, Any]) -> None:
        self.results.append(json.loads(to_json(result)))  # what a real sink would store, round-tripped
