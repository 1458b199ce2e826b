"""Graph drawing: the structure of the DOT (nodes, edges, labels, argument order, the mark and the
``+=`` sum on a node used several times), hostile labels shown literally through ``dot`` and the
built-in SVG, the built-in layout's contract and geometry, ``render`` with and without ``dot``, and
the ``graph`` command."""

from __future__ import annotations

import html
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest
from conftest import require_executable, require_module

from autograd_scalar import Value
from autograd_scalar.cli import main, sigmoid_neuron
from autograd_scalar.engine import topological_order
from autograd_scalar.viz import COLORS, MAX_LABEL, draw_graph, render, to_dot, to_svg

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = '"}<b>|x" -> y [color=red]; \n<script>'
ROOT = Path(__file__).resolve().parent.parent


# ---- a tiny DOT reader: statements, quoted strings, HTML strings ------------------------------------


def _tokens(source: str) -> list[str]:
    tokens, i = [], 0
    while i < len(source):
        c = source[i]
        if c.isspace():
            i += 1
        elif source.startswith("->", i):
            tokens.append("->")
            i += 2
        elif c in "{}[];,=":
            tokens.append(c)
            i += 1
        elif c == '"':
            j, text = i + 1, []
            while source[j] != '"':
                if source[j] == "\\" and source[j + 1] in '"\\':
                    j += 1
                text.append(source[j])
                j += 1
            tokens.append('"' + "".join(text))
            i = j + 1
        elif c == "<":
            depth, j = 0, i
            while True:
                depth += {"<": 1, ">": -1}.get(source[j], 0)
                j += 1
                if depth == 0:
                    break
            tokens.append(source[i:j])
            i = j
        else:
            match = re.match(r"[A-Za-z0-9_.#-]+", source[i:])
            assert match, f"unexpected DOT text at {source[i:i + 20]!r}"
            tokens.append(match.group())
            i += len(match.group())
    return tokens


def parse_dot(source: str) -> tuple[dict[str, dict[str, str]], list[tuple[str, str, dict[str, str]]]]:
    """Nodes (id -> attributes) and edges (tail, head, attributes) in the order written."""
    tokens = _tokens(source)
    assert tokens[:3] == ["digraph", "autograd", "{"] and tokens[-1] == "}"
    nodes: dict[str, dict[str, str]] = {}
    edges: list[tuple[str, str, dict[str, str]]] = []
    statement: list[str] = []
    for token in tokens[3:-1]:
        if token != ";":
            statement.append(token)
            continue
        head, attrs = statement, {}
        if "[" in statement:
            k = statement.index("[")
            head, inside = statement[:k], statement[k + 1 : -1]
            assert statement[-1] == "]"
            for name, eq, value in zip(inside[0::4], inside[1::4], inside[2::4]):
                assert eq == "="
                attrs[name] = value.lstrip('"')
        if head[0] in ("graph", "node", "edge"):
            pass
        elif len(head) == 3 and head[1] == "->":
            edges.append((head[0], head[2], attrs))
        else:
            assert len(head) == 1, head
            nodes[head[0]] = attrs
        statement = []
    assert not statement
    return nodes, edges


def visible(label: str) -> str:
    """The text an HTML-like label shows: tags dropped, entities and doubled backslashes undone."""
    text = re.sub(r"<[^<>]*>", " ", label[1:-1])
    return " ".join(html.unescape(text).replace("\\\\", "\\").split())


def neuron():
    f, leaves = sigmoid_neuron()
    f.backward()
    return f, leaves


# ---- structure ---------------------------------------------------------------------------------------


def test_sigmoid_neuron_structure():
    f, leaves = neuron()
    nodes, edges = parse_dot(to_dot(f))
    order = topological_order(f)
    values = [n for n in nodes if n.startswith("v")]
    ops = [n for n in nodes if n.startswith("op")]
    assert len(values) == len(order) == 10
    assert sorted(ops) == sorted(f"op{i}" for i, node in enumerate(order) if node.op)
    assert len(ops) == 5
    assert len(edges) == 9 + 5  # each argument into its operation, each operation into its result
    for i, node in enumerate(order):
        text = visible(nodes[f"v{i}"]["label"])
        assert f"data {node.data:.4g}" in text and f"grad {node.grad:.4g}" in text
        assert text.startswith(node.label)
    assert visible(nodes["v0"]["label"]) == "w0 data 2 grad -0.1966"
    assert visible(nodes[f"op{len(order) - 1}"]["label"]) == "sigmoid"
    assert {visible(nodes[o]["label"]) for o in ops} == {"*", "+", "sigmoid"}
    assert nodes[f"v{len(order) - 1}"]["fillcolor"] == COLORS["output"][0]
    assert nodes["v0"]["fillcolor"] == COLORS["input"][0]


def test_edges_follow_argument_order():
    x, y = Value(5.0, label="x"), Value(2.0, label="y")
    d = (y - x) / (x ** 2)
    d.backward()
    nodes, edges = parse_dot(to_dot(d))
    order = topological_order(d)
    index = {node: i for i, node in enumerate(order)}
    for i, node in enumerate(order):
        if not node.op:
            continue
        into = [tail for tail, head, _ in edges if head == f"op{i}"]
        expected = [f"v{index[a]}" if isinstance(a, Value) else f"c{i}_{k}" for k, a in enumerate(node.args)]
        assert into == expected, node.op
        assert nodes[f"op{i}"]["ordering"] == "in"
        assert (f"op{i}", f"v{i}") in [(t, h) for t, h, _ in edges]
    power = order[-2]
    assert power.op == "pow"
    assert visible(nodes[f"c{index[power]}_1"]["label"]) == "2"


def test_dot_draws_the_first_argument_above_the_second():
    require_executable("dot", "apt-get install graphviz")
    a, b = Value(1.0, label="a"), Value(2.0, label="b")
    for out in (b - a, a - b, a * b):
        out.backward()
        plain = subprocess.run(["dot", "-Tplain"], input=to_dot(out), capture_output=True, text=True, check=True)
        y = {line.split()[1]: float(line.split()[3]) for line in plain.stdout.splitlines() if line.startswith("node")}
        first, second = (f"v{topological_order(out).index(p)}" for p in out.parents)
        assert y[first] > y[second]  # -Tplain's y axis points up


def test_a_node_used_several_times_is_marked_with_its_sum():
    a = Value(3.0, label="a")
    y = a * a + a
    nodes, edges = parse_dot(to_dot(y))
    assert "used 3×" in visible(nodes["v0"]["label"])
    assert visible(nodes["v0"]["label"]).endswith("grad 0")  # no backward yet: nothing to sum
    y.backward()
    nodes, edges = parse_dot(to_dot(y))
    assert visible(nodes["v0"]["label"]) == "a used 3× data 3 grad 7 = 3 + 3 + 1"
    assert nodes["v0"]["color"] == COLORS["shared"] and float(nodes["v0"]["penwidth"]) > 1
    assert [attrs.get("color") for tail, _, attrs in edges if tail == "v0"] == [COLORS["shared_edge"]] * 3
    assert "used" not in visible(nodes["v1"]["label"]) and nodes["v1"]["color"] != COLORS["shared"]
    y.backward()  # gradients accumulate: the parts double with them
    nodes, _ = parse_dot(to_dot(y))
    assert "grad 14 = 6 + 6 + 2" in visible(nodes["v0"]["label"])


def test_the_sum_shows_each_consumers_contribution():
    x, w = Value(3.0, label="x"), Value(4.0, label="w")
    f = x * w - x  # df/dx = w - 1: 4 from the product, -1 from the subtraction
    f.backward()
    nodes, _ = parse_dot(to_dot(f))
    assert visible(nodes["v0"]["label"]) == "x used 2× data 3 grad 3 = 4 + (-1)"
    many = Value(1.0, label="m")
    total = many
    for _ in range(8):
        total = total + many
    total.backward()
    nodes, _ = parse_dot(to_dot(total))
    assert "grad 9 = sum of 9 parts" in visible(nodes["v0"]["label"])


def test_options_rows_format_and_highlight():
    f, leaves = neuron()
    nodes, _ = parse_dot(to_dot(f, show_grad=False))
    assert not any("grad" in visible(n["label"]) for k, n in nodes.items() if k.startswith("v"))
    nodes, _ = parse_dot(to_dot(f, show_data=False))
    assert not any("data" in visible(n["label"]) for k, n in nodes.items() if k.startswith("v"))
    nodes, _ = parse_dot(to_dot(f, fmt="{:.2f}"))
    assert visible(nodes["v0"]["label"]) == "w0 data 2.00 grad -0.20"
    nodes, _ = parse_dot(to_dot(f, fmt=lambda x: f"<{x:+.1f}>"))
    assert visible(nodes["v0"]["label"]) == "w0 data <+2.0> grad <-0.2>"
    nodes, _ = parse_dot(to_dot(f, highlight=[leaves["w2"], f]))
    highlighted = {k for k, n in nodes.items() if n.get("color") == COLORS["highlight"]}
    assert highlighted == {"v7", "v9"}
    assert parse_dot(to_dot(f, rankdir="TB"))  # still valid
    assert "rankdir=TB" in to_dot(f, rankdir="TB")


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"fmt": "{:q}"}, ValueError, "fmt must format one number"),
        ({"fmt": "{0}{1}"}, ValueError, "fmt must format one number"),
        ({"fmt": 4}, TypeError, "fmt must be a format string"),
        ({"highlight": Value(1.0)}, ValueError, "is not a node of this graph"),
        ({"highlight": ["x"]}, TypeError, "highlight must be a Value"),
        ({"max_nodes": 5}, ValueError, "the graph has 10 Values, more than max_nodes=5"),
        ({"rankdir": "XY"}, ValueError, "rankdir must be"),
    ],
)
def test_bad_options_are_clear_errors(kwargs, error, message):
    f, _ = neuron()
    with pytest.raises(error, match=re.escape(message)):
        to_dot(f, **kwargs)
    if "rankdir" not in kwargs:
        with pytest.raises(error, match=re.escape(message)):
            to_svg(f, **kwargs)
    with pytest.raises(TypeError, match="expected a Value to draw"):
        to_dot(3.0)


def test_to_dot_imports_nothing_optional():
    code = (
        "import sys; from autograd_scalar.viz import to_dot, to_svg; from autograd_scalar import Value\n"
        "x = Value(1.0, label='x'); y = (x * 2).tanh(); y.backward(); to_dot(y); to_svg(y)\n"
        "print(sorted(m for m in ('graphviz', 'numpy', 'IPython', 'matplotlib') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert result.stdout.strip() == "[]"


def test_long_and_multiline_labels_are_one_short_line():
    x = Value(1.0, label="a" * 100 + "\nb\tc")
    y = x * 2
    nodes, _ = parse_dot(to_dot(y))
    shown = visible(nodes["v0"]["label"]).split(" data")[0]
    assert len(shown) == MAX_LABEL and shown.endswith("…")


# ---- hostile labels --------------------------------------------------------------------------------


def hostile_graph() -> Value:
    x = Value(2.0, label=HOSTILE)
    y = Value(0.5, label="y\\N \\G \\\\ &amp; ]]> <!--")
    out = (x * y + x).tanh()
    out.label = "'</text><script>alert(1)</script>"
    out.backward()
    return out


def svg_texts(root: ET.Element) -> list[str]:
    return [" ".join("".join(t.itertext()).replace("\xa0", " ").split()) for t in root.iter(SVG + "text")]


def test_hostile_labels_are_literal_in_dot_output():
    dot = require_executable("dot", "apt-get install graphviz")
    out = hostile_graph()
    source = to_dot(out)
    nodes, edges = parse_dot(source)  # our reader sees exactly the intended statements
    assert len(nodes) == 5 + 3 and len(edges) == 5 + 3
    result = subprocess.run([dot, "-Tsvg"], input=source.encode(), capture_output=True, check=True)
    assert not result.stderr
    svg = ET.fromstring(result.stdout)
    drawn_nodes = [g for g in svg.iter(SVG + "g") if g.get("class") == "node"]
    drawn_edges = [g for g in svg.iter(SVG + "g") if g.get("class") == "edge"]
    assert len(drawn_nodes) == 8 and len(drawn_edges) == 8
    texts = svg_texts(svg)
    assert '"}<b>|x" -> y [color=red]; <script>' in texts
    assert "y\\N \\G \\\\ &amp; ]]> <!--" in texts
    assert "'</text><script>alert(1)</script>" in texts
    assert not [e for e in svg.iter() if e.tag.endswith("script")]
    colours = {value for e in svg.iter() for key, value in e.attrib.items() if key in ("fill", "stroke")}
    assert "red" not in colours


def test_hostile_labels_are_literal_in_the_builtin_svg():
    out = hostile_graph()
    svg = ET.fromstring(to_svg(out))
    assert not [e for e in svg.iter() if e.tag.endswith("script")]
    labels = [" ".join("".join(t.itertext()).split()) for t in svg.iter(SVG + "text") if t.get("class") == "label"]
    assert labels[0] == '"}<b>|x" -> y [color=red]; <script>'
    assert "'</text><script>alert(1)</script>" in labels
    assert len([g for g in svg.iter(SVG + "g") if "value" in g.get("class", "").split()]) == 5


# ---- the built-in SVG ------------------------------------------------------------------------------


def boxes(svg: ET.Element) -> dict[int, tuple[float, float, float, float]]:
    """Value index -> (x, y, width, height) of its box."""
    found = {}
    for g in svg.iter(SVG + "g"):
        if "value" in g.get("class", "").split():
            rect = [r for r in g.iter(SVG + "rect")][-1]
            found[int(g.get("data-index"))] = tuple(float(rect.get(k)) for k in ("x", "y", "width", "height"))
    return found


def test_builtin_svg_follows_the_contract():
    f, _ = neuron()
    order = topological_order(f)
    svg = ET.fromstring(to_svg(f))
    index = {node: i for i, node in enumerate(order)}
    for i, node in enumerate(order):
        (g,) = [g for g in svg.iter(SVG + "g") if g.get("id") == f"v{i}"]
        assert g.get("class").split()[0] == "value" and g.get("data-index") == str(i)
        texts = {t.get("class"): "".join(t.itertext()) for t in g.iter(SVG + "text")}
        assert texts["label"] == node.label
        assert texts["data"] == f"data {node.data:.4g}" and texts["grad"] == f"grad {node.grad:.4g}"
        ops = [g for g in svg.iter(SVG + "g") if g.get("id") == f"op{i}"]
        assert len(ops) == (1 if node.op else 0)
        if node.op:
            assert ops[0].get("class") == "op"
    drawn = Counter((int(p.get("data-from")), int(p.get("data-to"))) for p in svg.iter(SVG + "path")
                    if p.get("class") == "edge")  # fmt: skip
    expected = Counter((index[a], index[node]) for node in order for a in node.parents)
    assert drawn == expected


def test_builtin_layout_geometry():
    f, leaves = neuron()
    order = topological_order(f)
    svg = ET.fromstring(to_svg(f))
    placed = boxes(svg)
    # no two boxes overlap
    for i in placed:
        for j in placed:
            if i < j:
                (x1, y1, w1, h1), (x2, y2, w2, h2) = placed[i], placed[j]
                assert x1 + w1 <= x2 or x2 + w2 <= x1 or y1 + h1 <= y2 or y2 + h2 <= y1, (i, j)
    # every input left of what it feeds; arguments top to bottom in order
    index = {node: i for i, node in enumerate(order)}
    for node in order:
        for parent in node.parents:
            assert placed[index[parent]][0] < placed[index[node]][0]
        if len(node.parents) == 2:
            first, second = (placed[index[p]] for p in node.parents)
            assert first[1] < second[1]
    # the chain z -> f is straight
    z = f.parents[0]
    assert placed[index[z]][1] + placed[index[z]][3] / 2 == pytest.approx(placed[index[f]][1] + placed[index[f]][3] / 2)
    width, height = float(svg.get("width")), float(svg.get("height"))
    assert all(x >= 0 and y >= 0 and x + w <= width and y + h <= height for x, y, w, h in placed.values())


def test_builtin_svg_marks_shared_nodes_constants_and_highlight():
    a = Value(3.0, label="a")
    y = (a * a + a) * 3
    y.backward()
    svg = ET.fromstring(to_svg(y, highlight=y))
    (shared,) = [g for g in svg.iter(SVG + "g") if g.get("id") == "v0"]
    assert "shared" in shared.get("class").split()
    assert [t.text for t in shared.iter(SVG + "text") if t.get("class") == "grad"] == ["grad 21 = 9 + 9 + 3"]
    assert [t.text for t in shared.iter(SVG + "text") if t.get("class") == "uses"] == ["used 3×"]
    (constant,) = [g for g in svg.iter(SVG + "g") if g.get("class") == "const"]
    assert "".join(constant.itertext()) == "3"
    (top,) = [g for g in svg.iter(SVG + "g") if g.get("id") == "v3"]
    assert "highlight" in top.get("class").split()


def test_builtin_svg_handles_a_few_hundred_nodes():
    xs = [Value(0.1 * i, label=f"x{i}") for i in range(40)]
    total = Value(0.0, label="s")
    for i, x in enumerate(xs):
        total = total + (x * xs[(i * 7) % 40]).tanh() * 0.5
    loss = total.sigmoid()
    loss.backward()
    svg = ET.fromstring(to_svg(loss))
    placed = boxes(svg)
    assert len(placed) == len(topological_order(loss)) > 200
    ordered = sorted(placed.values())
    for k, (x1, y1, w1, h1) in enumerate(ordered):  # no overlaps (sweep over boxes sorted by x)
        for x2, y2, _, h2 in ordered[k + 1 :]:
            if x2 >= x1 + w1:
                break
            assert y1 + h1 <= y2 or y2 + h2 <= y1


def test_a_single_leaf_draws():
    x = Value(2.0, label="x")
    x.backward()
    svg = ET.fromstring(to_svg(x))
    assert list(boxes(svg)) == [0]
    assert parse_dot(to_dot(x))[0].keys() == {"v0"}


# ---- draw_graph and render ---------------------------------------------------------------------------


def test_draw_graph_is_the_same_drawing_as_to_dot():
    graphviz = require_module("graphviz", "pip install autograd-scalar[viz]")
    f, _ = neuron()
    g = draw_graph(f, highlight=f)
    assert isinstance(g, graphviz.Digraph)
    assert parse_dot(g.source) == parse_dot(to_dot(f, highlight=f))
    require_executable("dot", "apt-get install graphviz")
    svg = ET.fromstring(g.pipe(format="svg"))
    assert len([e for e in svg.iter(SVG + "g") if e.get("class") == "node"]) == 15
    assert "image/svg+xml" in g._repr_mimebundle_()  # what Jupyter displays


def test_draw_graph_names_the_extra_when_graphviz_is_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)
    f, _ = neuron()
    with pytest.raises(ImportError, match=re.escape("pip install autograd-scalar[viz]")):
        draw_graph(f)


def test_render_by_extension(tmp_path):
    require_executable("dot", "apt-get install graphviz")
    f, _ = neuron()
    assert render(f, tmp_path / "n.dot").read_text() == to_dot(f)
    svg = render(f, tmp_path / "n.svg").read_text()
    assert "Generated by graphviz" in svg
    assert len([e for e in ET.fromstring(svg).iter(SVG + "g") if e.get("class") == "node"]) == 15
    assert render(f, tmp_path / "n.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match=r"cannot tell the format from '.*n\.jpg'; use a \.svg, \.png or \.dot"):
        render(f, tmp_path / "n.jpg")


def test_render_without_dot_falls_back_to_the_builtin_layout(tmp_path, monkeypatch, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    f, _ = neuron()
    path = render(f, tmp_path / "n.svg", rankdir="TB")
    svg = ET.fromstring(path.read_text())
    assert len(boxes(svg)) == 10
    assert len([g for g in svg.iter(SVG + "g") if g.get("class") == "op"]) == 5
    message = capsys.readouterr().err
    assert "built-in layout" in message and "apt-get install graphviz" in message and message.count("\n") == 1
    with pytest.raises(RuntimeError, match=r"needs graphviz's dot.*apt-get install graphviz.*graphviz.org/download"):
        render(f, tmp_path / "n.png")
    assert not (tmp_path / "n.png").exists()


# ---- #15: only DOT that Debian's dot 2.43 accepts; fall back when dot fails; bounded layout -----------


def _dot_accepts(dot: str, source: str) -> subprocess.CompletedProcess:
    return subprocess.run([dot, "-Tsvg"], input=source.encode("utf-8"), capture_output=True, timeout=120)


def test_an_unlabelled_node_used_twice_renders_with_dot(tmp_path):
    # The finding: `a*a + a` unlabelled made an empty <B></B>, a syntax error for dot 2.43.
    dot = require_executable("dot", "apt-get install graphviz")
    a = Value(3.0)
    y = a * a + a
    y.backward()
    result = _dot_accepts(dot, to_dot(y))
    assert result.returncode == 0 and not result.stderr, result.stderr
    svg = ET.parse(render(y, tmp_path / "y.svg")).getroot()
    assert "grad 7 = 3 + 3 + 1" in svg_texts(svg)


@pytest.mark.parametrize("label", ["]", "]]", "]]>", "[", "a]", "", " ", "\\", "&#93;"])
def test_bracket_and_empty_labels_pass_through_dot_literally(label):
    dot = require_executable("dot", "apt-get install graphviz")
    x = Value(2.0, label=label)
    y = x * x
    y.label = label
    y.backward()
    result = _dot_accepts(dot, to_dot(y))
    assert result.returncode == 0 and not result.stderr, result.stderr
    texts = svg_texts(ET.fromstring(result.stdout))
    if label.strip():
        assert texts.count(label) == 2, texts


@pytest.mark.parametrize("fmt", [lambda x: "", lambda x: "]", lambda x: "a\nb", lambda x: 3, "{:.3f}]"])
def test_odd_number_formats_pass_through_dot(fmt):
    dot = require_executable("dot", "apt-get install graphviz")
    x = Value(2.0, label="x")
    y = x * 3 + x
    y.backward()
    result = _dot_accepts(dot, to_dot(y, fmt=fmt))
    assert result.returncode == 0 and not result.stderr, result.stderr


def test_generated_labels_all_pass_through_dot():
    # 60 graphs of 5 nodes labelled from the characters dot and HTML treat specially.
    from hypothesis import given, settings
    from hypothesis import strategies as st

    dot = require_executable("dot", "apt-get install graphviz")
    alphabet = st.sampled_from(list("][<>&\\\"'{};%#|-!=/+ \t\n\x00\x7fxé→𝔁\u202e\ufeff") + ["]]>", "&#", "<!--",
                                                                                          "\\N", "\ud800", "<B>"])
    label = st.lists(alphabet, max_size=6).map("".join)

    @settings(max_examples=60, database=None)
    @given(st.lists(label, min_size=5, max_size=5))
    def check(labels):
        x = Value(1.5, label=labels[0])
        y = Value(-2.0, label=labels[1])
        out = (x * y + x).tanh() * y
        for node, name in zip(topological_order(out)[2:], labels[2:]):
            node.label = name
        out.backward()
        result = _dot_accepts(dot, to_dot(out, fmt=lambda v: labels[2] + f"{v:.2g}"))
        assert result.returncode == 0 and not result.stderr, (labels, result.stderr)

    check()


def _sum_of(terms: int) -> Value:
    x = Value(1.0, label="x")
    total = x
    for _ in range(terms - 1):
        total = total + x
    total.backward()
    return total


def _fake_dot(folder: Path, script: str) -> None:
    fake = folder / "dot"
    fake.write_text("#!/bin/sh\n" + script + "\n")
    fake.chmod(0o755)


def test_when_dot_crashes_svg_falls_back_to_the_builtin_layout(tmp_path, monkeypatch, capsys):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _fake_dot(bin_dir, "cat > /dev/null; kill -SEGV $$")
    monkeypatch.setenv("PATH", str(bin_dir))
    f, _ = neuron()
    svg = ET.parse(render(f, tmp_path / "n.svg")).getroot()
    assert len(boxes(svg)) == 10                                   # the built-in layout's boxes
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "dot -Tsvg crashed (signal 11)" in err and "built-in layout" in err
    (tmp_path / "n.png").write_bytes(b"old")
    with pytest.raises(RuntimeError, match=r"dot -Tpng crashed \(signal 11\)"):
        render(f, tmp_path / "n.png")                              # no built-in PNG: a clear error
    assert (tmp_path / "n.png").read_bytes() == b"old"


def test_a_300_term_sum_renders_although_dot_243_crashes_on_it(tmp_path, capsys):
    require_executable("dot", "apt-get install graphviz")
    total = _sum_of(300)
    svg = ET.parse(render(total, tmp_path / "sum.svg")).getroot()
    drawn = [g for g in svg.iter(SVG + "g") if "value" in g.get("class", "").split() or g.get("class") == "node"]
    assert len(drawn) == 300                                       # by dot, or by the fallback with a note
    err = capsys.readouterr().err
    assert err.count("\n") <= 1 and (not err or "built-in layout" in err)


def test_the_builtin_layout_of_a_500_term_sum_is_bounded():
    # The finding: 6.2 s and 4.6 MB. Long edges beyond MAX_BENDS crossings become short references.
    from autograd_scalar.viz import MAX_BENDS

    text = to_svg(_sum_of(500))
    assert len(text) < 1_200_000, len(text)
    svg = ET.fromstring(text)
    edges = [p for p in svg.iter(SVG + "path") if p.get("class") == "edge"]
    assert len(edges) == 998 and sum(p.get("data-from") == "0" for p in edges) == 500   # every use drawn
    refs = [g for g in svg.iter(SVG + "g") if g.get("class") == "ref"]
    assert refs and len(refs) == sum(p.get("data-ref") == "1" for p in edges)
    assert {"".join(g.itertext()) for g in refs} == {"↪ x"}
    routed = sum(len(re.findall(r"[LC]", p.get("d"))) for p in edges if p.get("data-ref") != "1")
    assert routed <= 2 * MAX_BENDS + len(edges)
    small = to_svg(_sum_of(20))                                    # small graphs are drawn as before
    assert 'class="ref"' not in small


def test_render_writes_atomically_and_refuses_a_folder(tmp_path, monkeypatch):
    from autograd_scalar import atomic

    f, _ = neuron()
    path = tmp_path / "n.dot"
    path.write_text("old")
    monkeypatch.setattr(atomic.os, "fsync", lambda fd: (_ for _ in ()).throw(OSError(28, "No space left on device")))
    with pytest.raises(OSError, match="No space left"):
        render(f, path)
    monkeypatch.undo()
    assert path.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["n.dot"]
    folder = tmp_path / "g.svg"
    folder.mkdir()
    with pytest.raises(ValueError, match="is a folder; give a file name"):
        render(f, folder)


# ---- the command line ----------------------------------------------------------------------------


def test_graph_command(tmp_path, capsys):
    out = tmp_path / "g.dot"
    assert main(["graph", "tanh(x*w + b)", "--set", "x=1,w=2,b=-1", "-o", str(out)]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {out}"
    nodes, edges = parse_dot(out.read_text())
    labels = [visible(nodes[f"v{i}"]["label"]) for i in range(6)]
    assert labels[0] == "x data 1 grad 0.8399"
    assert labels[1] == "w data 2 grad 0.42"
    assert labels[5] == "data 0.7616 grad 1"
    assert main(["graph", "x*x", "--set", "x=3", "--no-grad", "-o", str(out)]) == 0
    nodes, _ = parse_dot(out.read_text())
    assert [visible(nodes[v]["label"]) for v in ("v0", "v1")] == ["x used 2× data 3", "data 9"]
    svg = tmp_path / "g.svg"
    assert main(["graph", "x*x + x", "--set", "x=3", "-o", str(svg)]) == 0
    assert "grad 7 = 3 + 3 + 1" in svg.read_text()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["graph", "__import__('os')"], "cannot call '__import__'"),
        (["graph", "x*w", "--set", "x=1"], "no value given for 'w'"),
        (["graph", "x", "--set", "x=1", "-o", "g.gif"], "cannot tell the format"),
        (["graph", "log(x)", "--set", "x=0"], "log: input must be > 0"),
        (["graph", "x+x+x", "--set", "x=1", "--max-nodes", "2"], "more than max_nodes=2"),
    ],
)
def test_graph_command_errors(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2                      # bad input exits 2 from every command
    err = capsys.readouterr().err
    assert err.startswith("autograd-scalar graph: ") and message in err
    assert not list(tmp_path.iterdir())


def test_readme_picture_is_committed():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/sigmoid_neuron.svg" in readme or "docs/sigmoid_neuron.png" in readme
    assert (ROOT / "docs" / "sigmoid_neuron.png").read_bytes()[:4] == b"\x89PNG"
    svg = ET.parse(ROOT / "docs" / "sigmoid_neuron.svg").getroot()
    assert "w0" in svg_texts(svg)
