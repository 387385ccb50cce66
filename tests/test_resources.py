"""The cache of compiled templates that runs keep for each other (resources.py)."""

from jinja2 import bccache

from generator import resources
from generator.rendering.templating import Renderer

TEMPLATES = {
    "site.conf.j2": '{% include "_header.conf.j2" %}\nlisten {{ port }};\n',
    "_header.conf.j2": "# made by Modelship\n",
}


def render(templates, compiled, port=80):
    return Renderer(templates, compiled).render("site.conf.j2", port=port)


def test_templates_compiled_by_an_earlier_run_are_kept_and_render_the_same_bytes(tmp_path):
    first = render(TEMPLATES, resources.compiled_templates(tmp_path))
    kept = {p: p.stat().st_mtime_ns for p in tmp_path.iterdir()}
    assert len(kept) == 2, "one compiled file per template"
    again = render(TEMPLATES, resources.compiled_templates(tmp_path))
    assert first == again == render(TEMPLATES, None) == b"# made by Modelship\nlisten 80;\n"
    assert {p: p.stat().st_mtime_ns for p in tmp_path.iterdir()} == kept, "compiled again"


def test_a_template_changed_under_the_same_name_is_compiled_again(tmp_path):
    render(TEMPLATES, resources.compiled_templates(tmp_path))
    changed = {**TEMPLATES, "site.conf.j2": "listen 127.0.0.1:{{ port }};\n"}
    assert render(changed, resources.compiled_templates(tmp_path)) == b"listen 127.0.0.1:80;\n"


def test_a_cache_that_cannot_be_written_only_makes_rendering_slower(tmp_path):
    (tmp_path / "a-file").write_text("")
    unwritable = tmp_path / "a-file" / "cache"
    text = render(TEMPLATES, resources.compiled_templates(unwritable), port=8080)
    assert text == b"# made by Modelship\nlisten 8080;\n"
    assert not unwritable.exists()


def test_a_damaged_cache_file_is_compiled_again(tmp_path):
    render(TEMPLATES, resources.compiled_templates(tmp_path))
    for kept in tmp_path.iterdir():
        # Jinja2's header intact, then what no unpickler reads.
        kept.write_bytes(bccache.bc_magic + b"\x80\x04damaged")
    assert render(TEMPLATES, resources.compiled_templates(tmp_path), port=81) == (
        b"# made by Modelship\nlisten 81;\n"
    )
