"""local/moto_indexes.py: an index files each item under the item's own key values (no copies, ~100 bytes each
per index, issue 13), and neither they nor the table's values get an instance dict of their own (CPython's
shared-key attribute storage)."""
from __future__ import annotations

import gc

from moto.dynamodb.models.dynamo_type import DynamoType, Item

from local.moto_indexes import KeyOrder


def has_own_dict(value: object) -> bool:
    """Whether CPython gave the object a dict of its own (the GC then visits it instead of the attribute values)."""
    return any(type(referent) is dict for referent in gc.get_referents(value))


def item(pk: str, sk: str, **more: dict[str, str]) -> Item:
    return Item(DynamoType({"S": pk}), DynamoType({"S": sk}), {"PK": {"S": pk}, "SK": {"S": sk}, **more})


def test_an_index_files_an_item_under_its_own_values_without_dicts() -> None:
    order = KeyOrder("GSI1PK", ("GSI1PK", "GSI1SK"), ("GSI1SK", "PK", "SK"))
    filed = item("CASE#1", "META", GSI1PK={"S": "TEAM#a"}, GSI1SK={"N": "42"})
    order.place((filed.hash_key, filed.range_key), filed)
    (partition, run), = order.partitions.items()
    assert partition is filed.attrs["GSI1PK"]
    assert all(key is filed.attrs[name] for key, name in zip(run.keys[0], ("GSI1SK", "PK", "SK")))
    assert not any(has_own_dict(value) for value in filed.attrs.values())


def test_an_item_changed_in_place_is_found_under_the_key_it_was_filed_with() -> None:
    order = KeyOrder("GSI1PK", ("GSI1PK", "GSI1SK"), ("GSI1SK", "PK", "SK"))
    changed = item("CASE#1", "META", GSI1PK={"S": "T"}, GSI1SK={"S": "b"})
    other = item("CASE#2", "META", GSI1PK={"S": "T"}, GSI1SK={"S": "c"})
    for filed in (changed, other):
        order.place((filed.hash_key, filed.range_key), filed)
    changed.attrs["GSI1SK"] = DynamoType({"S": "d"})  # as moto's update_item does: a new value, not a changed one
    order.place((changed.hash_key, changed.range_key), changed)
    assert order.partitions[DynamoType({"S": "T"})].items == [other, changed]


def test_the_check_sees_a_dict_once_one_is_made() -> None:
    class Plain:  # moto's DynamoType, or, once local/moto_dynamo_values.py is installed, one without any dict
        def __init__(self) -> None:
            self.type, self.value = "S", "x"

    value = Plain()
    assert not has_own_dict(value)
    vars(value)
    assert has_own_dict(value)
