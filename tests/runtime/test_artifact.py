"""The artifact: one file whose sha1 is the version; an MLflow model as a deterministic tar."""

import hashlib
import io
import os
import subprocess
import sys
import tarfile

import pytest
from modelship_runtime import artifact

from testsupport.helpers import ROOT

SCRIPT = ROOT / "runtime" / "python" / "modelship_runtime" / "artifact.py"


def mlflow_like(folder):
    (folder / "nested").mkdir(parents=True)
    (folder / "MLmodel").write_text("flavors: {}\n")
    (folder / "nested" / "model.pkl").write_bytes(b"\x80\x04weights")
    (folder / "empty").mkdir()
    return folder


def test_the_same_folder_always_packs_to_the_same_bytes(tmp_path):
    one = mlflow_like(tmp_path / "one")
    two = mlflow_like(tmp_path / "two")
    os.utime(two / "MLmodel", (1, 1))
    (two / "nested" / "model.pkl").chmod(0o600)
    first = artifact.pack(one, tmp_path / "one.tar")
    second = artifact.pack(two, tmp_path / "two.tar")
    assert first == second == hashlib.sha1((tmp_path / "one.tar").read_bytes()).hexdigest()
    with tarfile.open(tmp_path / "one.tar") as archive:
        assert archive.getnames() == ["MLmodel", "empty", "nested", "nested/model.pkl"]
        assert {(m.mtime, m.uid, m.gid, m.uname) for m in archive.getmembers()} == {(0, 0, 0, "")}


def test_the_pack_script_needs_only_the_standard_library_and_prints_the_sha1(tmp_path):
    folder = mlflow_like(tmp_path / "model")
    result = subprocess.run(
        [sys.executable, "-I", str(SCRIPT), "pack", str(folder), str(tmp_path / "model.tar")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == hashlib.sha1((tmp_path / "model.tar").read_bytes()).hexdigest() + "\n"
    usage = subprocess.run(
        [sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=60
    )
    assert usage.returncode == 2
    assert usage.stderr.startswith("usage: artifact.py pack")


def test_unpack_gives_the_folder_back(tmp_path):
    folder = mlflow_like(tmp_path / "model")
    artifact.pack(folder, tmp_path / "model.tar")
    out = artifact.unpack(tmp_path / "model.tar", tmp_path / "out")
    assert (out / "nested" / "model.pkl").read_bytes() == b"\x80\x04weights"
    assert (out / "empty").is_dir()


def hostile_tar(path, member, data=b""):
    with tarfile.open(path, "w") as archive:
        archive.addfile(member, None if not member.isfile() else io.BytesIO(data))


@pytest.mark.parametrize(
    ("name", "kind", "message"),
    [
        ("../escape", tarfile.REGTYPE, "an entry outside its folder: '../escape'"),
        ("/etc/passwd", tarfile.REGTYPE, "an entry outside its folder: '/etc/passwd'"),
        ("link", tarfile.SYMTYPE, "a link or special file: 'link'"),
        ("hard", tarfile.LNKTYPE, "a link or special file: 'hard'"),
        ("fifo", tarfile.FIFOTYPE, "a link or special file: 'fifo'"),
    ],
)
def test_unpack_refuses_members_that_leave_the_folder_or_are_not_files(
    tmp_path, name, kind, message
):
    member = tarfile.TarInfo(name)
    member.type = kind
    member.linkname = "/etc/passwd" if kind in {tarfile.SYMTYPE, tarfile.LNKTYPE} else ""
    hostile_tar(tmp_path / "bad.tar", member)
    with pytest.raises(
        artifact.ArtifactError, match="the model tar holds " + message.replace("(", r"\(")
    ):
        artifact.unpack(tmp_path / "bad.tar", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_file_that_is_not_a_tar_is_refused(tmp_path):
    (tmp_path / "model.tar").write_bytes(b"not a tar at all" * 100)
    with pytest.raises(artifact.ArtifactError, match="is not a tar"):
        artifact.unpack(tmp_path / "model.tar", tmp_path / "out")


def test_pack_refuses_links(tmp_path):
    folder = mlflow_like(tmp_path / "model")
    (folder / "link").symlink_to(folder / "MLmodel")
    with pytest.raises(artifact.ArtifactError, match="only regular files and directories"):
        artifact.pack(folder, tmp_path / "model.tar")
