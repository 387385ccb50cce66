"""index.json's stamps (generator/index_stamps.py): a run reads the index.json the last run
wrote without checking it again, and checks any other text — an edit by hand, a text
written or judged by other code — as it always did."""

import json
import os
import tempfile
from pathlib import Path

import pytest

from generator import index, resources
from generator.errors import ExitCode
from generator.index_stamps import KEPT, PREFIX, IndexStamps
from testsupport.helpers import ROOT, platform_dir
from testsupport.inprocess import modelship

CODE = resources.code_digest()
HEALED = "the damaged index.json entry of model 'size-advice' is replaced by a new render"


@pytest.fixture
def private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The system's temporary folder is the test's (as TMPDIR sets it): this user's private
    folder in it, where the stamps are kept."""
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    return temporary / f"_jinja2-cache-{os.getuid()}"


def stamps_in(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.glob(f"{PREFIX}*"))


def rendered_then_damaged(tmp_path: Path) -> tuple[Path, Path]:
    """The example platform rendered, then its index.json damaged by hand (an slo of
    size-advice's spec made a word): the platform's folder, and its index.json."""
    folder = platform_dir(tmp_path / "platform")
    assert modelship("render", cwd=folder).returncode == ExitCode.OK
    path = folder / "rendered" / "index.json"
    document = json.loads(path.read_bytes())
    entry = document["models"]["size-advice"]
    entry["specs"][entry["spec"]]["slo"] = "fast"
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    return folder, path


class Known:
    """An ``index.Stamps`` that knows one text sound."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.stamped: list[bytes] = []

    def sound(self, data: bytes) -> bool:
        return data == self.data

    def stamp(self, data: bytes) -> None:
        self.stamped.append(data)


@pytest.mark.parametrize(
    "path", [ROOT / "rendered" / "index.json", ROOT / "tests" / "data" / "index-format-1.json"]
)
def test_a_sound_text_read_unchecked_is_the_index_the_check_gives(path):
    data = path.read_bytes()
    checked = index.loads(data)
    assert not checked.damaged
    assert index.loads(data, stamps=Known(data)) == checked


def test_a_text_the_check_finds_sound_is_stamped_and_a_damaged_one_is_not():
    data = (ROOT / "rendered" / "index.json").read_bytes()
    told = Known(b"")
    index.loads(data, stamps=told)
    assert told.stamped == [data]
    document = json.loads(data)
    entry = next(iter(document["models"].values()))
    entry["specs"][entry["spec"]]["slo"] = "fast"
    damaged = json.dumps(document).encode()
    told = Known(b"")
    assert index.loads(damaged, stamps=told).damaged
    assert told.stamped == []


def test_a_render_stamps_the_index_it_writes_and_the_next_run_finds_it_sound(private, tmp_path):
    folder = platform_dir(tmp_path / "platform")
    assert modelship("render", cwd=folder).returncode == ExitCode.OK
    written = (folder / "rendered" / "index.json").read_bytes()
    assert IndexStamps(CODE, private).sound(written)
    assert not IndexStamps("sha256:" + "0" * 64, private).sound(written), "other code"
    assert not IndexStamps(CODE, private).sound(written + b" ")
    assert modelship("render", "--check", cwd=folder).returncode == ExitCode.OK


def test_an_index_damaged_by_hand_after_a_stamped_render_is_checked(private, tmp_path):
    folder = platform_dir(tmp_path / "platform")
    assert modelship("render", cwd=folder).returncode == ExitCode.OK
    assert stamps_in(private)
    path = folder / "rendered" / "index.json"
    document = json.loads(path.read_bytes())
    entry = document["models"]["size-advice"]
    entry["specs"][entry["spec"]]["slo"] = "fast"
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    damaged = path.read_bytes()
    result = modelship("render", cwd=folder)
    assert result.returncode == ExitCode.OK, result.stderr
    assert HEALED in result.stderr
    assert not IndexStamps(CODE, private).sound(damaged)
    assert IndexStamps(CODE, private).sound(path.read_bytes()), "the healed index is stamped"


def test_render_full_checks_index_json_whatever_its_stamp_says(private, tmp_path):
    folder, path = rendered_then_damaged(tmp_path)
    IndexStamps(CODE, private).stamp(path.read_bytes())  # a stamp no run of Modelship gave
    result = modelship("render", "--full", cwd=folder)
    assert result.returncode == ExitCode.OK, result.stderr
    assert HEALED in result.stderr


def test_only_the_newest_stamps_are_kept(tmp_path):
    stamps = IndexStamps(CODE, tmp_path)
    texts = [b"%d" % number for number in range(KEPT + 3)]
    for number, text in enumerate(texts, start=1):
        stamps.stamp(text)
        for stamp in tmp_path.glob(f"{PREFIX}*"):  # the one made now: older than the next
            if stamp.stat().st_mtime_ns > 10**18:
                os.utime(stamp, ns=(10**9 * number, 10**9 * number))
    assert len(stamps_in(tmp_path)) == KEPT
    assert [stamps.sound(text) for text in texts] == [False] * 3 + [True] * KEPT


def test_a_folder_that_cannot_be_written_only_makes_runs_slower(tmp_path):
    missing = IndexStamps(CODE, tmp_path / "missing")
    missing.stamp(b"{}")
    assert not missing.sound(b"{}")


def test_a_link_in_place_of_a_stamp_is_no_stamp(tmp_path):
    stamps = IndexStamps(CODE, tmp_path)
    stamps.stamp(b"{}")
    [stamp] = tmp_path.glob(f"{PREFIX}*")
    stamp.unlink()
    (tmp_path / "elsewhere").write_text("")
    stamp.symlink_to(tmp_path / "elsewhere")
    assert not stamps.sound(b"{}")
    stamps.stamp(b"{}")
    assert not stamps.sound(b"{}"), "the link is not followed to make a stamp"


def test_an_index_holding_a_damaged_entry_kept_as_it_was_is_never_stamped(private, tmp_path):
    folder, path = rendered_then_damaged(tmp_path)
    mlproject = folder / "examples" / "repos" / "size-advice-model" / "MLproject"
    mlproject.write_text(mlproject.read_text().replace("slo: 80000", "slo: fast"))
    for _ in range(2):  # reported on every run, its entry written back as it was
        result = modelship("render", cwd=folder)
        assert result.returncode == ExitCode.FINDINGS, result.stderr
        assert "the index.json entry of model 'size-advice' is damaged" in result.stderr
        assert "Traceback" not in result.stderr
        assert not IndexStamps(CODE, private).sound(path.read_bytes())


def test_a_pipe_in_place_of_a_stamp_is_no_stamp_and_no_wait(tmp_path):
    stamps = IndexStamps(CODE, tmp_path)
    stamps.stamp(b"{}")
    [stamp] = tmp_path.glob(f"{PREFIX}*")
    stamp.unlink()
    os.mkfifo(stamp)
    stamps.stamp(b"{}")  # O_NONBLOCK: a pipe with no reader fails at once, never waits
    assert not stamps.sound(b"{}")


def test_the_run_after_a_render_reads_its_index_unchecked_and_full_checks_it(
    private, tmp_path, monkeypatch
):
    folder = platform_dir(tmp_path / "platform")
    assert modelship("render", cwd=folder).returncode == ExitCode.OK
    checks = []
    check = index._check
    monkeypatch.setattr(index, "_check", lambda *a, **k: checks.append(1) or check(*a, **k))
    assert modelship("render", cwd=folder).returncode == ExitCode.OK
    assert checks == []
    assert modelship("render", "--full", cwd=folder).returncode == ExitCode.OK
    assert checks
