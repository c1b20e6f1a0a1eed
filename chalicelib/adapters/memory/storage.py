"""In-memory twin of the S3 document storage, for unit tests."""
from __future__ import annotations

from typing import Mapping, Optional
from urllib.parse import urlencode

from ...domain.documents import UploadForm


class InMemoryObjectStorage:
    """Stands in for S3: forms and links name what they grant (nothing is served); legal holds are recorded,
    or refused as by a bucket without Object Lock when `object_lock` is False."""

    def __init__(self, bucket: str = "documents", object_lock: bool = True) -> None:
        self.bucket, self.object_lock = bucket, object_lock
        self.legal_holds: dict[tuple[str, str], bool] = {}
        self.forms: list[dict[str, object]] = []
        self.objects: dict[str, list[bytes]] = {}  # key -> every version's body, oldest first
        self.posted: dict[tuple[str, str], bytes] = {}  # (key, version id) -> an upload's body
        self.metadata: dict[tuple[str, str], dict[str, str]] = {}  # (key, version id) -> its user metadata

    def upload_form(
        self, key: str, content_type: str, max_size: int, expires_in: int, metadata: Mapping[str, str],
    ) -> UploadForm:
        self.forms.append({"key": key, "contentType": content_type, "maxSize": max_size, "expiresIn": expires_in})
        fields = {"key": key, "Content-Type": content_type, **{f"x-amz-meta-{k}": v for k, v in metadata.items()}}
        return UploadForm(url=f"https://{self.bucket}.s3.memory.invalid/", fields=fields)

    def download_url(self, key: str, version_id: str, content_type: str, disposition: str, expires_in: int) -> str:
        query = urlencode({
            "versionId": version_id, "response-content-type": content_type,
            "response-content-disposition": disposition, "X-Amz-Expires": expires_in,
        })
        return f"https://{self.bucket}.s3.memory.invalid/{key}?{query}"

    def put_object(self, key: str, body: bytes, content_type: str) -> Optional[str]:
        versions = self.objects.setdefault(key, [])
        versions.append(body)
        return f"v{len(versions)}"

    def post(self, fields: Mapping[str, str], body: bytes, version_id: str) -> None:
        """What a browser's POST with an upload form stores: version `version_id` of the form's key, with the
        form's `x-amz-meta-*` fields as its metadata (kept apart from `objects`, what the system wrote)."""
        prefix = "x-amz-meta-"
        self.posted[(fields["key"], version_id)] = body
        self.metadata[(fields["key"], version_id)] = {
            name[len(prefix):]: value for name, value in fields.items() if name.startswith(prefix)
        }

    def object_metadata(self, key: str, version_id: str) -> Optional[Mapping[str, str]]:
        return self.metadata.get((key, version_id))

    def set_legal_hold(self, key: str, version_id: str, enabled: bool) -> bool:
        if not self.object_lock:
            return False
        self.legal_holds[(key, version_id)] = enabled
        return True
