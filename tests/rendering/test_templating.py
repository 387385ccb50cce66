"""The renderer tells which context names a template reads (a target may leave out a value
no template reads)."""

from generator.rendering.templating import Renderer


def test_the_names_a_template_and_its_includes_read():
    renderer = Renderer(
        {
            "consul/kv.json.j2": '{% include "consul/_part.json.j2" %}{{ kv_json }}\n',
            "consul/_part.json.j2": "{{ entries | to_json }}",
        }
    )
    assert renderer.reads("consul/kv.json.j2") == {"kv_json", "entries"}


def test_a_template_whose_include_is_chosen_at_run_time_reads_what_it_may():
    renderer = Renderer({"consul/kv.json.j2": "{% include name %}"})
    assert renderer.reads("consul/kv.json.j2") is None


def test_a_template_with_a_syntax_error_or_none_at_all_is_left_to_render():
    renderer = Renderer({"consul/kv.json.j2": "{{ kv_json "})
    assert renderer.reads("consul/kv.json.j2") is None
    assert renderer.reads("consul/other.json.j2") is None
