"""The step-through page's markup: self-contained, escaped, and with a Content-Security-Policy that holds.

Pins down: the CSP allows exactly the page's own script and style (their SHA-256 hashes match) and
nothing else; no label can end the JSON's script element or open a comment; the JSON carries the
labels back intact; the page refers to no external resource; writing a page changes no .grad, even
one that was not zero; each notebook view gets its own id; a graph too large to draw is refused, the
limit counting what one view shows (a grouped MLP sample of 981 nodes fits); a lone surrogate in a label
or the title is shown as its escape; a failed write keeps the old page (atomic); every box a step
names is on that view's drawing by the name the text uses; one page sorts the graph at most twice.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re

import pytest

from autograd_scalar import Value
from autograd_scalar.examples import sigmoid_neuron
from autograd_scalar.stepthrough import example, export_html, show_steps
from autograd_scalar.stepthrough_html import page_document

EVIL = '</script><script>alert(1)</script><!-- & "quotes" \u2028 line\nbreak'
SHOWN = EVIL.replace("\n", "\\n")  # control characters are shown escaped


def _sha(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


def _page_with_evil_label() -> tuple[str, Value]:
    x = Value(2.0, label=EVIL)
    return page_document((x * x + 1.0).tanh()), x


def test_csp_allows_only_the_pages_own_script_and_style():
    page, _ = _page_with_evil_label()
    policy = html.unescape(re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', page).group(1))
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'none'"
    scripts = re.findall(r"<script>(.*?)</script>", page, re.S)
    styles = re.findall(r"<style>(.*?)</style>", page, re.S)
    assert len(scripts) == 1 and len(styles) == 1
    assert directives["script-src"] == _sha(scripts[0])
    assert directives["style-src"] == _sha(styles[0])
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert not re.search(r"\son\w+\s*=", page)  # no inline event handlers anywhere
    assert "style=" not in page  # no style attributes (the CSP would block them)


def test_labels_cannot_break_out_of_the_json():
    page, _ = _page_with_evil_label()
    assert page.count("<script") == 2  # the steps' JSON and the page's script: nothing from the label
    assert "<!--" not in page
    raw = re.search(r'<script type="application/json" class="asc-data">(.*?)</script>', page, re.S).group(1)
    assert "<" not in raw and ">" not in raw and "&" not in raw
    data = json.loads(raw)
    assert SHOWN in data["views"][0]["frames"][1]["lines"][0]  # the first forward step names the label
    assert html.escape(SHOWN) in page  # the static list, escaped


def test_nothing_external():
    page, _ = _page_with_evil_label()
    urls = set(re.findall(r"(?:https?:)?//[\w.-]+[^\s\"'<>)]*", page))
    assert urls == {"http://www.w3.org/2000/svg"}  # a namespace name, never fetched
    assert not re.search(r"\s(src|href)=", page)


def test_export_changes_no_grad(tmp_path):
    f, leaves = sigmoid_neuron()
    leaves["w2"].grad = 5.0  # even a gradient left from earlier stays as it was
    export_html(f, tmp_path / "page.html")
    assert leaves["w2"].grad == 5.0 and f.grad == 0.0 and leaves["x0"].grad == 0.0
    assert "grad 0.1966" in (tmp_path / "page.html").read_text(encoding="utf-8")  # final gradients drawn


def test_notebook_views_have_their_own_ids():
    first, second = show_steps(example("branch"))._repr_html_(), show_steps(example("branch"))._repr_html_()
    id_of = lambda markup: re.search(r'class="asc-step" id="([\w-]+)"', markup).group(1)  # noqa: E731
    assert id_of(first) != id_of(second)
    assert f'document.getElementById("{id_of(first)}")' in first
    assert "Content-Security-Policy" not in first  # a cell is part of the notebook's page, not a document


def test_naive_section_on_request(tmp_path):
    plain = export_html(example("naive"), tmp_path / "plain.html").read_text(encoding="utf-8")
    assert "Why the order matters" not in plain
    page = export_html(example("naive"), tmp_path / "naive.html", naive=True).read_text(encoding="utf-8")
    section = re.search(r'<pre class="asc-naive">(.*?)</pre>', page, re.S).group(1)
    assert "a  naive       6.0   backward()       4.0   WRONG" in html.unescape(section)


def test_huge_graphs_are_refused_before_anything_is_written(tmp_path):
    x = Value(1.0, label="x")
    y = x
    for _ in range(60):
        y = y * 1.01 + x
    target = tmp_path / "big.html"
    with pytest.raises(ValueError, match="max_nodes=100"):
        export_html(y, target, max_nodes=100)
    assert not target.exists()
    assert "asc-step" in show_steps(y, max_nodes=200)._repr_html_()


def test_a_lone_surrogate_label_is_shown_escaped_not_a_crash(tmp_path):
    # "\ud800" cannot be written as UTF-8: the page shows it as the escape \ud800, in the drawing and the list
    x = Value(1.5, label="\ud800")
    y = Value(2.0, label="ok\udfff\ufffe") * x
    path = export_html(y.tanh(), tmp_path / "surrogate.html", title="title \ud800")
    page = path.read_bytes().decode("utf-8")  # valid UTF-8 throughout
    assert "\\ud800" in page and "\\udfff" in page and "title \\ud800" in page
    assert not re.search("[\ud800-\udfff]", page)
    assert "\\ud800" in show_steps(y)._repr_html_()


def test_export_is_atomic_a_failed_write_keeps_the_old_page(tmp_path, monkeypatch):
    import os

    target = tmp_path / "page.html"
    target.write_text("the old page", encoding="utf-8")

    def broken_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)  # the disk fills up after most of the page is written
    with pytest.raises(OSError, match="No space left"):
        export_html(example("sigmoid"), target)
    assert target.read_text(encoding="utf-8") == "the old page"
    assert [p.name for p in tmp_path.iterdir()] == ["page.html"]  # no temporary file left behind


def test_a_grouped_graph_is_limited_by_what_one_view_shows(tmp_path):
    from autograd_scalar.examples import mlp_sample

    loss, _ = mlp_sample()
    page = export_html(loss, tmp_path / "mlp.html").read_text(encoding="utf-8")  # 981 nodes, at most 66 per view
    data = json.loads(re.search(r'class="asc-data">(.*?)</script>', page, re.S).group(1))
    assert len(data["views"]) == 1 + 33 and max(v["boxes"] for v in data["views"]) <= 66
    assert page.count('class="asc-view"') == 34 and page.count("<details>") == 33  # each group's steps, listed
    too_many = r"inside layers\.\d\.neurons\.\d+ would show 6\d boxes, more than max_nodes=40"
    with pytest.raises(ValueError, match=too_many):
        export_html(loss, tmp_path / "small.html", max_nodes=40)


def _labels_per_view(page: str) -> list[tuple[set[str], str]]:
    """Each view's box labels, and all the text of its drawing."""
    views = re.findall(r'<div class="asc-view" data-view="\d+"[^>]*>(.*?)</svg>', page, re.S)
    return [({html.unescape(t) for t in re.findall(r'<text class="label"[^>]*>([^<]*)</text>', v)},
             " ".join(html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", v))) for v in views]


def test_every_box_a_step_names_is_on_the_drawing_by_that_name(tmp_path):
    from autograd_scalar.examples import EXAMPLES
    from autograd_scalar.steptrace import build_views, trace

    for name in EXAMPLES:
        root = example(name)
        page = export_html(root, tmp_path / f"{name}.html").read_text(encoding="utf-8")
        labels = _labels_per_view(page)
        t = trace(root)
        views = build_views(t)
        assert len(labels) == len(views)
        for view, (shown, drawing) in zip(views, labels):
            assert {box.name for box in view.boxes} <= shown, (name, view.title)
            for frame in view.frames:  # the step's own box and the boxes it sends to, by the name the text uses
                text = " ".join([frame.head, *frame.lines, *(e for e, _ in frame.sends)])
                for key in [frame.box, *frame.targets]:
                    if key is not None:
                        box = view.boxes[key]
                        called = box.name if box.name in text else t.name(box.node)
                        assert called in text and called in drawing, (name, view.title, frame.head)


def test_one_page_sorts_the_graph_at_most_twice(tmp_path, monkeypatch):
    # the trace sorts once; the flat drawing (viz.to_svg) once more; a grouped page's own drawing not at all
    import autograd_scalar.steptrace as steptrace
    import autograd_scalar.viz as viz
    from autograd_scalar.examples import mlp_sample

    calls = []
    real = steptrace.topological_order

    def counting(root):
        calls.append(root)
        return real(root)

    monkeypatch.setattr(steptrace, "topological_order", counting)
    monkeypatch.setattr(viz, "topological_order", counting)
    export_html(example("sigmoid"), tmp_path / "flat.html")
    assert len(calls) == 2
    calls.clear()
    export_html(mlp_sample()[0], tmp_path / "grouped.html")
    assert len(calls) == 1
