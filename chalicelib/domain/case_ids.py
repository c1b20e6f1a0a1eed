"""Ids of a case's own records, `<caseId>-<letter><n>` (tasks `-t`, approvals `-a`): unique per case, and the
case id (and so the record's key) can be read back from them."""
from __future__ import annotations

import re
from typing import Optional


class CaseScopedIds:
    def __init__(self, letter: str, max_digits: int) -> None:
        self._letter = letter
        self._pattern = re.compile(rf"^(?P<case>[A-Za-z0-9_-]+)-{letter}(?P<n>[0-9]{{1,{max_digits}}})$")

    def make(self, case_id: str, n: int) -> str:
        return f"{case_id}-{self._letter}{n}"

    def case_of(self, record_id: str) -> Optional[str]:
        match = self._pattern.match(record_id)
        return match.group("case") if match else None

    def number_of(self, record_id: str) -> int:
        """The record's n; 0 for an id not of this kind."""
        match = self._pattern.match(record_id)
        return int(match.group("n")) if match else 0
