"""local/moto_indexes.py: the key values an index keeps are equal copies that cost no instance dict, and the
table's own values are left without one too (CPython's shared-key attribute storage, issue 13)."""
from __future__ import annotations

import gc

from moto.dynamodb.models.dynamo_type import DynamoType

from local.moto_indexes import _frozen


def has_own_dict(value: DynamoType) -> bool:
    """Whether CPython gave the object a dict of its own (the GC then visits it instead of the attribute values)."""
    return any(type(referent) is dict for referent in gc.get_referents(value))


def test_an_index_key_is_an_equal_copy_without_a_dict_of_its_own() -> None:
    for wire in ({"S": "CASE#0001"}, {"N": "42"}, {"B": b"\x00\x01"}):
        value = DynamoType(wire)
        key = _frozen(value)
        assert key is not value and key == value and (key.type, key.value) == (value.type, value.value)
        assert not has_own_dict(key)
        assert not has_own_dict(value)


def test_the_check_sees_a_dict_once_one_is_made() -> None:
    value = DynamoType({"S": "x"})
    vars(value)
    assert has_own_dict(value)
