"""What the inspectors report: reasons to quarantine, informational flags, and the fields they extracted."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

READY = "READY"
QUARANTINED = "QUARANTINED"


@dataclass(frozen=True)
class Reason:
    code: str    # stable, for machines (the workflow, the API, tests)
    detail: str  # for the person who reviews the quarantine

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}"


@dataclass
class Findings:
    """Collected across the checks; any reason quarantines, flags only inform."""

    reasons: list[Reason] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)

    def quarantine(self, code: str, detail: str) -> None:
        self.reasons.append(Reason(code, detail))

    def flag(self, code: str) -> None:
        if code not in self.flags:
            self.flags.append(code)

    @property
    def quarantined(self) -> bool:
        return bool(self.reasons)

    @property
    def status(self) -> str:
        return QUARANTINED if self.reasons else READY

    def codes(self) -> list[str]:
        return [reason.code for reason in self.reasons]


@dataclass
class Inspection:
    """A type inspector's output: `fields` go into the result, `metadata` only into metadata.json."""

    fields: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    text: Optional[str] = None
    thumbnail: Optional[bytes] = None  # PNG
