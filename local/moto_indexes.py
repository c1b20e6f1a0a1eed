"""Queries and scans of moto's DynamoDB tables that read only what they return (moto 5.2.5, pinned).

moto's `Table.query` sorts every item of the table (`all_items()`), then keeps the partition asked for;
on an index it also re-sorts, and a page after `ExclusiveStartKey` walks from the partition's first item.
A paginated `Scan` sorts the whole table again for every page. Every request thus costs the table's size.

Here each table keeps, per index (and for the table itself, by partition, and for scans, as one run), its
items in moto's own sort order, maintained on every write (`Table.put_item` / `delete_item`, which also
carry batch writes, PartiQL and imports; `update_item`, which changes an item in place; transaction
rollbacks, local/moto_transactions.py). Built on the first query of a table, so tables restored from a
backup or snapshot need nothing else. A query then finds its partition, bisects to the item after
`ExclusiveStartKey`, and hands moto's own `Table.query` only the items its loop will read: the rest of
moto's code (limits, 1 MB pages, range comparison, filters, projection, LastEvaluatedKey, errors) runs
unchanged, and copies only what it returns. Whatever this module does not recognise (multi-attribute keys,
an index without a sort key, `QueryFilter`, a malformed start key, a consistent read of a GSI) goes to
moto's code as it is, and so does every table marked with `use_moto_as_is` (the differential test's
reference). tests/integration/test_moto_speedups.py compares both on random workloads."""
from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from operator import itemgetter
from typing import Any, Callable, Iterable, Iterator, Optional

from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import RESULT_SIZE_LIMIT, Table

from .bulk import no_collection

MAX_ITEM_BYTES = 405_000  # moto's LimitedSizeDict refuses larger items
TABLE_ORDER, SCAN_ORDER = "\0table", "\0scan"  # not valid index names

SortKey = tuple[DynamoType, ...]
TableKey = tuple[DynamoType, Optional[DynamoType]]

ORIGINAL: dict[str, Callable[..., Any]] = {}
_serving = threading.local()  # the items `all_items()` returns while moto's query/scan runs on them


def use_moto_as_is(table: Table) -> None:
    """Serve this table with moto's own code only (its transactions too, via its backend's tables)."""
    table.local_moto_as_is = True


def _as_is(table: Table) -> bool:
    return bool(getattr(table, "local_moto_as_is", False))


class SortedRun:
    """Items in moto's order, each under the key it had when it was placed: the key holds the item's own key
    values (DynamoType objects). moto 5.2.5 never changes a DynamoType's type or value once made: an update puts a
    new value into `item.attrs` (and only lists, maps and sets are changed inside), so an item changed in place by
    `update_item` is still found under the key it was filed with. A copy of each value cost ~100 bytes per key
    attribute per index per item (issue 13)."""

    def __init__(self) -> None:
        self.keys: list[SortKey] = []
        self.items: list[Item] = []

    def insert(self, key: SortKey, item: Item) -> None:
        at = bisect_right(self.keys, key)
        self.keys.insert(at, key)
        self.items.insert(at, item)

    def remove(self, key: SortKey) -> None:
        at = bisect_left(self.keys, key)  # keys are unique: they end with the table's key
        if at < len(self.keys) and self.keys[at] == key:
            del self.keys[at], self.items[at]


class KeyOrder:
    """One index (or the table): its partitions, each a SortedRun ordered by `sort_attrs` as moto sorts."""

    def __init__(self, hash_attr: Optional[str], required: tuple[str, ...], sort_attrs: tuple[str, ...]) -> None:
        self.hash_attr, self.required, self.sort_attrs = hash_attr, required, sort_attrs
        self.partitions: dict[Optional[DynamoType], SortedRun] = {}
        self.placed: dict[TableKey, tuple[Optional[DynamoType], SortKey]] = {}

    def place(self, table_key: TableKey, item: Optional[Item]) -> None:
        old = self.placed.pop(table_key, None)
        if old is not None:
            run = self.partitions[old[0]]
            run.remove(old[1])
            if not run.keys:
                del self.partitions[old[0]]
        position = self._position(item) if item is not None else None
        if position is None:
            return  # deleted, or not in this (sparse) index
        partition, key = position
        self.partitions.setdefault(partition, SortedRun()).insert(key, item)
        self.placed[table_key] = position

    def _position(self, item: Item) -> Optional[tuple[Optional[DynamoType], SortKey]]:
        """The item's partition and sort key in this order; None when it lacks a key attribute (a sparse index)."""
        if any(name not in item.attrs for name in self.required):
            return None
        attrs = item.attrs
        return attrs[self.hash_attr] if self.hash_attr else None, tuple(attrs[name] for name in self.sort_attrs)

    def fill(self, items: Iterable[Item]) -> None:
        """A new order's items all at once: each partition sorted once, by its key values as moto compares them
        (`cast_value`; a key attribute has one type), not one insertion each. After a restore of 85,000 items, the
        insertions (each a Python comparison per bisection step and a shift of the run) took seconds per order."""
        grouped: dict[Optional[DynamoType], list[tuple[tuple[Any, ...], SortKey, Item]]] = {}
        for item in items:
            position = self._position(item)
            if position is None:
                continue
            partition, key = position
            grouped.setdefault(partition, []).append((tuple(map(_sortable, key)), key, item))
            self.placed[(item.hash_key, item.range_key)] = position
        for partition, entries in grouped.items():
            entries.sort(key=itemgetter(0))
            run = self.partitions[partition] = SortedRun()
            run.keys = [key for _, key, _ in entries]
            run.items = [item for _, _, item in entries]


def _sortable(value: DynamoType) -> Any:
    """What moto's DynamoType compares (its `cast_value`), for a string without the property's type tests."""
    return value.value if value.type == "S" else value.cast_value


def _every_item(table: Table) -> Iterator[Item]:
    for partition in table.items.values():
        if table.range_key_attr is None:
            yield partition
        else:
            yield from partition.values()


def _order(table: Table, name: str, hash_attr: Optional[str], required: tuple[str, ...],
           sort_attrs: tuple[str, ...]) -> KeyOrder:
    orders: dict[tuple[Any, ...], KeyOrder] = table.__dict__.setdefault("local_key_orders", {})
    spec = (name, hash_attr, required, sort_attrs)
    order = orders.get(spec)
    if order is None:
        order = KeyOrder(hash_attr, required, sort_attrs)
        with no_collection():
            order.fill(_every_item(table))
        orders[spec] = order
    return order


def forget_orders(table: Table) -> None:
    """After items were put into `table.items` directly: the orders are built again on the next read."""
    table.__dict__.pop("local_key_orders", None)


def current_item(table: Table, hash_key: DynamoType, range_key: Optional[DynamoType]) -> Optional[Item]:
    partition = table.items.get(hash_key)  # .get: moto's defaultdict would add an empty partition
    if partition is None or table.range_key_attr is None:
        return partition
    return partition.get(range_key)


def refile(table: Table, hash_key: DynamoType, range_key: Optional[DynamoType]) -> None:
    """After a write of this key: file the item as it is now (or drop it) in every order the table keeps."""
    orders: dict[tuple[Any, ...], KeyOrder] = table.__dict__.get("local_key_orders") or {}
    item = current_item(table, hash_key, range_key)
    for spec, order in list(orders.items()):
        try:
            order.place((hash_key, range_key), item)
        except Exception:  # noqa: BLE001 - never raise into moto's write: moto's own code serves this order now
            del orders[spec]


# -- the write paths ------------------------------------------------------------------------------

def _put_item(self: Table, item_attrs: dict[str, Any], *args: Any, **kwargs: Any) -> Item:
    item = ORIGINAL["Table.put_item"](self, item_attrs, *args, **kwargs)
    refile(self, item.hash_key, item.range_key)
    return item


def _delete_item(self: Table, hash_key: DynamoType, range_key: Optional[DynamoType]) -> Optional[Item]:
    item = ORIGINAL["Table.delete_item"](self, hash_key, range_key)
    if item is not None:
        refile(self, hash_key, range_key)
    return item


def _update_item(self: DynamoDBBackend, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any) -> Item:
    try:
        return ORIGINAL["DynamoDBBackend.update_item"](self, table_name, key, *args, **kwargs)
    finally:  # also after a failure: moto may have created or changed the item before it raised
        table = self.tables.get(table_name)
        if table is not None and table.hash_key_attr in key:
            range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr in key else None
            refile(table, DynamoType(key[table.hash_key_attr]), range_key)


# -- the read paths -------------------------------------------------------------------------------

def _all_items(self: Table) -> list[Item]:
    served = getattr(_serving, "window", None)
    if served is not None and served[0] is self:
        return list(served[1])
    return ORIGINAL["Table.all_items"](self)


def _run_on(table: Table, window: list[Item], call: Callable[[], Any]) -> Any:
    _serving.window = (table, window)
    try:
        return call()
    finally:
        _serving.window = None


def _query(self: Table, hash_key: Optional[DynamoType], range_comparison: Optional[str], range_objs: list[DynamoType],
           limit: Optional[int], exclusive_start_key: Optional[dict[str, Any]], scan_index_forward: bool,
           projection_expressions: Any, index_name: Optional[str] = None, consistent_read: bool = False,
           filter_expression: Any = None, hash_key_conditions: Any = None, range_key_conditions: Any = None,
           **filter_kwargs: Any) -> Any:
    original = ORIGINAL["Table.query"]
    window = None
    if not filter_kwargs and not _as_is(self):
        try:
            window = _query_window(self, hash_key, range_comparison, range_objs, limit, exclusive_start_key,
                                   scan_index_forward, index_name, consistent_read, hash_key_conditions,
                                   range_key_conditions)
        except Exception:  # noqa: BLE001 - anything unusual: moto's own code gives its answer (or its error)
            window = None
    if window is None:
        return original(self, hash_key, range_comparison, range_objs, limit, exclusive_start_key,
                        scan_index_forward, projection_expressions, index_name, consistent_read, filter_expression,
                        hash_key_conditions=hash_key_conditions, range_key_conditions=range_key_conditions,
                        **filter_kwargs)
    # The window starts after the start key: moto needs no start key to skip to it.
    return _run_on(self, window, lambda: original(
        self, hash_key, range_comparison, range_objs, limit, None, scan_index_forward, projection_expressions,
        index_name, consistent_read, filter_expression, hash_key_conditions=hash_key_conditions,
        range_key_conditions=range_key_conditions,
    ))


def _query_window(table: Table, hash_key: Optional[DynamoType], range_comparison: Optional[str],
                  range_objs: list[DynamoType], limit: Optional[int], exclusive_start_key: Optional[dict[str, Any]],
                  forward: bool, index_name: Optional[str], consistent_read: bool, hash_key_conditions: Any,
                  range_key_conditions: Any) -> Optional[list[Item]]:
    """The items moto's query loop would read, in ascending order; None when moto's own code must answer."""
    if index_name:
        index = next((i for i in table.all_indexes() if i.name == index_name), None)
        if index is None or (consistent_read and index in table.global_indexes):
            return None  # moto's code raises the ValidationException
        hashes = [k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"]
        ranges = [k["AttributeName"] for k in index.schema if k["KeyType"] == "RANGE"]
        if len(hashes) != 1 or len(ranges) != 1:
            return None
        hash_attr, range_attr = hashes[0], ranges[0]
        conditions = hash_key_conditions or []
        if len(conditions) != 1 or conditions[0][0] != hash_attr:
            return None
        partition_key = conditions[0][1]
        sort_attrs = table._generate_attr_to_sort_by([hash_attr, table.hash_key_attr],
                                                     [range_attr, table.range_key_attr])
        order = _order(table, index_name, hash_attr, (hash_attr, range_attr), tuple(sort_attrs))
    else:
        hash_attr, range_attr = table.hash_key_attr, table.range_key_attr
        if hash_key is None:
            return None
        partition_key = hash_key
        sort_attrs = table._generate_attr_to_sort_by([hash_attr], [range_attr])
        order = _order(table, TABLE_ORDER, hash_attr, (), tuple(sort_attrs))
    ranged = list(range_key_conditions or [])
    if len(ranged) > 1 or (ranged and ranged[0][0] != range_attr) or (range_comparison and range_attr is None):
        return None
    run = order.partitions.get(partition_key)
    if run is None:
        return []
    ahead = _ahead(run, exclusive_start_key, sort_attrs, forward)
    window: Optional[list[Item]]
    if not range_comparison:
        window = _first(ahead, None if limit is None else limit + 1)
    else:
        window = _key_range(ahead, range_attr, range_comparison, range_objs, limit)
        if window is None:
            window = list(_ahead(run, exclusive_start_key, sort_attrs, forward))
    return window if forward else window[::-1]


def _ahead(run: SortedRun, start_key: Optional[dict[str, Any]], sort_attrs: list[str], forward: bool) -> Iterator[Item]:
    """The run's items after the start key, in the query's direction."""
    if forward:
        at = 0 if start_key is None else bisect_right(run.keys, _start(start_key, sort_attrs))
        return iter(run.items[at:])
    at = len(run.keys) if start_key is None else bisect_left(run.keys, _start(start_key, sort_attrs))
    return (run.items[i] for i in range(at - 1, -1, -1))


def _start(start_key: dict[str, Any], sort_attrs: list[str]) -> SortKey:
    return tuple(DynamoType(start_key[name]) for name in sort_attrs)


def _first(items: Iterator[Item], count: Optional[int]) -> list[Item]:
    if count is None:
        return list(items)
    taken: list[Item] = []
    for item in items:
        if len(taken) == count:
            break
        taken.append(item)
    return taken


def _key_range(ahead: Iterator[Item], attr: str, comparison: str, values: list[DynamoType],
               limit: Optional[int]) -> Optional[list[Item]]:
    """The items matching the sort key condition (contiguous in key order) up to limit + 1, and the first
    one after them: moto's loop reads no further, except that it sets LastEvaluatedKey when a later item
    would overflow 1 MB; None when the matches come near that (then moto's code gets every item ahead)."""
    matches: list[Item] = []
    for item in ahead:
        value = item.attrs.get(attr)
        if value is not None and value.compare(comparison, values):
            matches.append(item)
            if limit is not None and len(matches) > limit:
                break
        elif matches:
            matches.append(item)  # the first item past the range: decides LastEvaluatedKey at the limit
            break
    kept = matches if limit is None else matches[:limit]
    if sum(item.size() for item in kept) + MAX_ITEM_BYTES > RESULT_SIZE_LIMIT:
        return None
    return matches


def _scan(self: Table, filters: dict[str, Any], limit: Optional[int], exclusive_start_key: Optional[dict[str, Any]],
          filter_expression: Any = None, index_name: Optional[str] = None, consistent_read: bool = False,
          projection_expression: Any = None, segments: Any = (None, None)) -> Any:
    original = ORIGINAL["Table.scan"]
    window = None
    if index_name is None and not _as_is(self):
        try:
            sort_attrs = self._generate_attr_to_sort_by([self.hash_key_attr], [self.range_key_attr])
            run = _order(self, SCAN_ORDER, None, (), tuple(sort_attrs)).partitions.get(None) or SortedRun()
            ahead = _ahead(run, exclusive_start_key, sort_attrs, True)
            # Filters and segments skip items without counting them: moto's loop may read past limit + 1.
            plain = not filters and tuple(segments) == (None, None)
            window = _first(ahead, None if limit is None or not plain else limit + 1)
        except Exception:  # noqa: BLE001 - anything unusual: moto's own code gives its answer (or its error)
            window = None
    if window is None:
        return original(self, filters, limit, exclusive_start_key, filter_expression, index_name, consistent_read,
                        projection_expression, segments=segments)
    return _run_on(self, window, lambda: original(
        self, filters, limit, None, filter_expression, index_name, consistent_read, projection_expression,
        segments=segments,
    ))


PATCHES: dict[str, tuple[Any, str, Callable[..., Any]]] = {
    "Table.put_item": (Table, "put_item", _put_item),
    "Table.delete_item": (Table, "delete_item", _delete_item),
    "Table.all_items": (Table, "all_items", _all_items),
    "Table.query": (Table, "query", _query),
    "Table.scan": (Table, "scan", _scan),
    "DynamoDBBackend.update_item": (DynamoDBBackend, "update_item", _update_item),
}
