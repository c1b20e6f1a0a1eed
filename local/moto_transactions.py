"""TransactWriteItems that undoes only what it touched (moto 5.2.5, pinned).

moto's `DynamoDBBackend.transact_write_items` deep-copies every table a transaction names, once per item
of the transaction, before it starts, so that a cancelled transaction can put the copies back: a 3-item
transaction on a 50,000-item table copied 150,000 items. Here each item keeps an undo record (a copy of
the item as it was, or "absent") taken just before its operation runs; a cancelled transaction restores
those items and nothing else. The operations themselves are moto's, in moto's order, with moto's errors.

Stream records: moto sends each operation's record while the transaction runs, so a cancelled
transaction's earlier operations reached the stream's Lambda functions (then moto's rollback dropped the
copies' records). Here the records are held until the transaction commits and then sent in order, as on
AWS, where a cancelled transaction leaves no stream record."""
from __future__ import annotations

import copy
from contextlib import contextmanager
from typing import Any, Iterator, Optional

from moto.dynamodb.exceptions import (
    MockValidationException,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import StreamShard, Table
from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import ConditionalCheckFailed

from .moto_indexes import ORIGINAL, refile

Undo = tuple[Table, DynamoType, Optional[DynamoType], Optional[Item]]


def _transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    named = {op.get("TableName") for item in transact_items for op in item.values() if isinstance(op, dict)}
    tables = [self.tables[name] for name in named if name in self.tables]
    if any(getattr(table, "local_moto_as_is", False) for table in tables):
        return ORIGINAL["DynamoDBBackend.transact_write_items"](self, transact_items)
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    undo: list[Undo] = []
    with _held_stream_records(tables) as held:
        try:
            _run(self, transact_items, undo)
        except BaseException:
            _roll_back(undo)
            held.clear()
            raise
    for shard, old, new in held:
        shard.add(old, new)


def _run(self: DynamoDBBackend, transact_items: list[dict[str, Any]], undo: list[Undo]) -> None:
    """moto's loop, with an undo record before each operation instead of table copies before all of them."""
    target_items: set[tuple[str, str]] = set()

    def check_unicity(table_name: str, key: dict[str, Any]) -> None:
        item = (str(table_name), str(dict(sorted(key.items()))))
        if item in target_items:
            raise MultipleTransactionsException()
        target_items.add(item)

    errors: list[tuple[str, str, dict[str, Any]] | tuple[None, None, None]] = []
    for item in transact_items:
        original_item: Optional[dict[str, Any]] = None
        if len(list(item.keys())) > 1:
            raise TransactWriteSingleOpException
        try:
            op_type, op = next(iter(item.items()))
            if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                raise ValueError("Unsupported transaction operation")
            table_name = op["TableName"]
            condition_expression = op.get("ConditionExpression")
            expression_attribute_names = op.get("ExpressionAttributeNames")
            expression_attribute_values = op.get("ExpressionAttributeValues")
            return_values_on_condition_check_failure = op.get("ReturnValuesOnConditionCheckFailure")
            if op_type == "Put":
                attrs = op["Item"]
                table = self.get_table(table_name)
                key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = attrs[table.range_key_attr]
            else:
                key = op["Key"]
            check_unicity(table_name, key)
            if op_type != "ConditionCheck":
                undo.append(_undo_record(self, table_name, key))  # raises what moto's get_item below would
            current = self.get_item(table_name, key)
            if condition_expression is not None:
                condition_op = get_filter_expression(
                    condition_expression, expression_attribute_names, expression_attribute_values,
                )
                if not condition_op.expr(current):
                    if return_values_on_condition_check_failure == "ALL_OLD" and current:
                        original_item = current.to_json()["Attributes"]
                    raise ConditionalCheckFailed(item=original_item)
            if op_type == "Put":
                self.put_item(
                    table_name, op["Item"], condition_expression=condition_expression,
                    expression_attribute_names=expression_attribute_names,
                    expression_attribute_values=expression_attribute_values,
                )
            elif op_type == "Delete":
                self.delete_item(
                    table_name, key, condition_expression=condition_expression,
                    expression_attribute_names=expression_attribute_names,
                    expression_attribute_values=expression_attribute_values,
                )
            elif op_type == "Update":
                self.update_item(
                    table_name, key, update_expression=op["UpdateExpression"],
                    condition_expression=condition_expression,
                    expression_attribute_names=expression_attribute_names,
                    expression_attribute_values=expression_attribute_values,
                )
            errors.append((None, None, None))
        except (MultipleTransactionsException, MockValidationException):
            raise
        except ConditionalCheckFailed as e:
            errors.append(("ConditionalCheckFailed", str(e.message), original_item))  # type: ignore[arg-type]
        except Exception as e:  # noqa: BLE001 — moto reports any other failure as the item's cancellation reason
            errors.append((type(e).__name__, str(e), original_item))  # type: ignore[arg-type]
    if any(code is not None for code, _, _ in errors):
        raise TransactionCanceledException(errors)


def _undo_record(backend: DynamoDBBackend, table_name: str, key: dict[str, Any]) -> Undo:
    table = backend.get_table(table_name)
    hash_key, range_key = backend.get_keys_value(table, key)
    before = table.get_item(hash_key, range_key)
    return table, hash_key, range_key, copy.deepcopy(before) if before is not None else None


def _roll_back(undo: list[Undo]) -> None:
    for table, hash_key, range_key, before in reversed(undo):
        if table.range_key_attr is None:
            if before is None:
                table.items.pop(hash_key, None)
            else:
                table.items[hash_key] = before
        elif before is None:
            table.items.get(hash_key, {}).pop(range_key, None)
        else:
            table.items[hash_key][range_key] = before
        refile(table, hash_key, range_key)


@contextmanager
def _held_stream_records(tables: list[Table]) -> Iterator[list[tuple[StreamShard, Any, Any]]]:
    """While the transaction runs, the tables' stream shards collect (old, new) instead of sending records."""
    held: list[tuple[StreamShard, Any, Any]] = []
    shards = [table.stream_shard for table in tables if table.stream_shard is not None]
    for shard in shards:
        shard.add = lambda old, new, shard=shard: held.append((shard, old, new))
    try:
        yield held
    finally:
        for shard in shards:
            del shard.add  # the class's method again


PATCHES: dict[str, tuple[Any, str, Any]] = {
    "DynamoDBBackend.transact_write_items": (DynamoDBBackend, "transact_write_items", _transact_write_items),
}
