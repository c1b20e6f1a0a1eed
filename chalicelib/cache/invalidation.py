"""Which cache entries a write makes stale, and a store wrapper that deletes them after each successful
write. The table's stream is the backstop (`stale_keys_of_records`): it catches writes made elsewhere
and a reader that refilled an entry from a read that raced the write."""
from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping

from ..domain.approvals import CaseWrite
from . import Cache

StaleKeys = Callable[..., Iterable[str]]

PERSONNEL_DIRECTORY = "personnel:directory"


def case_key(case_id: str) -> str:
    return f"case:{case_id}"


def person_key(username: str) -> str:
    return f"personnel:person:{username}"


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


def _case_write(*args: Any, **kwargs: Any) -> list[str]:
    """Approval and compensation writes carry the case's new state as a CaseWrite argument."""
    write = next(arg for arg in (*args, *kwargs.values()) if isinstance(arg, CaseWrite))
    return [case_key(write.case.id)]


def _task_change(change: Any) -> list[str]:
    """A task change moves the case's audit head and, through open-task counters, personnel entries."""
    people = [person_key(load.username) for load in change.loads]
    return [case_key(change.case_id), *people, *([PERSONNEL_DIRECTORY] if people else [])]


# Every store method that writes a case item or a person item, and what it leaves stale.
CASE_WRITES: dict[str, StaleKeys] = {
    "save_case": lambda case, *_, **__: [case_key(case.id)],
    "add_comment": lambda comment, *_, **__: [case_key(comment.case_id)],
}
WORK_WRITES: dict[str, StaleKeys] = {
    "apply": _task_change,
    "save_person": lambda person, *_, **__: [person_key(person.username), PERSONNEL_DIRECTORY],
}
DECISION_WRITES: dict[str, StaleKeys] = {
    name: _case_write for name in ("add_approval", "update_approval", "add_compensation", "update_compensation")
}
DOCUMENT_WRITES: dict[str, StaleKeys] = {"apply": lambda change, *_, **__: [case_key(change.case_id)]}


def stale_keys_of_records(records: Iterable[Mapping[str, Any]]) -> list[str]:
    """The keys that DynamoDB stream records (inserts, changes, removals) of cases and people leave stale."""
    keys: list[str] = []
    for record in records:
        item_keys = record.get("dynamodb", {}).get("Keys", {})
        pk, sk = item_keys.get("PK", {}).get("S", ""), item_keys.get("SK", {}).get("S", "")
        if sk == "CASE" and pk.startswith("CASE#"):
            keys.append(case_key(pk.removeprefix("CASE#")))
        elif sk == "PERSON" and pk.startswith("PERSON#"):
            keys += [person_key(pk.removeprefix("PERSON#")), PERSONNEL_DIRECTORY]
    return list(dict.fromkeys(keys))
