"""The model artifact: one file whose sha1 is the MLproject's ``version``.

A pickle is that file as it is. An MLflow model is a directory (``MLmodel`` and the files its
flavours name), so it is stored as one *deterministic* tar of that directory: entries sorted by
path, only regular files and directories, modes 0644/0755, owner 0:0 without names, mtime 0,
POSIX format, no compression. The same directory always gives the same bytes, hence the same
sha1: pack it once, put the tar in the artifact store, and write its sha1 as ``version``::

    python runtime/python/modelship_runtime/artifact.py pack path/to/mlflow-model model.tar

prints the sha1 (the script needs only Python's standard library). The server checks the
artifact's sha1 against MODEL_VERSION before it loads anything, and unpacks a tar only after
checking every member (no links, devices, absolute paths or ``..``).
"""

from __future__ import annotations

import hashlib
import io
import sys
import tarfile
from pathlib import Path, PurePosixPath

CHUNK = 1024 * 1024


class ArtifactError(Exception):
    """The artifact is missing, is not the version asked for, or is not a valid model tar."""


def sha1_of(path: Path) -> str:
    digest = hashlib.sha1()  # the platform's version is a sha1; not a security boundary here
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
    except OSError as error:
        raise ArtifactError(f"cannot read the model artifact {path}: {error.strerror}") from None
    return digest.hexdigest()


def verify(path: Path, version: str) -> None:
    actual = sha1_of(path)
    if actual != version:
        raise ArtifactError(
            f"the model artifact {path} has sha1 {actual}, but MODEL_VERSION is {version}: "
            "this image does not hold the model version it was deployed as"
        )


def _entry(name: str, *, directory: bool, size: int = 0) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE if directory else tarfile.REGTYPE
    info.mode = 0o755 if directory else 0o644
    info.size = size
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def pack(directory: Path, destination: Path) -> str:
    """Write the deterministic tar of ``directory`` to ``destination``; return its sha1."""
    paths = sorted(directory.rglob("*"), key=lambda p: p.relative_to(directory).as_posix())
    with tarfile.open(destination, "w", format=tarfile.PAX_FORMAT) as archive:
        for path in paths:
            name = path.relative_to(directory).as_posix()
            if path.is_symlink() or not (path.is_dir() or path.is_file()):
                raise ArtifactError(f"{path}: only regular files and directories can be packed")
            if path.is_dir():
                archive.addfile(_entry(name, directory=True))
            else:
                data = path.read_bytes()
                archive.addfile(_entry(name, directory=False, size=len(data)), io.BytesIO(data))
    return sha1_of(destination)


def unpack(archive_path: Path, destination: Path) -> Path:
    """Unpack a model tar into ``destination`` after checking every member; return it."""
    try:
        with tarfile.open(archive_path, "r:") as archive:
            members = archive.getmembers()
            for member in members:
                _check_member(member)
            for member in members:
                target = destination.joinpath(*PurePosixPath(member.name).parts)
                if member.isdir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                source = archive.extractfile(member)
                assert source is not None  # a regular file, checked above
                with source, target.open("wb") as handle:
                    while chunk := source.read(CHUNK):
                        handle.write(chunk)
    except tarfile.TarError as error:
        raise ArtifactError(f"the model artifact {archive_path} is not a tar: {error}") from None
    return destination


def _check_member(member: tarfile.TarInfo) -> None:
    path = PurePosixPath(member.name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise ArtifactError(f"the model tar holds an entry outside its folder: {member.name!r}")
    if not (member.isfile() or member.isdir()):
        raise ArtifactError(f"the model tar holds a link or special file: {member.name!r}")


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] != "pack":
        print("usage: artifact.py pack MLFLOW_MODEL_DIR OUTPUT.tar", file=sys.stderr)
        return 2
    try:
        print(pack(Path(argv[1]), Path(argv[2])))
    except (ArtifactError, OSError) as error:
        print(f"artifact.py: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
