"""The table's query for the keyed lists (adapters/keyed_pages.py cuts the pages): one Query of a partition,
Limit items after ExclusiveStartKey."""
from __future__ import annotations

from typing import Any, Callable, Optional, TypeVar

from ..keyed_pages import KeyedList, Position, Read
from .errors import translated

T = TypeVar("T")


def reader(model: Any, convert: Callable[[Any], T], consistent_read: bool = False) -> Read[T]:
    """Queries of `model`'s items (in the table, or in the `inbox` index for a list there). `consistent_read`
    for lists a writer reads back (the index cannot give it)."""

    def read(keyed: KeyedList[T], count: int, after: Optional[Position]) -> list[T]:
        index, sort_key = (model.inbox, model.inbox_sk) if keyed.in_index else (model, model.sk)
        options = {} if keyed.in_index else {"consistent_read": consistent_read}
        start = None if after is None else {name: {"S": value} for name, value in after.items()}
        with translated():
            items = index.query(
                keyed.partition, sort_key.startswith(keyed.prefix), limit=count, page_size=count,
                last_evaluated_key=start, **options,
            )
            return [convert(item) for item in items]

    return read
