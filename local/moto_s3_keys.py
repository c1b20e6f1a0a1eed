"""moto's S3 objects without a hash table each for their attributes (moto 5.2.5, pinned).

moto's `FakeKey.__init__` sets 35 attributes on every object version. CPython 3.11 keeps an instance's attributes in
a values array against its class's shared key table, but that table holds at most 30 names: the 31st makes each
FakeKey a dict of its own, 1,584 bytes, ~40% of what a 700-byte object costs in memory (8 per case here: ~13 KB a
case, issue 13). 16 of the 35 are None unless the request says otherwise (lock, checksum, encryption, redirect,
expiry and so on); here they are set only when they are not None, and the class answers None for the others, so
every read sees what moto's instance held. moto's own later writes (an Object Lock update, a checksum) set them on
the instance as before. Everything else is moto's code, in moto's order. Installed before the process makes its
first FakeKey: the class's shared key table then holds the names in this order, with room for the ones set later.
Two of a key's parts that never change are shared by every key (~450 bytes a version): the list of its restore
states (`ManagedState` only reads it) and the arguments its body buffer (a `SpooledTemporaryFile`) would give a
temporary file on rollover, an 8-entry dict per buffer that `rollover` only reads and then drops from the buffer
(shared only on the Python whose tempfile this was read against; another one keeps a dict per buffer).
tests/integration/test_moto_s3_keys.py puts, copies, versions and reads objects with and without this and compares
what S3 answers."""
from __future__ import annotations

import tempfile
import threading
from typing import Any, Callable

from .moto_speedups import digest_of, refuse_changed

# sha256 of inspect.getsource() in moto 5.2.5 and Python 3.11: the function replaced, and the ones that must only
# read what is now shared
SOURCE_PINS = {
    "FakeKey.__init__": "cd9d1347667a9ccf2179874051aebed2261ecb260ca12e048f20b9140a325383",
    "ManagedState.__init__": "02c247c5f2dd99b6d7baca0734bac1eaa2b38340cf0ecf2d6cb28ec74a1da765",
    "ManagedState._get_next_status": "f73b9e633f4410dbd1f41e4e7cbfa4599c609d545eab321d960c88ebcc71645f",
    "SpooledTemporaryFile.__init__": "9607ff8c0bc007dafe3bfa0141bbf471f9699f1a330014cb7d88be81df67cd42",
    "SpooledTemporaryFile.rollover": "44cd54a3dfa6e683aead3355ac88e6a35fbbe7f204be25e23cba884349530e2b",
}
NONE_BY_DEFAULT = (  # the attributes moto's __init__ may set to None, answered by the class when they are
    "website_redirect_location", "checksum_algorithm", "_expiry", "_etag", "_version_id", "multipart",
    "bucket_name", "encryption", "kms_key_id", "bucket_key_enabled", "lock_mode", "lock_legal_status",
    "lock_until", "checksum_value", "checksum_type", "checksum_parts",
)
RESTORE_TRANSITIONS = [(None, "IN_PROGRESS"), ("IN_PROGRESS", "RESTORED")]  # moto's, one list for every key


def _buffer_file_args() -> dict[str, Any]:
    """What `SpooledTemporaryFile(max_size)`, as moto makes it, keeps for a rollover (the same for any max_size)."""
    with tempfile.SpooledTemporaryFile(0) as buffer:
        return dict(vars(buffer)["_TemporaryFileArgs"])


BUFFER_FILE_ARGS = _buffer_file_args()
_lock = threading.Lock()
_installed: dict[str, Callable[..., Any]] = {}  # "FakeKey.__init__" -> moto's (also marks the patch as done)


def _fake_key() -> Any:
    from moto.s3.models import FakeKey

    return FakeKey


def pinned_functions() -> dict[str, Any]:
    from moto.moto_api._internal.managed_state_model import ManagedState

    return {
        "FakeKey.__init__": _installed.get("FakeKey.__init__") or vars(_fake_key())["__init__"],
        "ManagedState.__init__": ManagedState.__init__,
        "ManagedState._get_next_status": ManagedState._get_next_status,
        "SpooledTemporaryFile.__init__": tempfile.SpooledTemporaryFile.__init__,
        "SpooledTemporaryFile.rollover": tempfile.SpooledTemporaryFile.rollover,
    }


PYTHON_PINNED = ("SpooledTemporaryFile.__init__", "SpooledTemporaryFile.rollover")  # Python's, not moto's


def _buffer_args_shareable() -> bool:
    """Another Python's tempfile may keep or read the arguments otherwise: then each buffer keeps its own."""
    return all(digest_of(getattr(tempfile.SpooledTemporaryFile, name.split(".")[1])) == SOURCE_PINS[name]
               for name in PYTHON_PINNED)


def check_s3_keys() -> None:
    refuse_changed([name for name, function in pinned_functions().items()
                    if name not in PYTHON_PINNED and digest_of(function) != SOURCE_PINS[name]], __name__)


def _set_unless_none(key: Any, **attributes: Any) -> None:
    for name, value in attributes.items():
        if value is not None:
            setattr(key, name, value)


def key_init(  # moto's FakeKey.__init__, the same steps in the same order; None-valued attributes left unset
    self: Any,
    name: str,
    value: bytes,
    account_id: str,
    region_name: str,
    storage: str | None = "STANDARD",
    etag: str | None = None,
    is_versioned: bool = False,
    version_id: str | None = None,
    max_buffer_size: int | None = None,
    multipart: Any = None,
    bucket_name: str | None = None,
    encryption: str | None = None,
    kms_key_id: str | None = None,
    bucket_key_enabled: Any = None,
    lock_mode: str | None = None,
    lock_legal_status: str | None = None,
    lock_until: str | None = None,
    checksum_value: str | None = None,
    checksum_type: str | None = None,
    checksum_parts: int | None = None,
) -> None:
    from moto.core.utils import utcnow
    from moto.moto_api._internal.managed_state_model import ManagedState
    from moto.s3.models import get_canned_acl, get_s3_default_key_buffer_size
    from moto.utilities.utils import LowercaseDict, get_partition

    ManagedState.__init__(self, "s3::keyrestore", transitions=RESTORE_TRANSITIONS)
    self.name = name
    self.account_id = account_id
    self.region_name = region_name
    self.partition = get_partition(region_name)
    self.last_modified = utcnow()
    self.acl = get_canned_acl("private")
    self._storage_class = storage if storage else "STANDARD"
    self._metadata = LowercaseDict()
    _set_unless_none(self, _etag=etag, _version_id=version_id)
    self._is_versioned = is_versioned
    _set_unless_none(self, multipart=multipart, bucket_name=bucket_name)

    self._max_buffer_size = max_buffer_size if max_buffer_size else get_s3_default_key_buffer_size()
    self._value_buffer = tempfile.SpooledTemporaryFile(self._max_buffer_size)
    if _SHARE_BUFFER_ARGS:
        self._value_buffer._TemporaryFileArgs = BUFFER_FILE_ARGS  # an equal dict: read by rollover only
    self.disposed = False
    self.value = value
    self.lock = threading.Lock()

    _set_unless_none(
        self, encryption=encryption, kms_key_id=kms_key_id, bucket_key_enabled=bucket_key_enabled,
        lock_mode=lock_mode, lock_legal_status=lock_legal_status, lock_until=lock_until,
        checksum_value=checksum_value, checksum_type=checksum_type, checksum_parts=checksum_parts,
    )
    self._metadata["Content-Type"] = "binary/octet-stream"


_SHARE_BUFFER_ARGS = _buffer_args_shareable()


def install_s3_keys() -> None:
    """Replace `FakeKey.__init__` in this process (idempotent)."""
    with _lock:
        check_s3_keys()
        if _installed:
            return
        fake_key = _fake_key()
        _installed["FakeKey.__init__"] = vars(fake_key)["__init__"]
        for name in NONE_BY_DEFAULT:
            setattr(fake_key, name, None)
        fake_key.__init__ = key_init


def uninstall_s3_keys() -> None:
    """moto's own `FakeKey.__init__` again (for tests that compare the two)."""
    with _lock:
        if not _installed:
            return
        fake_key = _fake_key()
        fake_key.__init__ = _installed.pop("FakeKey.__init__")
        for name in NONE_BY_DEFAULT:
            delattr(fake_key, name)
