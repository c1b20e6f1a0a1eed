"""moto's DynamoDB items built with one size check, and condition expressions parsed once (moto 5.2.5, pinned).

Item: moto's `Item.__init__` puts each attribute into a `LimitedSizeDict`, whose `__setitem__` sums the sizes
of every attribute already there to refuse an item over 405,000 bytes: O(attributes²) size walks per item
(11 attributes an item on average here, maps recursed), ~29% of the local system's TransactWriteItems
CPU. Sizes are not negative, so the last of those checks is the only one that can fail: here the attributes
are converted as moto does, their sizes summed once, and the same ItemSizeTooLarge raised when the sum is over.
Later writes to `item.attrs` (update expressions) still go through moto's `LimitedSizeDict.__setitem__`.
The attribute names, and the string and number values of up to SHARED_VALUE_LENGTH characters, are interned:
each request's JSON gave every item its own copy of each (~60 bytes a string, kept for as long as the item). Here
a case's 19 items hold ~150 names (56 distinct in the whole table) and ~140 such values, ~95 of them equal to a
value already held (a status, a team, the case's own key): ~14 KB a case, less ~1.5 KB for the interned
table's entries of the values held once (issue 13). Equal strings compare, hash and serialise the same
whichever copy a value holds.

Conditions: moto parses a ConditionExpression three times per transaction item (the request's validation,
the transaction's check, `Table.put_item`'s check), each a lexer and seven passes in Python. The parse of an
(expression, names, values) triple is kept, with what the parser found on the way (the names and values the
request's validation checks were used): its tree holds no per-evaluation state, so one tree serves every
evaluation. A parse that raises is not kept (it raises again next time)."""
from __future__ import annotations

import json
import threading
from collections import OrderedDict
from sys import intern
from typing import Any, Callable

from moto.dynamodb.comparisons import ConditionExpressionParser
from moto.dynamodb.exceptions import ItemSizeTooLarge
from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
from moto.dynamodb.models.utilities import bytesize

from .moto_indexes import MAX_ITEM_BYTES, ORIGINAL

SHARED_TYPES = ("S", "N")
SHARED_VALUE_LENGTH = 64  # longer values are rarely repeated and cost more to hash
PARSES_KEPT = 2048  # distinct (expression, names, values) triples; the oldest is dropped first


def shared(kind: str, value: Any) -> Any:
    """One object for equal short strings and numbers (DynamoDB type `kind`), whichever item holds them."""
    if kind in SHARED_TYPES and type(value) is str and len(value) <= SHARED_VALUE_LENGTH:
        return intern(value)
    return value


def _item_init(self: Item, hash_key: DynamoType, range_key: DynamoType | None, attrs: dict[str, Any]) -> None:
    self.hash_key = hash_key
    self.range_key = range_key
    converted = {intern(key): DynamoType(value) for key, value in attrs.items()}
    for value in converted.values():
        value.value = shared(value.type, value.value)
    if sum(bytesize(key) + value.size() for key, value in converted.items()) > MAX_ITEM_BYTES:
        raise ItemSizeTooLarge
    self.attrs = LimitedSizeDict(converted)  # its __init__ is dict.update: no check per attribute


_parses: "OrderedDict[str, tuple[Any, list[str], list[str]]]" = OrderedDict()
_parses_lock = threading.Lock()


def _parse(self: ConditionExpressionParser) -> Any:
    try:
        key = json.dumps(
            [self.condition_expression, self.expression_attribute_names, self.expression_attribute_values],
            sort_keys=True,
        )
    except (TypeError, ValueError):  # not JSON (never from a request): moto's parse as it is
        return ORIGINAL["ConditionExpressionParser.parse"](self)
    with _parses_lock:
        kept = _parses.get(key)
        if kept is not None:
            _parses.move_to_end(key)
    if kept is None:
        names_before, values_before = len(self.expr_attr_names_found), len(self.expr_attr_values_found)
        op = ORIGINAL["ConditionExpressionParser.parse"](self)
        kept = (op, self.expr_attr_names_found[names_before:], self.expr_attr_values_found[values_before:])
        with _parses_lock:
            _parses[key] = kept
            if len(_parses) > PARSES_KEPT:
                _parses.popitem(last=False)
        return op
    op, names, values = kept
    self.expr_attr_names_found.extend(names)
    self.expr_attr_values_found.extend(values)
    return op


PATCHES: dict[str, tuple[Any, str, Callable[..., Any]]] = {
    "Item.__init__": (Item, "__init__", _item_init),
    "ConditionExpressionParser.parse": (ConditionExpressionParser, "parse", _parse),
}
