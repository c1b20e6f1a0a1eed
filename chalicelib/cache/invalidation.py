"""Which cache entries a write makes stale, and a store wrapper that deletes them after each successful
write. The table's stream is the backstop (`stale_keys_of_records`): it catches writes made elsewhere
and a reader that refilled an entry from a read that raced the write."""
from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping

from ..adapters.dynamo import keys as dynamo_keys
from ..adapters.dynamo.stream import item_key
from ..domain.changes import CaseChange
from . import Cache

StaleKeys = Callable[..., Iterable[str]]

PERSONNEL_DIRECTORY = "personnel:directory"


def case_key(case_id: str) -> str:
    return f"case:{case_id}"


def person_key(username: str) -> str:
    return f"personnel:person:{username}"


def current_case_type_key(case_type_id: str) -> str:
    """Which version of the type is current (services/case_types.py)."""
    return f"casetype:current:{case_type_id}"


class InvalidatingStore:
    """Passes every call to `store`; after a write named in `writes` returns, deletes the keys the
    matching function names for that call's arguments. A write that raises changed nothing: no delete."""

    def __init__(self, store: Any, cache: Cache, writes: Mapping[str, StaleKeys]) -> None:
        self._store, self._cache, self._writes = store, cache, writes

    @property
    def wrapped(self) -> Any:
        return self._store

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._store, name)
        stale_keys = self._writes.get(name)
        if stale_keys is None:
            return attribute

        def write(*args: Any, **kwargs: Any) -> Any:
            result = attribute(*args, **kwargs)
            self._cache.delete(*stale_keys(*args, **kwargs))
            return result

        return write


def _change(change: CaseChange) -> list[str]:
    """A change moves the case's audit head and, through open-task counters, personnel entries. A new case
    was in no cache (and a delete would hold off the first reader's fill)."""
    if change.new:
        return []
    people = [person_key(load.username) for load in change.load_changes]
    return [case_key(change.case_id), *people, *([PERSONNEL_DIRECTORY] if people else [])]


# Every store method that writes a case item or a person item, and what it leaves stale.
CASE_WRITES: dict[str, StaleKeys] = {"apply": _change}
WORK_WRITES: dict[str, StaleKeys] = {
    "save_person": lambda person, *_, **__: [person_key(person.username), PERSONNEL_DIRECTORY],
}


def stale_keys_of_records(records: Iterable[Mapping[str, Any]]) -> list[str]:
    """The keys that DynamoDB stream records (inserts, changes, removals) of cases, people and case types' heads
    leave stale."""
    keys: list[str] = []
    for record in records:
        pk, sk = item_key(record)
        case_id, username = dynamo_keys.case_id_of(pk), dynamo_keys.username_of(pk)
        if sk == dynamo_keys.CASE_SK and case_id is not None:
            keys.append(case_key(case_id))
        elif sk == dynamo_keys.PERSON_SK and username is not None:
            keys += [person_key(username), PERSONNEL_DIRECTORY]
        elif pk == dynamo_keys.CASE_TYPES_KEY and (case_type_id := dynamo_keys.case_type_id_of(sk)) is not None:
            keys.append(current_case_type_key(case_type_id))
    return list(dict.fromkeys(keys))
