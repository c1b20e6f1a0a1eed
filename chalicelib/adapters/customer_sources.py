"""Customer output ports of data products: an HTTP(S) API answering `GET <base>/customers/<id>` with one
JSON object, and a JSON Lines dataset in S3 with one object per customer. Both answer within short,
bounded timeouts and raise SourceUnavailable for anything but an answer."""
from __future__ import annotations

import json
import logging
import threading
import urllib.error
import urllib.request
from datetime import datetime, timezone
from typing import Any, Callable, Optional
from urllib.parse import quote, urlparse

from botocore.exceptions import BotoCoreError, ClientError

from ..domain.customers import SourceRecord, parse_time
from ..domain.data_products import DataProductDescriptor
from ..ports import CustomerSource, SourceUnavailable

log = logging.getLogger(__name__)
MAX_RESPONSE_BYTES = 256 * 1024
_ID_KEYS = ("customerId", "id")
_TIME_KEY = "updatedAt"
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def _record(item: dict[str, Any], fetched_at: datetime) -> SourceRecord:
    """The item's fields without its key and timestamp; as of its `updatedAt` (the fetch time if it has none)."""
    fields = {k: v for k, v in item.items() if k not in (*_ID_KEYS, _TIME_KEY)}
    return SourceRecord(fields=fields, as_of=parse_time(item.get(_TIME_KEY)) or fetched_at)


class HttpCustomerSource:
    def __init__(self, base_url: str, timeout_seconds: float, clock: Callable[[], datetime]) -> None:
        self.base_url = base_url.rstrip("/")
        self._timeout = timeout_seconds
        self._clock = clock
        # A developer's HTTP(S)_PROXY must not intercept loopback; elsewhere the environment's proxy applies.
        host = urlparse(self.base_url).hostname or ""
        handlers = [urllib.request.ProxyHandler({})] if host in _LOOPBACK else []
        self._opener = urllib.request.build_opener(*handlers)

    def fetch(self, customer_id: str) -> Optional[SourceRecord]:
        url = f"{self.base_url}/customers/{quote(customer_id, safe='')}"
        request = urllib.request.Request(url, headers={"Accept": "application/json"})
        try:
            with self._opener.open(request, timeout=self._timeout) as response:
                body = response.read(MAX_RESPONSE_BYTES + 1)
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise SourceUnavailable(f"{url} answered {exc.code}") from None
        except (OSError, ValueError) as exc:  # refused, timed out, reset, a bad URL
            raise SourceUnavailable(f"{url} did not answer: {exc}") from None
        if len(body) > MAX_RESPONSE_BYTES:
            raise SourceUnavailable(f"{url} answered more than {MAX_RESPONSE_BYTES} bytes")
        try:
            item = json.loads(body)
        except ValueError:
            raise SourceUnavailable(f"{url} answered something that is not JSON") from None
        if not isinstance(item, dict):
            raise SourceUnavailable(f"{url} answered JSON that is not an object")
        return _record(item, self._clock())


class S3JsonLinesCustomerSource:
    """A dataset of one JSON object per line, keyed by `customerId`. The parsed dataset is kept with its
    ETag and fetched again only when S3 says it changed (a conditional GET), so a lookup costs one small
    request while the dataset stays the same."""

    def __init__(self, location: str, client_factory: Callable[[], Any], clock: Callable[[], datetime]) -> None:
        parsed = urlparse(location)
        if parsed.scheme != "s3" or not parsed.netloc or not parsed.path.strip("/"):
            raise ValueError(f"not an s3://bucket/key location: {location}")
        self.bucket, self.key = parsed.netloc, parsed.path.lstrip("/")
        self._factory = client_factory
        self._client: Any = None
        self._clock = clock
        self._lock = threading.Lock()
        self._etag: Optional[str] = None
        self._rows: dict[str, dict[str, Any]] = {}
        self._modified: Optional[datetime] = None

    def fetch(self, customer_id: str) -> Optional[SourceRecord]:
        rows, modified = self._dataset()
        item = rows.get(customer_id)
        return None if item is None else _record(item, modified or self._clock())

    def _dataset(self) -> tuple[dict[str, dict[str, Any]], Optional[datetime]]:
        with self._lock:
            if self._client is None:
                self._client = self._factory()
            kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": self.key}
            if self._etag:
                kwargs["IfNoneMatch"] = self._etag
            try:
                response = self._client.get_object(**kwargs)
                body = response["Body"].read()
            except ClientError as exc:
                status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
                if status == 304 or exc.response.get("Error", {}).get("Code") in ("304", "NotModified"):
                    return self._rows, self._modified
                raise SourceUnavailable(f"s3://{self.bucket}/{self.key}: {exc}") from None
            except BotoCoreError as exc:
                raise SourceUnavailable(f"s3://{self.bucket}/{self.key}: {exc}") from None
            self._rows = _parse_lines(body, f"s3://{self.bucket}/{self.key}")
            self._etag = response.get("ETag")
            last_modified = response.get("LastModified")
            self._modified = last_modified.astimezone(timezone.utc) if isinstance(last_modified, datetime) else None
            return self._rows, self._modified


def _parse_lines(body: bytes, where: str) -> dict[str, dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for number, line in enumerate(body.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError:
            log.warning("%s line %d is not JSON; skipped", where, number)
            continue
        key = item.get("customerId") if isinstance(item, dict) else None
        if isinstance(key, str):
            rows[key] = item
    return rows


def mesh_s3_client_factory(region: str, endpoint_url: Optional[str], timeout_seconds: float) -> Callable[[], Any]:
    """An S3 client that gives up within the mesh's budget: one attempt, short connect and read timeouts."""

    def build() -> Any:
        import boto3
        from botocore.config import Config

        config = Config(
            connect_timeout=timeout_seconds, read_timeout=timeout_seconds,
            retries={"max_attempts": 1, "mode": "standard"},
            s3={"addressing_style": "path" if endpoint_url else "auto"},
        )
        return boto3.client("s3", region_name=region, endpoint_url=endpoint_url, config=config)

    return build


def source_for(
    product: DataProductDescriptor, timeout_seconds: float, s3_client_factory: Callable[[], Any],
    clock: Callable[[], datetime],
) -> Optional[CustomerSource]:
    """The customer source behind a product's first output port this system can read, if any."""
    port = product.port("https", "http")
    if port is not None:
        return HttpCustomerSource(port.location, timeout_seconds, clock)
    port = product.port("s3")
    if port is not None and port.format == "jsonl":
        return S3JsonLinesCustomerSource(port.location, s3_client_factory, clock)
    return None
