"""A model repository's own check knows the platform's rules: `validate --platform` with the
platform repository's checkout, or with the URL where it publishes platform.yaml (served
here by a loopback server that answers as GitHub's raw file host does), so a typo'd team or
a taken id fails in the model repository's pull request, not at publish."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from generator.errors import ExitCode
from testsupport.helpers import mlproject, platform_dir, write_repo
from testsupport.inprocess import modelship

TOKEN = "github_pat_platform_reader"


class RawFiles(BaseHTTPRequestHandler):
    """GET /<owner>/<repo>/<branch>/<path> like raw.githubusercontent.com: a private
    repository's files answer 404 unless the request carries a token that may read them."""

    root = None
    private = False
    seen: list

    def do_GET(self):
        self.seen.append((self.path, self.headers.get("Authorization")))
        _, owner, repo, branch, *rest = self.path.split("/")
        authorised = self.headers.get("Authorization") == f"token {TOKEN}"
        path = self.root.joinpath(*rest)
        if (owner, repo, branch) != ("acme", "ml-platform", "main") or not path.is_file():
            self.send_error(404)
            return
        if self.private and not authorised:
            self.send_error(404)
            return
        body = path.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def raw(tmp_path):
    """The example platform, rendered, published on a loopback raw-file host."""
    platform = platform_dir(tmp_path / "platform")
    assert modelship("render", cwd=platform).returncode == ExitCode.OK
    handler = type("Handler", (RawFiles,), {"root": platform, "seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        handler.url = (
            f"http://127.0.0.1:{server.server_address[1]}/acme/ml-platform/main/platform.yaml"
        )
        yield handler
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def model_repo(tmp_path, name, **keys):
    return write_repo(tmp_path / "checkout", name, mlproject(name=name, **keys))


def test_a_typod_team_fails_in_the_model_repository(tmp_path, raw):
    repo = model_repo(tmp_path, "churn-model", team="rndd")
    result = modelship("validate", "--platform", raw.url, str(repo), cwd=tmp_path)
    assert result.returncode == ExitCode.FINDINGS
    assert "MLproject:3:7: team: team 'rndd' is not a team of this platform" in result.stdout
    # read once each: platform.yaml, and index.json beside it (rendered.path)
    assert [path for path, _ in raw.seen] == [
        "/acme/ml-platform/main/platform.yaml",
        "/acme/ml-platform/main/rendered/index.json",
    ]
    alone = modelship("validate", str(repo), cwd=tmp_path)  # without the platform: no rule
    assert alone.returncode == ExitCode.OK


def test_an_id_is_free_or_already_this_repositorys(tmp_path, raw):
    taken = model_repo(tmp_path, "new-pricing-model", id="size-advice")
    result = modelship("validate", "--platform", raw.url, str(taken), cwd=tmp_path)
    assert result.returncode == ExitCode.FINDINGS
    assert (
        "MLproject:2:5: id: id 'size-advice' already belongs to acme/size-advice-model"
        in result.stdout
    )
    own = write_repo(
        tmp_path / "own",
        "size-advice-model",
        (raw.root / "examples/repos/size-advice-model/MLproject").read_text(),
    )
    assert modelship("validate", "--platform", raw.url, str(own), cwd=tmp_path).returncode == 0
    # the repository's name can be given where the folder is named otherwise
    renamed = write_repo(tmp_path / "ci", "workspace", own.joinpath("MLproject").read_text())
    named = modelship(
        "validate",
        "--platform",
        raw.url,
        "--repository",
        "acme/size-advice-model",
        str(renamed),
        cwd=tmp_path,
    )
    assert named.returncode == ExitCode.OK, named.stdout + named.stderr
    free = model_repo(tmp_path, "churn-model", id="churn")
    assert modelship("validate", "--platform", raw.url, str(free), cwd=tmp_path).returncode == 0
    # without PATHs: the MLproject of the folder it runs in, the model repository's root
    here = modelship("validate", "--platform", raw.url, cwd=taken)
    assert here.returncode == ExitCode.FINDINGS
    assert "MLproject:2:5: id: id 'size-advice' already belongs to" in here.stdout


def test_a_private_platform_needs_a_token_which_is_never_printed(tmp_path, raw):
    raw.private = True
    repo = model_repo(tmp_path, "churn-model")
    refused = modelship("validate", "--platform", raw.url, str(repo), cwd=tmp_path)
    assert refused.returncode == ExitCode.USAGE
    assert "no such file (HTTP 404)" in refused.stderr
    assert "$MODELSHIP_PLATFORM_TOKEN" in refused.stderr
    allowed = modelship(
        "validate",
        "--platform",
        raw.url,
        str(repo),
        cwd=tmp_path,
        env={"MODELSHIP_PLATFORM_TOKEN": TOKEN},
    )
    assert allowed.returncode == ExitCode.OK, allowed.stderr
    assert TOKEN not in allowed.stdout + allowed.stderr
    assert raw.seen[-1] == ("/acme/ml-platform/main/rendered/index.json", f"token {TOKEN}")


def test_only_https_is_read_and_only_validate_reads_a_url(tmp_path):
    repo = model_repo(tmp_path, "churn-model")
    plain = modelship(
        "validate",
        "--platform",
        "http://platform.acme.example/platform.yaml",
        str(repo),
        cwd=tmp_path,
    )
    assert plain.returncode == ExitCode.USAGE
    assert "only https:// URLs are read (http:// only on loopback)" in plain.stderr
    other = modelship(
        "render", "--platform", "https://platform.acme.example/platform.yaml", cwd=tmp_path
    )
    assert other.returncode == ExitCode.USAGE
    assert "only `modelship validate` reads a platform from a URL" in other.stderr


def test_a_platform_without_model_repositories_is_said(tmp_path):
    platform = platform_dir(tmp_path, repos={})
    result = modelship("validate", cwd=platform)
    assert result.returncode == ExitCode.OK
    assert (
        "modelship: warning: the platform's source (local) has no model repositories: "
        "nothing was checked" in result.stderr
    )


def test_a_platform_larger_than_1_mib_is_refused_from_a_url_and_from_a_file_alike(tmp_path, raw):
    platform = raw.root / "platform.yaml"
    text = platform.read_text()
    platform.write_text(text + "#" + "x" * (1024 * 1024 - len(text.encode())) + "\n")
    repo = model_repo(tmp_path, "churn-model")
    online = modelship("validate", "--platform", raw.url, str(repo), cwd=tmp_path)
    assert online.returncode == ExitCode.USAGE
    assert "platform.yaml: platform.yaml is larger than 1,048,576 bytes" in online.stderr
    local = modelship("validate", "--platform", str(platform), str(repo), cwd=tmp_path)
    assert local.returncode == ExitCode.USAGE
    assert (
        "is 1,048,578 bytes, more than the 1,048,576 bytes a platform.yaml may have" in local.stderr
    )
