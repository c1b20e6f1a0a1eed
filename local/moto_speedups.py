"""Install local/moto_indexes.py, local/moto_transactions.py, local/moto_items.py,
local/moto_dynamodb_serializer.py and local/moto_dynamo_values.py into moto's DynamoDB, once per process.

They replace moto internals or stand in for them, so they are pinned twice: to moto's version (as
local/lambdas.py is) and to the source of every moto function they replace or rely on. Any change there
refuses to start with the name of the function to re-read, rather than serving subtly wrong answers."""
from __future__ import annotations

import hashlib
import inspect
import threading
from typing import Any

from .lambdas import MOTO_PIN, MotoPinError

# sha256 of inspect.getsource() in moto 5.2.5: replaced functions, the ones the replacements rely on, and the
# ones local/snapshot.py imitates or calls.
SOURCE_PINS = {
    "Table.put_item": "de23933013ef842639046c19bcf7e418bce0474d810f6719368be4cedce11d47",
    "Table.delete_item": "1594f7b07616c8cb8cdf0fbf58d6f54eeac83f25d7ac7b14e832a08e10efd8f9",
    "Table.get_item": "b08e98fe37b7e5836afe03b010d637ef50df5dea6cbecd9cf8816eef326a21cd",
    "Table.all_items": "c80d2ee3c896acd0cab6ca35aaeae3ab3fb65858933f8a3403d4e027c240f31d",
    "Table.query": "002b4d00be6df07cf37f6cbe0132e5eb89455ae12a8e79b23db3fb492450f21e",
    "Table.scan": "5ef1ab21eef06a74d4d142aaf817f31c3147c39fd9aaaa5dd037cb62d64e4af3",
    "Table._item_comes_before_dct": "6d70f41f7cb059f40e932e9c6c13cc57b6052c5d025c51235df414adf172bee1",
    "Table._generate_attr_to_sort_by": "afef70e159fa8cb505cc030b323479b7ce105060c9eeecbce102247e41f302b2",
    "Table.sorted_items": "216dac1cd6b659d283e91006b809136623723efb90125b015e07052478724937",
    "Table._get_last_evaluated_key": "2d0fae62fcd41aaebd8a04b503ebab88aa607883932c661dd4f98a2b4f29a9d3",
    "StreamShard.add": "357dc6da267e5dd7d46e18ee25d14b232a98679677906a2f02e4d454d1f11e03",
    "DynamoDBBackend.update_item": "218984588dd689a5de81678ce11e6a40d05c91e7b6c21b44c4ed4122fe74aa9f",
    "DynamoDBBackend.get_item": "290b95c46b38bc5ac8079668e9c449bba9b6b26f4a2872d80ca262115023e189",
    "DynamoDBBackend.get_keys_value": "1f948797496ddc2cd4e4752e29e470d19ce757ca3406e07fed6bd90b331c1caa",
    "DynamoDBBackend.get_table": "a738146035fc206b81e0659a004dcc62ae70eb356ef7c5ab771ba68bdd2d7ab0",
    "utilities.dynamo_to_dict": "80f600124c13ddcb132c02448abeefffd2b43b353c7fcedaa2fa7ca67b3107c4",
    "Item.__init__": "d9c12b62cb921831aab9b2eb22ac24fbd600689064a0219ae3ffbe057ae4be74",
    "Item.to_json": "cf0a9332389d6fd9638a3deee3c36f3bb035739290c82510fea68377a13d303e",
    "S3Backend.put_object": "db803f2da9d786ad050987d2b5def89cfa38c1bd0281f70ce6c76b4abc31566a",
    "S3Backend.get_bucket": "f2a393d4b1bb024db5692f9367536592685ee2b420497df9e7e9037a0697fbe3",
    "FakeKey.set_metadata": "2e0d9b90a6e618483924790fac4be0adabcaf5b933aae5fa6f108ddda6b5efa9",
    "DynamoDBBackend.transact_write_items": "81db2cb7d94e39c90b3a2077e1f4bb41a449c558ef9b1b1e2910fdaa39978ad4",
    "LimitedSizeDict.__setitem__": "d979580fdbe14f79f3216564e1385c4b3485db82bc88193326c467a037331e81",
    "ConditionExpressionParser.parse": "5c9b63c5f49ed5d5d644eb0ac7422fb3c2ac4bbd310374f4161686bc4e10c453",
}

_lock = threading.Lock()


def source_digest(qualified_name: str) -> str:
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.comparisons import ConditionExpressionParser
    from moto.dynamodb.models.dynamo_type import Item, LimitedSizeDict
    from moto.dynamodb.models.table import StreamShard, Table
    from moto.s3.models import FakeKey, S3Backend

    from moto.dynamodb.models import utilities

    owner, name = qualified_name.split(".")
    cls = {"utilities": utilities, "Table": Table, "StreamShard": StreamShard, "DynamoDBBackend": DynamoDBBackend,
           "Item": Item, "S3Backend": S3Backend, "FakeKey": FakeKey, "LimitedSizeDict": LimitedSizeDict,
           "ConditionExpressionParser": ConditionExpressionParser}[owner]
    from .moto_indexes import ORIGINAL

    return digest_of(ORIGINAL.get(qualified_name) or vars(cls)[name])


def digest_of(function: Any) -> str:
    return hashlib.sha256(inspect.getsource(function).encode()).hexdigest()


def refuse_changed(changed: list[str], module: str) -> None:
    """Raise MotoPinError naming the moto functions whose source changed and the patch (`module`) to re-read."""
    if changed:
        raise MotoPinError(f"moto's {', '.join(changed)} changed: re-read local/{module.rsplit('.', 1)[-1]}.py "
                           "against it, then update its SOURCE_PINS")


def check_moto_dynamodb() -> None:
    """Raise MotoPinError unless moto and every function the speed-ups touch are as they were written for."""
    import moto

    if moto.__version__ != MOTO_PIN:
        raise MotoPinError(
            f"local/moto_indexes.py, local/moto_transactions.py and local/snapshot.py rely on internals of moto "
            f"{MOTO_PIN}, "
            f"but moto {moto.__version__} is installed: re-read them against it, then move the pins"
        )
    changed = [name for name, digest in SOURCE_PINS.items() if source_digest(name) != digest]
    if changed:
        raise MotoPinError(f"moto's {', '.join(changed)} changed: re-read local/moto_indexes.py and "
                           "local/moto_transactions.py against it, then update SOURCE_PINS")


def install_dynamodb_speedups() -> None:
    """Replace moto's DynamoDB hot paths in this process (idempotent)."""
    from . import moto_indexes, moto_items, moto_transactions
    from .moto_dynamo_values import install_dynamo_values
    from .moto_dynamodb_serializer import install_dynamodb_serializer

    with _lock:
        check_moto_dynamodb()
        install_dynamo_values()  # before the first item is made: values of moto's class would not be recognised
        patches: dict[str, tuple[Any, str, Any]] = {
            **moto_indexes.PATCHES, **moto_transactions.PATCHES, **moto_items.PATCHES,
        }
        for qualified_name, (cls, name, replacement) in patches.items():
            if qualified_name not in moto_indexes.ORIGINAL:
                moto_indexes.ORIGINAL[qualified_name] = cls.__dict__[name]
                setattr(cls, name, replacement)
    install_dynamodb_serializer()
