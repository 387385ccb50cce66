"""The platform.yaml a command reads is one regular file (a link to one will do) of at most
1 MiB, as from a URL: a pipe, a device or a huge file named by --platform is exit 2 naming
it, never a hang or a run out of memory. The runs are bounded in time and in memory, so that
reading such a file whole fails the test instead of the machine."""

import os
import resource
import subprocess
import sys

from generator.config import loader
from generator.errors import ExitCode
from testsupport.helpers import ROOT, platform_dir

TEXT = (ROOT / "platform.yaml").read_text()
MEMORY = 1024**3  # bytes of address space a run may use: far more than it needs


def bounded() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def render(folder, platform):
    return subprocess.run(
        [sys.executable, "-m", "generator", "--platform", str(platform), "render", "--dry-run"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=bounded,
        check=False,
    )


def padded(size: int) -> str:
    """The example platform.yaml, made ``size`` bytes long with a comment."""
    filler = size - len(TEXT.encode()) - len("#\n")
    return TEXT + "#" + "x" * filler + "\n"


def refused(result, shown, problem):
    assert result.returncode == ExitCode.USAGE, result.stderr
    assert result.stderr.startswith(f"modelship: error: {shown}: "), result.stderr
    assert problem in result.stderr


def test_a_pipe_is_refused_without_waiting_for_a_writer(tmp_path):
    folder = platform_dir(tmp_path, repos={})
    pipe = folder / "pipe.yaml"
    os.mkfifo(pipe)
    refused(render(folder, pipe), pipe, "not a regular file")


def test_a_device_is_refused_without_reading_it(tmp_path):
    folder = platform_dir(tmp_path, repos={})
    refused(render(folder, "/dev/zero"), "/dev/zero", "not a regular file")


def test_a_folder_is_refused(tmp_path):
    folder = platform_dir(tmp_path, repos={})
    refused(render(folder, folder), folder, "not a regular file")


def test_a_link_to_a_pipe_is_refused_and_a_link_to_the_file_is_read(tmp_path):
    folder = platform_dir(tmp_path, repos={})
    os.mkfifo(folder / "pipe")
    (folder / "to-pipe.yaml").symlink_to("pipe")
    refused(render(folder, folder / "to-pipe.yaml"), folder / "to-pipe.yaml", "not a regular file")
    (folder / "to-platform.yaml").symlink_to("platform.yaml")
    result = render(folder, folder / "to-platform.yaml")
    assert result.returncode == ExitCode.OK, result.stderr


def test_a_huge_sparse_file_is_refused_without_reading_it(tmp_path):
    folder = platform_dir(tmp_path, repos={})
    huge = folder / "huge.yaml"
    with huge.open("wb") as handle:
        handle.truncate(3 * 1024**3)  # 3 GiB of holes: no disk, but read whole it needs 6 GiB
    refused(
        render(folder, huge),
        huge,
        "huge.yaml is 3,221,225,472 bytes, more than the 1,048,576 bytes a platform.yaml may have",
    )


def test_a_platform_yaml_of_1_mib_is_read_and_one_byte_more_is_not(tmp_path):
    folder = platform_dir(tmp_path, repos={})
    path = folder / "platform.yaml"
    path.write_text(padded(loader.PLATFORM_LIMIT))
    assert render(folder, path).returncode == ExitCode.OK
    path.write_text(padded(loader.PLATFORM_LIMIT + 1))
    refused(
        render(folder, path),
        path,
        "platform.yaml is 1,048,577 bytes, more than the 1,048,576 bytes a platform.yaml may have",
    )


def test_a_platform_yaml_that_is_not_utf8_says_where(tmp_path):
    folder = platform_dir(tmp_path, repos={})
    path = folder / "platform.yaml"
    path.write_bytes(TEXT.encode() + b"# \xff\n")
    refused(render(folder, path), path, "platform.yaml is not UTF-8 text (byte ")
