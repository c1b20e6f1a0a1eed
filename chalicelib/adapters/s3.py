"""The documents bucket (boto3): presigned POST forms bounded in size and type, presigned GETs of one
version, and S3 Object Lock legal holds. The client is built on first use, never at import."""
from __future__ import annotations

import logging
from typing import Any, Callable, Mapping, Optional

from botocore.exceptions import BotoCoreError, ClientError

from ..domain.documents import UploadForm
from ..errors import DependencyUnavailable
from .lazy_client import LazyClient

log = logging.getLogger(__name__)
_NO_OBJECT_LOCK = {"ObjectLockConfigurationNotFoundError", "InvalidRequest"}
_GONE = {"404", "NoSuchKey", "NoSuchVersion", "NotFound"}


def upload_conditions(content_type: str, max_size: int, metadata: Mapping[str, str]) -> list[Any]:
    """What the POST policy allows besides the bucket and the exact key (boto3 adds those): 1..max_size
    bytes, exactly this Content-Type, exactly this metadata."""
    return [
        ["content-length-range", 1, max_size],
        {"Content-Type": content_type},
        *({f"x-amz-meta-{name}": value} for name, value in metadata.items()),
    ]


class S3DocumentStorage:
    def __init__(self, bucket: str, client_factory: Callable[[], Any]) -> None:
        self.bucket = bucket
        self._client = LazyClient(client_factory)
        self._object_lock: Optional[bool] = None  # whether the bucket has Object Lock, once asked

    @property
    def client(self) -> Any:
        return self._client()

    def upload_form(
        self, key: str, content_type: str, max_size: int, expires_in: int, metadata: Mapping[str, str],
    ) -> UploadForm:
        fields = {"Content-Type": content_type, **{f"x-amz-meta-{name}": value for name, value in metadata.items()}}
        try:
            post = self.client.generate_presigned_post(
                Bucket=self.bucket, Key=key, Fields=fields,
                Conditions=upload_conditions(content_type, max_size, metadata), ExpiresIn=expires_in,
            )
        except BotoCoreError as exc:  # e.g. no credentials: signing happens here, without a request
            raise DependencyUnavailable("document storage is unavailable; retry shortly") from exc
        return UploadForm(url=post["url"], fields={k: str(v) for k, v in post["fields"].items()})

    def download_url(self, key: str, version_id: str, content_type: str, disposition: str, expires_in: int) -> str:
        try:
            return str(self.client.generate_presigned_url(
                "get_object",
                Params={
                    "Bucket": self.bucket, "Key": key, "VersionId": version_id,
                    "ResponseContentType": content_type, "ResponseContentDisposition": disposition,
                },
                ExpiresIn=expires_in,
            ))
        except BotoCoreError as exc:
            raise DependencyUnavailable("document storage is unavailable; retry shortly") from exc

    def put_object(self, key: str, body: bytes, content_type: str) -> Optional[str]:
        # A checksum is required by buckets with Object Lock, and lets S3 refuse a body damaged on the way.
        try:
            response = self.client.put_object(
                Bucket=self.bucket, Key=key, Body=body, ContentType=content_type, ChecksumAlgorithm="SHA256",
            )
        except (BotoCoreError, ClientError) as exc:
            raise DependencyUnavailable("document storage is unavailable; retry shortly") from exc
        return response.get("VersionId")

    def object_metadata(self, key: str, version_id: str) -> Optional[Mapping[str, str]]:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key, VersionId=version_id)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _GONE:
                return None
            raise DependencyUnavailable("document storage is unavailable; retry shortly") from exc
        except BotoCoreError as exc:
            raise DependencyUnavailable("document storage is unavailable; retry shortly") from exc
        return {str(name).lower(): str(value) for name, value in head.get("Metadata", {}).items()}

    def set_legal_hold(self, key: str, version_id: str, enabled: bool) -> bool:
        if not self._has_object_lock():
            return False
        try:
            self.client.put_object_legal_hold(
                Bucket=self.bucket, Key=key, VersionId=version_id, LegalHold={"Status": "ON" if enabled else "OFF"},
            )
        except (BotoCoreError, ClientError) as exc:
            if isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") in _NO_OBJECT_LOCK:
                self._object_lock = False
                return False
            raise
        return True

    def _has_object_lock(self) -> bool:
        if self._object_lock is None:
            try:
                config = self.client.get_object_lock_configuration(Bucket=self.bucket)
                self._object_lock = config.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled") == "Enabled"
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") not in _NO_OBJECT_LOCK:
                    raise
                self._object_lock = False
            if not self._object_lock:
                log.warning("bucket %s has no S3 Object Lock: legal holds are kept in the table only", self.bucket)
        return self._object_lock


def s3_client_factory(region: str, endpoint_url: Optional[str]) -> Callable[[], Any]:
    """SigV4 everywhere (presigned POSTs need it); path-style addressing for a local endpoint."""

    def build() -> Any:
        import boto3
        from botocore.config import Config

        config = Config(
            signature_version="s3v4", retries={"max_attempts": 3, "mode": "standard"},
            s3={"addressing_style": "path" if endpoint_url else "auto"},
        )
        return boto3.client("s3", region_name=region, endpoint_url=endpoint_url, config=config)

    return build
