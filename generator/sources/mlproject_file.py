"""Reading an MLproject file from disk: one regular file, never more than it may hold.

A path given to ``modelship validate`` may name anything: a pipe (reading it waits for a
writer that never comes), a device such as /dev/zero (reading it never ends), a link, or a
file far larger than any MLproject. The file is opened without following a link and without
blocking, checked to be a regular file, and read only up to the size an MLproject may have.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from generator.mlproject import MAX_BYTES, too_large


class Unreadable(Exception):
    """The file is not one an MLproject can be read from; ``message`` says why, naming it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def read(path: Path) -> str:
    """The text of the MLproject at ``path``; :class:`Unreadable` when it is not a regular
    UTF-8 file of at most MAX_BYTES, OSError when the system cannot read it."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise Unreadable(
                f"{path.name} is a symbolic link; Modelship reads only regular files"
            ) from None
        raise
    with os.fdopen(descriptor, "rb") as handle:
        mode = os.fstat(handle.fileno()).st_mode
        if not stat.S_ISREG(mode):
            raise Unreadable(
                f"{path.name} is not a regular file (a folder, a pipe, a socket or a device)"
            )
        data = handle.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        size = max(len(data), path.stat().st_size)
        raise Unreadable(too_large(path.name, size))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Unreadable(f"{path.name} is not UTF-8 text (byte {error.start})") from None
