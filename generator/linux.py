"""The Linux calls Python's ``os`` module lacks: swapping two paths in one step, and a
child process that dies with its parent.   (edge: the kernel, through the C library)"""

from __future__ import annotations

import ctypes
import errno
import os
import signal

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_PR_SET_PDEATHSIG = 1


def exchange(first: str, second: str) -> bool:
    """Swap two paths in one step (renameat2 with RENAME_EXCHANGE); False when this system
    or file system cannot. Any other failure is an OSError naming ``second``."""
    renameat2 = getattr(_libc(), "renameat2", None)
    if renameat2 is None:
        return False
    result = renameat2(
        _AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE
    )
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), second)


def die_with(parent: int) -> bool:
    """Have the kernel kill this process when its parent thread ends (prctl's
    PR_SET_PDEATHSIG): a worker that writes into a folder must not outlive the process that
    owns the folder. False when this system cannot, or when ``parent`` has already ended."""
    prctl = getattr(_libc(), "prctl", None)
    if prctl is None or prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        return False
    return os.getppid() == parent


def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None
