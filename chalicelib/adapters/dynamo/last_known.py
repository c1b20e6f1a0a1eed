"""Last known customer records, one per (customer, data product), so a product that is down can still be
shown with its last answer, marked stale. On the cases table: `CUSTOMER#<id>` / `SOURCE#<product>`.

A record is written only when it is newer than the one kept (a conditional put decides between racing
writers), and a container remembers what it wrote, so unchanged data costs no write."""
from __future__ import annotations

import threading
from collections import OrderedDict

from pynamodb.exceptions import PutError

from ...domain.customers import SourceRecord, iso, parse_time
from . import keys
from .models import TableModels

_REMEMBERED = 10_000  # (customer, product) pairs a container remembers having written


class _WrittenMemo:
    """The as_of last written per (customer, product) by this container, bounded."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._written: OrderedDict[tuple[str, str], str] = OrderedDict()

    def is_news(self, key: tuple[str, str], as_of: str) -> bool:
        with self._lock:
            return self._written.get(key, "") < as_of

    def remember(self, key: tuple[str, str], as_of: str) -> None:
        with self._lock:
            self._written[key] = as_of
            self._written.move_to_end(key)
            if len(self._written) > _REMEMBERED:
                self._written.popitem(last=False)


class DynamoLastKnownStore:
    def __init__(self, models: TableModels) -> None:
        self._item = models.last_known
        self._memo = _WrittenMemo()

    def load(self, customer_id: str) -> dict[str, SourceRecord]:
        item = self._item
        records = {}
        for row in item.query(keys.customer_pk(customer_id), item.sk.startswith(keys.SOURCE_PREFIX)):
            as_of = parse_time(row.as_of)
            if as_of is not None:
                records[row.sk.removeprefix(keys.SOURCE_PREFIX)] = SourceRecord(fields=dict(row.fields), as_of=as_of)
        return records

    def save(self, customer_id: str, product: str, record: SourceRecord) -> None:
        as_of, key = iso(record.as_of), (customer_id, product)
        if not self._memo.is_news(key, as_of):
            return
        item = self._item
        row = item(keys.customer_pk(customer_id), keys.source_sk(product), fields=record.fields, as_of=as_of)
        try:
            row.save(condition=item.pk.does_not_exist() | (item.as_of < as_of))
        except PutError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise
        self._memo.remember(key, as_of)
