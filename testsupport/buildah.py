"""Debian's buildah as the tests drive it: rootless of any daemon, ``--isolation chroot`` and
``--storage-driver vfs`` in a storage folder of the test's own, images pushed to loopback."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

BUILD_TIMEOUT_S = 600
# vfs copies every layer whole: a few copies of a Python root file system with numpy, scipy
# and scikit-learn. In memory they are fast to write and gone at once when unmounted.
STORAGE_SIZE = "8g"


def buildah_binary() -> str:
    found = shutil.which("buildah")
    if found is None:
        pytest.fail("buildah is not installed; run scripts/bootstrap --test, which installs it")
    return found


@dataclass(frozen=True)
class Buildah:
    storage: Path

    def run(self, *args: str, env: dict[str, str] | None = None) -> str:
        command = [
            buildah_binary(),
            "--root", str(self.storage / "root"),
            "--runroot", str(self.storage / "run"),
            "--storage-driver", "vfs",
            *args,
        ]  # fmt: skip
        result = subprocess.run(
            command, capture_output=True, text=True, env=env, timeout=BUILD_TIMEOUT_S, check=False
        )
        if result.returncode != 0:
            pytest.fail(f"buildah {args[0]} failed ({result.returncode}):\n{result.stderr[-4000:]}")
        return result.stdout.strip()

    def import_rootfs(self, tarball: Path, image: str) -> None:
        """A root file system tar (mmdebstrap's) as a one-layer local image."""
        container = self.run("from", "--quiet", "scratch")
        self.run("add", "--quiet", container, str(tarball), "/")
        self.run("config", "--env", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                 "--cmd", "python3", container)  # fmt: skip
        self.run("commit", "--quiet", container, image)
        self.run("rm", container)

    def build(self, context: Path, tag: str, build_args: dict[str, str], env: dict[str, str],
              *extra: str) -> None:  # fmt: skip
        """``buildah bud`` as ``docker build`` runs in the pipeline; build arguments without a
        value take theirs from ``env``, as Docker's do."""
        arguments = [arg for name, value in build_args.items()
                     for arg in ("--build-arg", name if value is None else f"{name}={value}")]  # fmt: skip
        self.run("bud", "--quiet", "--isolation", "chroot", "--tls-verify=false",
                 *arguments, *extra, "--tag", tag, str(context), env=env)  # fmt: skip

    def push(self, image: str) -> None:
        self.run("push", "--quiet", "--tls-verify=false", "--disable-compression", image,
                 f"docker://{image}")  # fmt: skip

    def mount_image(self, image: str) -> tuple[str, Path, dict]:
        """A container of ``image``, its mounted root file system, and the image's
        configuration (Env, WorkingDir, Entrypoint, User)."""
        container = self.run("from", "--quiet", image)
        root = Path(self.run("mount", container))
        config = json.loads(self.run("inspect", "--type", "image", image))["OCIv1"]["config"]
        return container, root, config


@contextlib.contextmanager
def in_memory_storage(folder: Path) -> Iterator[Buildah]:
    """buildah with its storage on a tmpfs at ``folder``, unmounted when the block ends."""
    folder.mkdir(parents=True)
    subprocess.run(
        [
            "mount",
            "-t",
            "tmpfs",
            "-o",
            f"size={STORAGE_SIZE},mode=0700",
            "modelship-buildah",
            str(folder),
        ],
        check=True,
        timeout=30,
    )
    try:
        yield Buildah(folder)
    finally:
        subprocess.run(["umount", "--lazy", str(folder)], check=True, timeout=30)
