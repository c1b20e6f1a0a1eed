"""local/moto_items.py: items built with one size check and kept condition parses answer as moto's own code.

Random items (some near and over moto's 405,000-byte limit) are built by both `Item.__init__`s and compared,
or their errors; random condition expressions are parsed by moto's parser and by the kept parses and both
trees evaluated on random items, with the names and values each parse reports found."""
from __future__ import annotations

import json
import random
from typing import Any

import pytest
from moto.dynamodb.comparisons import ConditionExpressionParser
from moto.dynamodb.exceptions import ItemSizeTooLarge
from moto.dynamodb.models.dynamo_type import DynamoType, Item

from local.moto_indexes import ORIGINAL
from local.moto_speedups import install_dynamodb_speedups

SEEDS = range(6)


@pytest.fixture(scope="module", autouse=True)
def installed() -> None:
    install_dynamodb_speedups()


def random_value(rng: random.Random, depth: int = 0) -> dict[str, Any]:
    kind = rng.choice("SSNBML" if depth < 2 else "SNB")
    if kind == "S":
        return {"S": rng.choice(["", "é", "x" * 40])}
    if kind == "N":
        return {"N": str(rng.randint(-10**6, 10**6))}
    if kind == "B":
        return {"BOOL": rng.random() < 0.5}
    if kind == "M":
        return {"M": {f"k{i}": random_value(rng, depth + 1) for i in range(rng.randint(0, 4))}}
    return {"L": [random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]}


def built(init: Any, attrs: dict[str, Any]) -> Any:
    item = Item.__new__(Item)
    try:
        init(item, DynamoType(attrs["PK"]), None, attrs)
    except ItemSizeTooLarge as exc:
        return ("refused", type(exc), str(exc))
    return (type(item.attrs), dict(item.attrs), item.hash_key, item.range_key)


@pytest.mark.parametrize("seed", SEEDS)
def test_items_are_built_or_refused_as_moto_does(seed: int) -> None:
    rng = random.Random(seed)
    refused = 0
    for _ in range(60):
        attrs = {"PK": {"S": "p"}, **{f"a{i}": random_value(rng) for i in range(rng.randint(0, 8))}}
        attrs.update({f"big{i}": {"S": "x" * 81_000} for i in range(rng.randint(0, 5))})  # 5: over the limit
        ours, moto = built(Item.__init__, attrs), built(ORIGINAL["Item.__init__"], attrs)
        assert ours == moto
        refused += ours[0] == "refused"
    assert 0 < refused < 60  # both sides of the limit were tried


def test_items_from_separate_requests_share_their_names_and_short_values() -> None:
    long = "x" * 65
    first, second = (Item(DynamoType({"S": "p"}), None, json.loads(
        f'{{"status": {{"S": "NEW"}}, "n": {{"N": "12"}}, "long": {{"S": "{long}"}}, "flag": {{"BOOL": true}}}}'))
        for _ in range(2))
    assert all(a is b for a, b in zip(first.attrs, second.attrs))
    assert first.attrs["status"].value is second.attrs["status"].value
    assert first.attrs["n"].value is second.attrs["n"].value
    assert first.attrs["long"].value is not second.attrs["long"].value  # over the length: not interned
    assert first.attrs == second.attrs


CONDITIONS = [
    ("attribute_not_exists(PK)", None, None),
    ("#v = :v", {"#v": "version"}, {":v": {"N": "3"}}),
    ("#v = :v AND attribute_exists(#s)", {"#v": "version", "#s": "status"}, {":v": {"N": "4"}}),
    ("#s IN (:a, :b) OR size(#l) > :n", {"#s": "status", "#l": "list"},
     {":a": {"S": "OPEN"}, ":b": {"S": "NEW"}, ":n": {"N": "1"}}),
    ("NOT begins_with(#s, :p)", {"#s": "status"}, {":p": {"S": "OP"}}),
    ("openTasks <= :cap", None, {":cap": {"N": "2"}}),
]


def random_item(rng: random.Random) -> Item:
    attrs: dict[str, Any] = {"PK": {"S": "p"}}
    if rng.random() < 0.7:
        attrs["version"] = {"N": str(rng.randint(2, 5))}
    if rng.random() < 0.7:
        attrs["status"] = {"S": rng.choice(["OPEN", "NEW", "CLOSED"])}
    if rng.random() < 0.5:
        attrs["list"] = {"L": [{"N": "1"}] * rng.randint(0, 3)}
    if rng.random() < 0.5:
        attrs["openTasks"] = {"N": str(rng.randint(0, 4))}
    return Item(DynamoType(attrs["PK"]), None, attrs)


def parsed(parse: Any, condition: tuple[Any, ...]) -> tuple[Any, list[str], list[str]]:
    parser = ConditionExpressionParser(*condition)
    return parse(parser), parser.expr_attr_names_found, parser.expr_attr_values_found


def outcome(op: Any, item: Any) -> Any:
    try:
        return op.expr(item)
    except Exception as exc:  # noqa: BLE001 - e.g. size() of a missing attribute: the same error from both
        return type(exc), str(exc)


@pytest.mark.parametrize("seed", SEEDS)
def test_kept_condition_parses_evaluate_and_report_as_moto_parses(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(40):
        condition = rng.choice(CONDITIONS)
        ours, moto = parsed(ConditionExpressionParser.parse, condition), parsed(
            ORIGINAL["ConditionExpressionParser.parse"], condition)
        assert ours[1:] == moto[1:]
        for item in [random_item(rng) for _ in range(5)] + [None]:
            assert outcome(ours[0], item) == outcome(moto[0], item)


def test_an_invalid_condition_raises_every_time() -> None:
    for _ in range(2):
        with pytest.raises(Exception) as ours:
            ConditionExpressionParser("#v = ", {"#v": "version"}, None).parse()
        with pytest.raises(Exception) as moto:
            ORIGINAL["ConditionExpressionParser.parse"](ConditionExpressionParser("#v = ", {"#v": "version"}, None))
        assert (type(ours.value), str(ours.value)) == (type(moto.value), str(moto.value))
