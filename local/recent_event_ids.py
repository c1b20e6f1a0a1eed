"""The stream records each function was given lately, remembered in little memory.

moto re-sends a stream's recent records (local/lambdas.py, LOCAL_AWS.md); the dispatcher drops those a function
already got by their `eventID`. It remembered `"<function>/<eventID>"` strings in an OrderedDict: ~190 bytes per
record and function, ~100 of them per created case (19 KB a case until the limit, ~40 MB at it, issue 13). moto's
eventIDs are 32 hex digits (a UUID's): here each becomes one integer with the function's number in its low bits
(~48 bytes), kept in a set, with a deque for the order to forget them in. Another form of ID is kept as it came."""
from __future__ import annotations

from collections import deque
from typing import Union

Key = Union[int, tuple[str, str]]
_FUNCTION_BITS = 16  # the function's number in the key's low bits: up to 65,536 functions
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


class RecentEventIds:
    """The last `limit` (function, event ID) pairs seen. Not thread-safe: the caller holds its own lock."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._keys: set[Key] = set()
        self._order: deque[Key] = deque()
        self._functions: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._keys)

    def remember(self, function_name: str, event_id: str) -> bool:
        """True when the pair is new (it is remembered from now on); False when it was seen."""
        key = self._key(function_name, event_id)
        if key in self._keys:
            return False
        self._keys.add(key)
        self._order.append(key)
        if len(self._order) > self.limit:
            self._keys.discard(self._order.popleft())
        return True

    def _key(self, function_name: str, event_id: str) -> Key:
        number = self._functions.setdefault(function_name, len(self._functions))
        if len(event_id) == 32 and number < 1 << _FUNCTION_BITS and _HEX_DIGITS.issuperset(event_id):
            return int(event_id, 16) << _FUNCTION_BITS | number
        return (function_name, event_id)
