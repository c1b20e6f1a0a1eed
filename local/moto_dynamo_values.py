"""moto's DynamoDB attribute values in half the memory (moto 5.2.5, pinned).

Every attribute value moto's DynamoDB holds is a `DynamoType` with two attributes, `type` and `value` (~190 a
case here: the 19 items' ~150 attributes with their maps' and lists' members, and each item's hash and range
key). moto's class has no `__slots__`: on CPython 3.11 each instance is 64 bytes (with the pointers of an
attribute dict it never makes) plus a 32-byte array of the values; with `__slots__ = ("type", "value")` it is
48 bytes in all (issue 13).

A class's layout cannot change once it is made, so `install_dynamo_values` makes a class from moto's own
namespace (the same function objects: nothing is rewritten) with those slots, and puts it under the name
`DynamoType` in every loaded module that names moto's class (moto's and local/'s), before the local system makes
its first item; modules loaded later import the new one. moto's functions reach the class through their module's
global `DynamoType` (`type(x) is DynamoType`, `isinstance`, `DynamoType(value)`), so they make, test and copy the
new class. What differs: a value takes no attribute besides those two, nor a weak reference (moto 5.2.5 sets
none and makes none). tests/integration/test_moto_dynamo_values.py runs random DynamoDB workloads on moto's class
and on this one and compares every answer."""
from __future__ import annotations

import sys
import threading

from .moto_speedups import digest_of, refuse_changed

# sha256 of inspect.getsource() in moto 5.2.5: the class whose functions the slotted class shares
SOURCE_PINS = {"DynamoType": "72b795ad49f18bffd1d62e62b946a83a824a66a4573e6364b372cabb4a7d85ae"}
SLOTS = ("type", "value")
_lock = threading.Lock()
_installed: dict[str, type] = {}  # "moto" -> moto's class, "slotted" -> the one installed


def _module_class() -> type:
    from moto.dynamodb.models import dynamo_type

    return dynamo_type.DynamoType


def check_dynamo_values() -> None:
    moto_class = _installed.get("moto") or _module_class()
    refuse_changed([name for name, digest in SOURCE_PINS.items() if digest_of(moto_class) != digest], __name__)


def slotted(moto_class: type) -> type:
    """moto's class with `__slots__`: its own namespace, every function object shared."""
    namespace = {name: value for name, value in vars(moto_class).items() if name not in ("__dict__", "__weakref__")}
    return type(moto_class.__name__, moto_class.__bases__, {**namespace, "__slots__": SLOTS})


def _rename(old: type, new: type) -> None:
    """Put `new` wherever a loaded module's global `DynamoType` is `old`."""
    for module in list(sys.modules.values()):
        try:
            names = vars(module)
        except TypeError:
            continue
        if names.get("DynamoType") is old:
            names["DynamoType"] = new


def install_dynamo_values() -> None:
    """Use the slotted class in this process from now on (idempotent). Values made before stay moto's: call it
    before the first item is made."""
    with _lock:
        check_dynamo_values()
        if _installed:
            return
        moto_class = _module_class()
        _installed.update(moto=moto_class, slotted=slotted(moto_class))
        _rename(moto_class, _installed["slotted"])


def uninstall_dynamo_values() -> None:
    """moto's own class again (for tests that compare the two; tables made meanwhile are not to be used again)."""
    with _lock:
        if _installed:
            _rename(_installed["slotted"], _installed["moto"])
            _installed.clear()
