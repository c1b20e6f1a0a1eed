"""A waiting thread's stack pages, given back to the system while it waits (Linux, glibc).

Each open case has a Step Functions execution waiting for a task token, on a thread of its own
(local/moto_sfn_threads.py). Before the wait, that thread ran the state's Lambda task in this process: the app's
handler, botocore and moto's DynamoDB, ~36 KB deep in C. The thread then waits ~6 KB deep, but the pages it
touched on the way stay resident until it ends: ~30 KB per open case that nothing reads (issue 13).

Memory below a thread's stack pointer is dead by the ABI. `madvise(MADV_DONTNEED)` on it drops the pages;
touching them again maps fresh zeroed pages, as the first touch did. The stack pointer is the one the kernel
saw on entry to a `read` made through ctypes (`/proc/thread-self/syscall`, the field before the last), the
same way the `madvise` call is made from the same Python frame, so its own C frames sit at about the same
depth; MARGIN more is left untouched below it. Elsewhere (no /proc, no glibc, the main thread, whose stack the
kernel grows) nothing is released."""
from __future__ import annotations

import ctypes
import ctypes.util
import mmap
import os
import threading
from typing import Any, Optional

MARGIN = 8 * 1024  # bytes kept below the stack pointer: several times what a ctypes call's C frames take
_MADV_DONTNEED = 4  # <sys/mman.h>, the same on every Linux architecture
_ATTR_BYTES = 128  # >= sizeof(pthread_attr_t) on every glibc architecture (56 on x86-64, 64 on arm64)
_SYSCALL_FILE = "/proc/thread-self/syscall"


def _load_libc() -> Optional[Any]:
    path = ctypes.util.find_library("c")
    if path is None or not os.path.exists(_SYSCALL_FILE):
        return None
    try:
        libc = ctypes.CDLL(path, use_errno=True)
        functions = (libc.pthread_self, libc.pthread_getattr_np, libc.pthread_attr_getstack,
                     libc.pthread_attr_destroy, libc.madvise, libc.read)
    except (OSError, AttributeError):
        return None
    pthread_self, getattr_np, getstack, destroy, madvise, read = functions
    pthread_self.argtypes, pthread_self.restype = [], ctypes.c_ulong
    getattr_np.argtypes, getattr_np.restype = [ctypes.c_ulong, ctypes.c_void_p], ctypes.c_int
    getstack.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_size_t)]
    getstack.restype = ctypes.c_int
    destroy.argtypes, destroy.restype = [ctypes.c_void_p], ctypes.c_int
    madvise.argtypes, madvise.restype = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int], ctypes.c_int
    read.argtypes, read.restype = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t], ctypes.c_ssize_t
    return libc


_libc = _load_libc()


def _stack_bottom(libc: Any) -> Optional[int]:
    """The lowest usable address of this thread's stack (above its guard page)."""
    attr = ctypes.create_string_buffer(_ATTR_BYTES)
    if libc.pthread_getattr_np(libc.pthread_self(), attr) != 0:
        return None
    try:
        address, size = ctypes.c_void_p(), ctypes.c_size_t()
        if libc.pthread_attr_getstack(attr, ctypes.byref(address), ctypes.byref(size)) != 0:
            return None
        return address.value
    finally:
        libc.pthread_attr_destroy(attr)


def _stack_pointer(libc: Any) -> Optional[int]:
    """This thread's stack pointer inside a ctypes call (what the kernel saw on entry to the read)."""
    buffer = ctypes.create_string_buffer(256)
    fd = os.open(_SYSCALL_FILE, os.O_RDONLY)
    try:
        length = libc.read(fd, buffer, len(buffer))
    finally:
        os.close(fd)
    fields = buffer.raw[:max(length, 0)].split()
    if len(fields) < 3 or fields[0] == b"running":
        return None
    return int(fields[-2], 16)


def release_unused_stack() -> int:
    """Drop the resident pages of this thread's stack below where it is now; the bytes of address range
    released (0: nothing, or not possible here)."""
    libc = _libc
    if libc is None or threading.current_thread() is threading.main_thread():
        return 0
    try:
        bottom = _stack_bottom(libc)
        pointer = _stack_pointer(libc)
    except OSError:
        return 0
    if bottom is None or pointer is None or not bottom < pointer:
        return 0
    end = (pointer - MARGIN) & ~(mmap.PAGESIZE - 1)
    if end <= bottom or libc.madvise(bottom, end - bottom, _MADV_DONTNEED) != 0:
        return 0
    return end - bottom
