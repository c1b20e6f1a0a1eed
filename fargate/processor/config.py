"""The job (which object version, where results go) and the limits, read from the ECS container overrides."""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Mapping, Optional

MiB = 1 << 20
GiB = 1 << 30

# Case, document and version ids become S3 key segments: no separators, no "..", nothing to escape.
_SEGMENT = re.compile(r"^(?!\.{1,2}$)[A-Za-z0-9._+=-]{1,256}$")


class ConfigError(ValueError):
    """The task was started with a missing or malformed setting; retrying cannot help."""


@dataclass(frozen=True)
class Limits:
    """Every bound on work done for one document. Defaults fit a 2 GiB / 1 vCPU Fargate task."""

    max_bytes: int = GiB
    chunk_bytes: int = MiB
    text_result_bytes: int = 100_000        # text kept in the result (a DynamoDB item is at most 400 KB)
    text_artifact_bytes: int = 5_000_000    # text written to derived/.../text.txt
    inspect_seconds: float = 60.0           # one type inspector's wall time
    pdf_max_pages: int = 500                # pages whose text is extracted; more pages are only counted
    pdf_max_inflated_bytes: int = 256 * MiB  # all FlateDecode streams of one PDF together
    pdf_max_stream_bytes: int = 64 * MiB    # any one decoded stream (pypdf's own limits)
    image_max_pixels: int = 50_000_000      # 50 MP: a large camera photo passes, a bomb does not
    thumbnail_px: int = 256
    archive_max_entries: int = 10_000
    archive_max_total_bytes: int = GiB      # uncompressed, all entries together
    archive_max_ratio: float = 100.0        # uncompressed / compressed
    archive_ratio_min_bytes: int = MiB      # a tiny entry's ratio says nothing

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "Limits":
        """`MAX_BYTES`, and `LIMIT_<FIELD>` (e.g. `LIMIT_PDF_MAX_PAGES`) for any other field."""
        values: dict[str, object] = {}
        for item in dataclasses.fields(cls):
            name = "MAX_BYTES" if item.name == "max_bytes" else f"LIMIT_{item.name.upper()}"
            raw = env.get(name, "").strip()
            if not raw:
                continue
            kind = float if item.type in ("float", float) else int
            try:
                value = kind(raw)
            except ValueError:
                raise ConfigError(f"{name} must be a number, got {raw!r}") from None
            if value <= 0:
                raise ConfigError(f"{name} must be positive, got {raw!r}")
            values[item.name] = value
        return cls(**values)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Job:
    bucket: str
    key: str
    version_id: str
    case_id: str
    document_id: str
    declared_content_type: str = ""
    declared_filename: str = ""
    expected_sha256: Optional[str] = None
    result_table: Optional[str] = None

    @property
    def derived_prefix(self) -> str:
        return f"derived/{self.case_id}/{self.document_id}/{self.version_id}/"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "Job":
        required = {"BUCKET": "bucket", "KEY": "key", "VERSION_ID": "version_id", "CASE_ID": "case_id",
                    "DOCUMENT_ID": "document_id"}
        missing = [name for name in required if not env.get(name)]
        if missing:
            raise ConfigError(f"missing environment: {', '.join(missing)}")
        for name in ("CASE_ID", "DOCUMENT_ID", "VERSION_ID"):
            if not _SEGMENT.match(env[name]):
                raise ConfigError(f"{name} is not a safe key segment: {env[name]!r}")
        return cls(
            **{field: env[name] for name, field in required.items()},
            declared_content_type=env.get("DECLARED_CONTENT_TYPE", ""),
            declared_filename=env.get("DECLARED_FILENAME", ""),
            expected_sha256=env.get("EXPECTED_SHA256") or None,
            result_table=env.get("RESULT_TABLE") or None,
        )
