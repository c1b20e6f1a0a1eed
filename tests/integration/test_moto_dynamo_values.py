"""local/moto_dynamo_values.py: DynamoDB answers the same with moto's DynamoType and with the slotted class.

The seeded random workloads of test_moto_speedups.py (puts, conditional updates, transactions with failing
conditions, deletes, batch writes, a sparse GSI, `Limit` with filters, every page, both directions) run on a new
table with moto's own class and again on another with the slotted one; every answer is compared."""
from __future__ import annotations

import gc
import uuid
from typing import Any

import boto3
import pytest

from local import moto_dynamo_values, moto_items
from local.lambdas import MotoPinError
from local.moto_dynamo_values import install_dynamo_values, uninstall_dynamo_values
from local.moto_speedups import install_dynamodb_speedups
from test_moto_speedups import (  # type: ignore[import-not-found]
    REGION, STEPS, Workload, _with_table, answer, backend_table, create,
)

SEEDS = range(4)


@pytest.fixture(scope="module")
def dynamodb(moto_endpoint: str) -> Any:
    install_dynamodb_speedups()
    return boto3.client("dynamodb", endpoint_url=moto_endpoint, region_name=REGION)


def requests(seed: int) -> list[tuple[str, dict[str, Any]]]:
    """The workload's requests, each with TableName "" (the table is named when it is sent)."""
    work, sent = Workload(seed), []
    for _ in range(STEPS):
        kind = work.rng.choice(["put", "update", "delete", "transaction", "query", "query", "scan", "get"])
        if kind == "put":
            sent.append(("put_item", {"TableName": "", "Item": work.item(), **work.condition()}))
        elif kind == "update":
            sent.append(("update_item", {"TableName": "", **work.update(), "ReturnValues": "ALL_NEW"}))
        elif kind == "delete":
            sent.append(("delete_item", {"TableName": "", "Key": work.key(), **work.condition(),
                                         "ReturnValues": "ALL_OLD"}))
        elif kind == "transaction":
            sent.append(("transact_write_items",
                         {"TransactItems": [{op: {"TableName": "", **body}} for op, body in work.transaction()]}))
        elif kind == "query":
            sent.append(("query", {"TableName": "", **work.query()}))
        elif kind == "scan":
            sent.append(("scan", {"TableName": "", **work.scan()}))
        else:
            sent.append(("get_item", {"TableName": "", "Key": work.key(), "ConsistentRead": True}))
    return sent + [("scan", {"TableName": "", "ConsistentRead": True})]


def answers(dynamodb: Any, seed: int) -> tuple[list[Any], type]:
    """Every answer of the seed's workload on a new table, and the class of the values it holds."""
    name = f"values-{uuid.uuid4().hex[:8]}"
    create(dynamodb, name)
    moto_items._parses.clear()  # kept condition trees hold values of the class they were parsed under
    got = []
    for operation, request in requests(seed):
        body = _with_table(request, name)
        got.append(answer(lambda: getattr(dynamodb, operation)(**body), {name: "<table>"}))
    table = backend_table(name)
    held = {type(value) for partition in table.items.values() for item in partition.values()
            for value in item.attrs.values()}
    return got, held.pop() if len(held) == 1 else type(None)


@pytest.mark.parametrize("seed", SEEDS)
def test_random_workloads_answer_as_with_moto_class(dynamodb: Any, seed: int) -> None:
    uninstall_dynamo_values()
    try:
        by_moto, moto_class = answers(dynamodb, seed)
    finally:
        install_dynamo_values()
        moto_items._parses.clear()
    slotted, slotted_class = answers(dynamodb, seed)
    assert moto_class is not slotted_class and "__slots__" in vars(slotted_class)
    assert not hasattr(moto_class, "__slots__")
    for step, (moto_answer, slotted_answer) in enumerate(zip(by_moto, slotted)):
        assert slotted_answer == moto_answer, f"seed {seed} step {step}"
    assert len(slotted) == len(by_moto)


def test_values_hold_no_dict_and_every_loaded_module_names_the_slotted_class() -> None:
    import sys

    from moto.dynamodb.models import dynamo_type

    install_dynamo_values()
    value = dynamo_type.DynamoType({"M": {"a": {"S": "x"}}})
    assert not hasattr(value, "__dict__") and not hasattr(value["a"], "__dict__")
    assert not any(type(referent) is dict for referent in gc.get_referents(value["a"]))
    moto_class = moto_dynamo_values._installed["moto"]
    assert [name for name, module in list(sys.modules.items()) if vars(module).get("DynamoType") is moto_class] == []


def test_a_changed_class_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(moto_dynamo_values.SOURCE_PINS, "DynamoType", "0" * 64)
    with pytest.raises(MotoPinError, match="DynamoType changed"):
        moto_dynamo_values.check_dynamo_values()
