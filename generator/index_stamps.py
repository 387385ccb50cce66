"""Stamps of the index.json texts known sound, kept between runs.   (edge: disk)

Every run reads index.json as untrusted input and checks it whole (``index.loads``): at
10,000 models that is the largest stage of a re-run. Yet the text a run reads is nearly
always the very text the last run wrote, and what Modelship writes passes its own check
(what ``validate`` accepts, index.json accepts). A stamp is an empty file named by the
digest of a text and of the code that judged it — this Modelship's modules, the index and
MLproject schemas, and jsonschema's version: a run stamps the index.json it plans (unless it
holds an entry kept verbatim because it is damaged) and the one it checked and found sound;
a run that reads a stamped text skips the check. Any other text — edited by hand, merged,
written by another version — has no stamp, and is checked.

Stamps are kept in this user's private folder of the system's temporary folder
(``resources.private_folder``, beside the compiled templates), the newest ``KEPT`` of
them. A folder that cannot be read or written only makes runs slower; ``render --full``
reads no stamp.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import os
import stat
from functools import cache
from pathlib import Path

from generator import digests, resources

KEPT = 8  # stamps kept: a run reads the text the last one wrote
PREFIX = "modelship-index-"
_JUDGES = ("index", "mlproject")  # the schemas index.loads checks a text by


@cache
def _judge_digest(code: str) -> str:
    """The code that judges a text: Modelship's modules (``code``), the schemas the check
    reads, and the version of the jsonschema that applies them."""
    schemas = (hashlib.sha256(resources.schema_bytes(name)).hexdigest() for name in _JUDGES)
    return digests.of_text(code, importlib.metadata.version("jsonschema"), *schemas)


class IndexStamps:
    """The stamps of ``folder`` (default: ``resources.private_folder()``) under ``code``
    (``resources.code_digest()``); an ``index.Stamps``."""

    def __init__(self, code: str, folder: Path | None = None) -> None:
        self._judge = _judge_digest(code)
        self._folder = folder if folder is not None else resources.private_folder()

    def _path(self, data: bytes) -> Path | None:
        if self._folder is None:
            return None
        text = digests.of_text(self._judge, hashlib.sha256(data).hexdigest())
        return self._folder / f"{PREFIX}{text.removeprefix(digests.PREFIX)}"

    def sound(self, data: bytes) -> bool:
        path = self._path(data)
        try:
            return path is not None and stat.S_ISREG(os.lstat(path).st_mode)
        except OSError:
            return False

    def stamp(self, data: bytes) -> None:
        """Give ``data`` a stamp (the newest), and remove all but the ``KEPT`` newest."""
        path = self._path(data)
        if path is None:
            return
        with contextlib.suppress(OSError):
            flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK
            descriptor = os.open(path, flags, 0o600)
            try:
                if not stat.S_ISREG(os.fstat(descriptor).st_mode):
                    return  # a pipe or device in its place is no stamp
                os.utime(descriptor)
            finally:
                os.close(descriptor)
            _prune(path.parent)


def _prune(folder: Path) -> None:
    with os.scandir(folder) as entries:
        stamps = [
            (entry.stat(follow_symlinks=False).st_mtime_ns, entry.path)
            for entry in entries
            if entry.name.startswith(PREFIX)
        ]
    for _, old in sorted(stamps, reverse=True)[KEPT:]:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(old)
