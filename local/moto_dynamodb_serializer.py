"""DynamoDB responses serialised without a per-attribute name search (moto 5.2.5, pinned).

moto serialises every response by walking botocore's output shape, and reads each member of a structure
through an attribute picker that tries up to six aliases, each in two spellings, building a context object
per try. An item's every attribute is an `AttributeValue` structure of ten members (S, N, B, SS, NS, BS, M, L,
NULL, BOOL), so a page of 25 cases costs thousands of such searches: ~9% of the local system's Python time
under load (py-spy), most of it while local/moto_atomic.py holds the one DynamoDB lock that every request
waits for.

An `AttributeValue` that moto produced (`dynamo_to_dict`: a dict whose keys are member names) is read here
by key, which is what the search finds for such a dict: no alias of a member (the shape's own name, a
prefixed or snake_case spelling) is a key of it. The members are then serialised by moto's own code, in
the shape's order. Such a value whose parts are all of the plain types moto makes (text, lists of text, bytes or
base64 text, booleans, nested maps and lists of the same) is then written in one pass (`_wire`: what those
serialisers write for them; ~15% of `GET /cases` as an admin went to the walk per member, bench/results.md);
one with anything else goes member by member through moto's serialisers. Anything else (another shape, a value
of another type or with other keys, a response transformer that could apply to a member) goes through moto's
code as it is. Installed as DynamoDB's
serializer in moto's own table of service-specific serializers; tests/integration/test_moto_request_speedups.py
compares both on random items."""
from __future__ import annotations

import threading
from typing import Any, Callable, Optional

from moto.core.serialize import (
    DEFAULT_ALIAS_PROVIDERS, SERVICE_SPECIFIC_SERIALIZERS, AttributePicker, JSONSerializer, ResponseSerializer,
    XFormedAttributePicker, get_serializer_class,
)

from .lambdas import MotoPinError
from .moto_speedups import digest_of, refuse_changed

ATTRIBUTE_VALUE = "AttributeValue"
MEMBERS = ("S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL")  # the shape's members, in its order
_MEMBER_SET = frozenset(MEMBERS)
# sha256 of inspect.getsource() in moto 5.2.5: what the shortcut stands in for
SOURCE_PINS = {
    "ResponseSerializer._serialize_type_structure": "f9b47068f40ce489e55e7a0bf78accec38597d27168dc3d095ac2fc18312d4a8",
    "ResponseSerializer._serialize_structure_member": "437fdce43aa5ac844fb5fe22865b90d228b875b6b1787dc6bfdccad91968b3c0",  # noqa: E501
    "ResponseSerializer.get_value": "5ac16904b91c293555159f2e4726b73cc5d7fb9c1c414a6d912d9e2f45da539e",
    "AttributePicker.__call__": "c15da8ec29c1afa44772407fe6280d59a519fcbf52216dc90eb31fb6fbb136ce",
    "AttributePicker.get_possible_keys": "cb284052c5ea7fe1b0534936022c95397d8ed8fb7630d51a445614127bc25c17",
    "XFormedAttributePicker.get_possible_keys": "f0d20f55f37fd8a1f74e7fae117327a99c8e14b0f9459a0059d3c8d3c6e50a41",
    "get_serializer_class": "198a4094b5031323e8d6621f3aae9fe86859865027348d6c2205f4097f2a4167",
}
_lock = threading.Lock()


def _pinned() -> dict[str, Any]:
    return {
        "ResponseSerializer._serialize_type_structure": ResponseSerializer._serialize_type_structure,
        "ResponseSerializer._serialize_structure_member": ResponseSerializer._serialize_structure_member,
        "ResponseSerializer.get_value": ResponseSerializer.get_value,
        "AttributePicker.__call__": AttributePicker.__call__,
        "AttributePicker.get_possible_keys": AttributePicker.get_possible_keys,
        "XFormedAttributePicker.get_possible_keys": XFormedAttributePicker.get_possible_keys,
        "get_serializer_class": get_serializer_class,
    }


def check_dynamodb_serializer() -> None:
    refuse_changed([name for name, function in _pinned().items() if digest_of(function) != SOURCE_PINS[name]], __name__)


class DynamoDBSerializer(JSONSerializer):
    def _serialize_type_structure(self, serialized: Any, value: Any, shape: Any, key: str) -> None:
        if key and shape.name == ATTRIBUTE_VALUE and type(value) is dict and value.keys() <= shape.members.keys() \
                and self._picks_by_key(shape):
            if tuple(shape.members) == MEMBERS and (wire := _wire(value, self._base64)) is not None:
                self._default_serialize(serialized, wire, shape, key)
                return
            wrapper: dict[str, Any] = {}
            for member_key, member_shape in shape.members.items():
                member_shape.parent = shape  # as moto's loop does
                member_value = value.get(member_key)
                if member_value is not None:
                    self._serialize(wrapper, member_value, member_shape, member_key)
            self._default_serialize(serialized, wrapper, shape, key)
            return
        super()._serialize_type_structure(serialized, value, shape, key)

    def _picks_by_key(self, shape: Any) -> bool:
        """The picker is moto's own, and none of its response transformers can apply to a member's value
        (moto applies one when the value's key path ends with the transformer's path)."""
        picker = self._value_picker
        if type(picker) is not XFormedAttributePicker or picker.alias_providers is not DEFAULT_ALIAS_PROVIDERS:
            return False
        return not any(path.endswith(member) for path in picker.response_transformers for member in shape.members)


def _wire(value: dict[str, Any], base64: Callable[[Any], str]) -> Optional[dict[str, Any]]:
    """What moto's JSON serialisers write for an AttributeValue dict of plain parts (strings and numbers as text,
    binaries base64, sets as lists, booleans as they are, maps and lists member by member); None for anything
    else."""
    out: dict[str, Any] = {}
    for member in MEMBERS:
        part = value.get(member)
        if part is None:  # moto's loop skips a member it finds None
            continue
        if member in ("S", "N"):
            if type(part) is not str:
                return None
            out[member] = part
        elif member == "B":
            if not isinstance(part, (bytes, str)):
                return None
            out[member] = base64(part)
        elif member in ("SS", "NS"):
            if type(part) is not list or any(type(text) is not str for text in part):
                return None
            out[member] = list(part)
        elif member == "BS":
            if type(part) is not list or not all(isinstance(blob, (bytes, str)) for blob in part):
                return None
            out[member] = [base64(blob) for blob in part]
        elif member == "M":
            if type(part) is not dict or "" in part:  # moto writes an empty key's members into the map itself
                return None
            nested = {name: _nested(inner, base64) for name, inner in part.items()}
            if None in nested.values():
                return None
            out[member] = nested
        elif member == "L":
            if type(part) is not list:
                return None
            items = [_nested(inner, base64) for inner in part]
            if None in items:
                return None
            out[member] = items
        else:  # NULL, BOOL: the JSON protocol has no boolean serialiser, the value is written as it is
            out[member] = part
    return out


def _nested(value: Any, base64: Callable[[Any], str]) -> Optional[dict[str, Any]]:
    if type(value) is not dict or not value.keys() <= _MEMBER_SET:
        return None
    return _wire(value, base64)


def install_dynamodb_serializer() -> None:
    """Make DynamoDBSerializer moto's serializer for DynamoDB's JSON protocol in this process (idempotent)."""
    with _lock:
        check_dynamodb_serializer()
        for_dynamodb = SERVICE_SPECIFIC_SERIALIZERS.setdefault("dynamodb", {})
        if for_dynamodb.get("json", DynamoDBSerializer) is not DynamoDBSerializer:
            raise MotoPinError("moto has its own DynamoDB serializer: re-read local/moto_dynamodb_serializer.py")
        for_dynamodb["json"] = DynamoDBSerializer
