"""Reading one file from disk: a regular file, never more than it may hold.   (edge: disk)

A path may name anything: a pipe (reading it waits for a writer that never comes), a
device such as /dev/zero (reading it never ends), a link (to nowhere, or out of the
folder it is in), or a file far larger than any Modelship reads. The file is opened
without blocking (and without following a link, unless the caller allows one), checked
to be a regular file, and read only up to the size it may have.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from generator.wording import too_large


class Unreadable(Exception):
    """The file is not one Modelship reads; ``message`` says why, naming it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def read(path: Path, limit: int, what: str, *, follow_links: bool = False) -> bytes:
    """The bytes of ``path``, ``what`` it holds (``an MLproject``) for messages;
    :class:`Unreadable` when it is a link (unless ``follow_links``: then a link to a
    regular file will do), not a regular file or more than ``limit`` bytes, OSError when
    the system cannot read it."""
    flags = os.O_RDONLY | os.O_NONBLOCK | (0 if follow_links else os.O_NOFOLLOW)
    try:
        descriptor = os.open(path, flags)
    except OSError as error:
        if error.errno == errno.ELOOP and not follow_links:
            raise Unreadable(
                f"{path.name} is a symbolic link; Modelship reads only regular files"
            ) from None
        raise
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise Unreadable(
            f"{path.name} is not a regular file (a folder, a pipe, a socket or a device)"
        )
    with os.fdopen(descriptor, "rb") as handle:
        data = handle.read(limit + 1)
        if len(data) > limit:
            size = max(len(data), os.fstat(handle.fileno()).st_size)
            raise Unreadable(too_large(path.name, size, limit, what))
    return data


def read_text(path: Path, limit: int, what: str, *, follow_links: bool = False) -> str:
    """``read``'s bytes as UTF-8 text; :class:`Unreadable` when they are not."""
    data = read(path, limit, what, follow_links=follow_links)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Unreadable(f"{path.name} is not UTF-8 text (byte {error.start})") from None
