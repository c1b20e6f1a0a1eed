"""Give the kernel back memory the local system touched once and no longer uses (Linux with glibc only).

Measured at 800 cases (issue 13): of 951 MB resident, 347 MB were thread stacks (~400 KB for each Step
Functions execution thread waiting for a task token: the Lambda handler ran deep in that thread, and the pages
it touched stay resident for as long as the thread waits) and 264 MB were free memory glibc's malloc kept.
- `release_stack()`: the calling thread's stack pages below its current depth (minus a margin) are dropped
  with madvise(MADV_DONTNEED); the next call that goes that deep gets fresh zeroed pages, as on a new thread.
  Only memory below the stack pointer, which holds nothing live, is touched.
- `MallocTrimmer`: malloc_trim(0) every few seconds, which returns malloc's free pages to the kernel.
`install_stack_release()` makes a Step Functions execution release its stack as it starts to wait for a task
token (moto 5.2.5's `CallbackEndpoint.wait`, pinned by its source like local/moto_speedups.py's patches).
Elsewhere (macOS, musl, another CPU) both do nothing. Neither changes what the system answers."""
from __future__ import annotations

import ctypes
import ctypes.util
import logging
import platform
import sys
import threading
from typing import Any, Optional

from .lambdas import MOTO_PIN, MotoPinError
from .moto_speedups import digest_of

log = logging.getLogger("local.resident")
# sha256 of inspect.getsource() in moto 5.2.5 of the function the wrapper calls.
SOURCE_PINS = {"CallbackEndpoint.wait": "85d0fa6224f12b372121a350ed1cd3b9c8c01cdd7e71117d198969da859c8251"}

_PAGE = 4096
_MARGIN = 64 * 1024  # below the stack pointer that is kept: the call into madvise and a signal handler's frame
_MADV_DONTNEED = 4
_UCONTEXT_SIZE = 1024  # sizeof(ucontext_t) is 936 on x86_64 glibc
_RSP_OFFSET = 40 + 15 * 8  # uc_flags, uc_link, uc_stack (40 bytes), then mcontext's gregs[REG_RSP=15]
TRIM_INTERVAL_S = 5.0


def _libc() -> Optional[Any]:
    if sys.platform != "linux" or not platform.libc_ver()[0] == "glibc":
        return None
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    libc.malloc_trim.argtypes = [ctypes.c_size_t]
    libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    libc.pthread_self.restype = ctypes.c_ulong
    libc.pthread_getattr_np.argtypes = [ctypes.c_ulong, ctypes.c_void_p]
    libc.pthread_attr_getstack.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p),
                                           ctypes.POINTER(ctypes.c_size_t)]
    libc.pthread_attr_destroy.argtypes = [ctypes.c_void_p]
    libc.getcontext.argtypes = [ctypes.c_void_p]
    return libc


_LIBC = _libc()
_STACKS_RELEASABLE = _LIBC is not None and platform.machine() == "x86_64"
_stack_low = threading.local()  # per thread: the lowest address of its stack (pthread_attr_getstack)


def _lowest_stack_address() -> int:
    low = getattr(_stack_low, "address", None)
    if low is None:
        assert _LIBC is not None
        attr = ctypes.create_string_buffer(64)  # pthread_attr_t is 56 bytes on x86_64
        if _LIBC.pthread_getattr_np(_LIBC.pthread_self(), attr) != 0:
            low = 0
        else:
            address, size = ctypes.c_void_p(), ctypes.c_size_t()
            failed = _LIBC.pthread_attr_getstack(attr, ctypes.byref(address), ctypes.byref(size))
            _LIBC.pthread_attr_destroy(attr)
            low = 0 if failed else int(address.value or 0)
        _stack_low.address = low
    return int(low)


def release_stack() -> int:
    """Drop the resident pages of this thread's stack below where it is now; returns the bytes advised."""
    if not _STACKS_RELEASABLE or threading.current_thread() is threading.main_thread():
        return 0  # the main thread's stack grows on demand and has no fixed lowest address here
    assert _LIBC is not None
    low = _lowest_stack_address()
    context = ctypes.create_string_buffer(_UCONTEXT_SIZE)
    if not low or _LIBC.getcontext(context) != 0:
        return 0
    stack_pointer = ctypes.c_uint64.from_buffer(context, _RSP_OFFSET).value
    start = (low + _PAGE - 1) & ~(_PAGE - 1)
    end = (stack_pointer - _MARGIN) & ~(_PAGE - 1)
    if end - start < _PAGE or not low < stack_pointer:
        return 0
    if _LIBC.madvise(start, end - start, _MADV_DONTNEED) != 0:
        return 0
    return end - start


class MallocTrimmer:
    """A daemon thread that calls malloc_trim(0) every `interval` seconds until `stop()`."""

    def __init__(self, interval: float = TRIM_INTERVAL_S) -> None:
        self.interval = interval
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def start(self) -> "MallocTrimmer":
        if _LIBC is not None:
            self._thread = threading.Thread(target=self._run, name="malloc-trim", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        assert _LIBC is not None
        while not self._stop.wait(self.interval):
            _LIBC.malloc_trim(0)


_install_lock = threading.Lock()


def install_stack_release() -> None:
    """Wrap moto's `CallbackEndpoint.wait` so the waiting thread releases its stack first (idempotent)."""
    import moto
    from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackEndpoint

    with _install_lock:
        original = CallbackEndpoint.__dict__["wait"]
        if getattr(original, "releases_stack", False):
            return
        if moto.__version__ != MOTO_PIN or digest_of(original) != SOURCE_PINS["CallbackEndpoint.wait"]:
            raise MotoPinError(f"local/resident.py wraps CallbackEndpoint.wait of moto {MOTO_PIN}, which changed "
                               f"(moto {moto.__version__} is installed): re-read it, then update SOURCE_PINS")

        def wait(self: Any, timeout: Optional[float] = None) -> Any:
            release_stack()  # the thread may wait for days: what the task's calls touched below is not needed
            return original(self, timeout)

        wait.releases_stack = True  # type: ignore[attr-defined]
        wait.__wrapped__ = original  # type: ignore[attr-defined]
        CallbackEndpoint.wait = wait
