"""The data product bucket (boto3), and its in-memory twin for tests."""
from __future__ import annotations

import threading
from datetime import datetime, timezone
from typing import Any, Callable, Optional

from botocore.exceptions import BotoCoreError, ClientError

from ..errors import DependencyUnavailable
from .lazy_client import LazyClient


class S3ObjectStore:
    def __init__(self, bucket: str, client_factory: Callable[[], Any]) -> None:
        self.bucket = bucket
        self._client = LazyClient(client_factory)

    @property
    def client(self) -> Any:
        return self._client()

    def put(self, key: str, body: bytes, content_type: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)

    def get(self, key: str) -> bytes:
        return bytes(self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read())

    def keys(self, prefix: str) -> list[str]:
        return sorted(o["Key"] for o in self._objects(prefix))

    def newest_write(self, prefix: str) -> Optional[datetime]:
        """Partitions sort by name (dt=YYYY-MM-DD/): only the last one is listed, not the whole product."""
        try:
            while True:
                partitions = self._partitions(prefix)
                if not partitions:
                    break
                prefix = partitions[-1]
            times = [o["LastModified"] for o in self._objects(prefix)]
        except (BotoCoreError, ClientError) as exc:
            raise DependencyUnavailable("the data product bucket is unavailable; retry shortly") from exc
        return max(times).astimezone(timezone.utc) if times else None

    def _partitions(self, prefix: str) -> list[str]:
        found: list[str] = []
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix, Delimiter="/")
        for page in pages:
            found += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        return sorted(found)

    def _objects(self, prefix: str) -> list[dict[str, Any]]:
        objects: list[dict[str, Any]] = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            objects += page.get("Contents", [])
        return objects


class InMemoryObjectStore:
    def __init__(self, clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self.objects: dict[str, tuple[bytes, datetime]] = {}
        self.puts = 0

    def put(self, key: str, body: bytes, content_type: str) -> None:
        with self._lock:
            self.objects[key] = (body, self._clock())
            self.puts += 1

    def get(self, key: str) -> bytes:
        return self.objects[key][0]

    def keys(self, prefix: str) -> list[str]:
        return sorted(k for k in self.objects if k.startswith(prefix))

    def newest_write(self, prefix: str) -> Optional[datetime]:
        times = [written for key, (_, written) in self.objects.items() if key.startswith(prefix)]
        return max(times) if times else None
