"""Pages of the keyed lists, shared by both stores: every listing but `GET /cases` (case_listing.py) reads one
partition of the table or of its `inbox` index, the items whose sort key starts with a prefix, in sort key order.

A page reads at most `limit + 1` items after its resume key (on DynamoDB one Query with Limit and
ExclusiveStartKey), returns `limit` of them and resumes after the last one returned: the extra item only tells
whether there is more, so the last page has no resume key. A store brings one `Read` (its query); the pages are
cut here, so both stores cut them alike.

A resume key names the last item returned by its key attributes (the table's PK and SK, and in the index its
inboxPk and inboxSk too) as plain strings. It comes back from a client inside a cursor, so it is checked before
anything is read: exactly those attributes, the list's own partition, a sort key of the list."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Generic, Iterable, Optional, Sequence, TypeVar

from ..ports import InvalidStartKey, StartKey

T = TypeVar("T")
Position = dict[str, str]  # the key attributes of an item, by attribute name
TABLE_KEYS = ("PK", "SK")
INDEX_KEYS = ("inboxPk", "inboxSk")
LISTS_PER_PAGE = 4  # a chained page (one list after another) reads at most this many lists
_MAX_KEY_CHARS = 1024  # DynamoDB's longest sort key, in bytes


@dataclass(frozen=True)
class KeyedList(Generic[T]):
    partition: str  # the value of the partition key
    prefix: str  # every sort key of the list starts so
    key_of: Callable[[T], Position]  # an item's key attributes
    in_index: bool = False  # a partition of the `inbox` index, not of the table

    @property
    def hash_name(self) -> str:
        return INDEX_KEYS[0] if self.in_index else TABLE_KEYS[0]

    @property
    def range_name(self) -> str:
        return INDEX_KEYS[1] if self.in_index else TABLE_KEYS[1]

    def sort_key(self, item: T) -> tuple[str, ...]:
        """The item's place in the list: in the index, ties fall back on the table's keys, as in DynamoDB."""
        key = self.key_of(item)
        return (key[self.range_name], key["PK"], key["SK"])

    def holds(self, item: T) -> bool:
        key = self.key_of(item)
        return key.get(self.hash_name) == self.partition and key.get(self.range_name, "").startswith(self.prefix)

    def position(self, start_key: Any) -> Optional[Position]:
        """The item a resume key names; InvalidStartKey unless it is a position in this list."""
        if start_key is None:
            return None
        names = set(TABLE_KEYS) | (set(INDEX_KEYS) if self.in_index else set())
        if not isinstance(start_key, dict) or set(start_key) != names:
            raise InvalidStartKey()
        if not all(isinstance(v, str) and 0 < len(v) <= _MAX_KEY_CHARS for v in start_key.values()):
            raise InvalidStartKey()
        if start_key[self.hash_name] != self.partition or not start_key[self.range_name].startswith(self.prefix):
            raise InvalidStartKey()
        return dict(start_key)


# A store's query: up to `count` items of the list after `after` (from its start when None), in list order.
Read = Callable[[KeyedList[T], int, Optional[Position]], list[T]]


def page(read: Read[T], keyed: KeyedList[T], limit: int, start_key: StartKey) -> tuple[list[T], StartKey]:
    found = read(keyed, limit + 1, keyed.position(start_key))
    if len(found) > limit:
        return found[:limit], keyed.key_of(found[limit - 1])
    return found, None


def merged_page(
    read: Read[T], lists: Sequence[KeyedList[T]], limit: int, start_key: StartKey,
) -> tuple[list[T], StartKey]:
    """One page of several lists merged by sort key (e.g. a person's inbox and their role's queue). The resume
    key holds each list's position (`at`) and the lists read to their end (`done`)."""
    at, done = _merged_start(lists, start_key)
    found = {i: read(lists[i], limit + 1, at[i]) for i in range(len(lists)) if i not in done}
    merged = sorted(
        ((lists[i].sort_key(item), i, item) for i, items in found.items() for item in items),
        key=lambda entry: (entry[0], entry[1]),
    )[:limit]
    for i, items in found.items():
        taken = [item for _, source, item in merged if source == i]
        if taken:
            at[i] = lists[i].key_of(taken[-1])
        if len(taken) == len(items):  # it had no more than it gave: read to its end
            done.add(i)
    if len(done) == len(lists):
        return [item for _, _, item in merged], None
    return [item for _, _, item in merged], {"at": at, "done": sorted(done)}


def chained_page(
    read: Read[T], lists: Sequence[KeyedList[T]], limit: int, start_key: StartKey,
) -> tuple[list[T], StartKey]:
    """One page of several lists read one after another (e.g. a directory, team by team). The resume key names
    the list to resume in by its partition (`list`) and the position in it (`at`, null: from its start)."""
    first, at = _chained_start(lists, start_key)
    items: list[T] = []
    for i in range(first, min(first + LISTS_PER_PAGE, len(lists))):
        keyed = lists[i]
        if len(items) == limit:
            return items, {"list": keyed.partition, "at": None}
        found = read(keyed, limit - len(items) + 1, at)
        if len(items) + len(found) > limit:
            items += found[: limit - len(items)]
            return items, {"list": keyed.partition, "at": keyed.key_of(items[-1])}
        items += found
        at = None
    following = first + LISTS_PER_PAGE
    return items, ({"list": lists[following].partition, "at": None} if following < len(lists) else None)


def in_memory(items: Iterable[T]) -> Read[T]:
    """The query of a store that keeps its items in memory: the list's items, in list order, after a position."""
    candidates = list(items)

    def read(keyed: KeyedList[T], count: int, after: Optional[Position]) -> list[T]:
        listed = sorted((item for item in candidates if keyed.holds(item)), key=keyed.sort_key)
        if after is not None:
            bound = (after[keyed.range_name], after["PK"], after["SK"])
            listed = [item for item in listed if keyed.sort_key(item) > bound]
        return listed[:count]

    return read


def _merged_start(lists: Sequence[KeyedList[T]], start_key: StartKey) -> tuple[list[Optional[Position]], set[int]]:
    if start_key is None:
        return [None] * len(lists), set()
    if not isinstance(start_key, dict) or set(start_key) != {"at", "done"}:
        raise InvalidStartKey()
    at, done = start_key["at"], start_key["done"]
    if not isinstance(at, list) or len(at) != len(lists) or not isinstance(done, list):
        raise InvalidStartKey()
    if not all(type(i) is int and 0 <= i < len(lists) for i in done) or len(set(done)) != len(done):
        raise InvalidStartKey()
    if len(done) == len(lists):
        raise InvalidStartKey()
    return [keyed.position(position) for keyed, position in zip(lists, at)], set(done)


def _chained_start(lists: Sequence[KeyedList[T]], start_key: StartKey) -> tuple[int, Optional[Position]]:
    if start_key is None:
        return 0, None
    if not isinstance(start_key, dict) or set(start_key) != {"list", "at"}:
        raise InvalidStartKey()
    index = next((i for i, keyed in enumerate(lists) if keyed.partition == start_key["list"]), None)
    if index is None:
        raise InvalidStartKey()
    return index, lists[index].position(start_key["at"])
