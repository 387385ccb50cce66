"""A PEP 503 "simple" package index on loopback, serving a folder of wheels: what pip in an
image build installs from (PIP_INDEX_URL), in place of PyPI, which the tests never reach."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import html
import re
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

STOP_TIMEOUT_S = 5.0


def _project(wheel: Path) -> str:
    return re.sub(r"[-_.]+", "-", wheel.name.split("-", 1)[0]).lower()


def write_index(wheels: Path, root: Path) -> None:
    """``root/simple/<project>/index.html`` for every wheel in ``wheels``, each link with its
    sha256 (pip checks it), and the wheels themselves under ``root/files/``."""
    (root / "files").mkdir(parents=True)
    projects: dict[str, list[Path]] = {}
    for wheel in sorted(wheels.glob("*.whl")):
        projects.setdefault(_project(wheel), []).append(wheel)
        (root / "files" / wheel.name).hardlink_to(wheel)
    for project, files in projects.items():
        folder = root / "simple" / project
        folder.mkdir(parents=True)
        links = "".join(
            f'<a href="/files/{html.escape(f.name)}#sha256='
            f'{hashlib.sha256(f.read_bytes()).hexdigest()}">{html.escape(f.name)}</a><br>\n'
            for f in files
        )
        (folder / "index.html").write_text(
            f"<!DOCTYPE html>\n<html><body>\n{links}</body></html>\n"
        )


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def serving_index(wheels: Path, root: Path) -> Iterator[str]:
    """The index's URL (``http://127.0.0.1:<port>/simple``) until the block ends."""
    write_index(wheels, root)
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(root))
    )
    server.daemon_threads = True
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/simple"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=STOP_TIMEOUT_S)
