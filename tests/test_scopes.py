"""Groups: ``with scope(name):`` and every ``Neuron`` call, recorded without touching any node.

Pins down: a scope groups exactly the nodes made inside it, scopes nest, the name is checked, and a
block that raises still closes; a Neuron call groups its sums, products and activation with its own
weights and bias but never its inputs; a neuron called twice makes two groups and its shared
parameters sit outside both; a neuron call inside a scope is a group inside that group; grouping
changes no data and no gradient, bit for bit, and the compiler traces a grouped model to the same
numbers, a call records nothing (a neuron is noted once, weakly, when made), and only a whole call
(the sum and its activation) is found as one; viz draws the same groups as nested DOT clusters.
"""

from __future__ import annotations

import gc
import re

import pytest

import autograd_scalar as ag
import autograd_scalar.nn as nn
from autograd_scalar import Value, scope
from autograd_scalar.engine import topological_order
from autograd_scalar.nn import MLP, Neuron
from autograd_scalar.scopes import _neurons, find_groups


def test_a_scope_holds_the_nodes_made_inside_it():
    x = Value(2.0, label="x")
    before = x * 3
    with scope("block") as block:
        inside = (before + x).tanh()
    after = inside * 2
    groups = find_groups(topological_order(after))
    assert groups[inside] is block and groups[inside.parents[0]] is block
    assert groups[before] is None and groups[after] is None
    assert groups[x] is None  # x is used outside the block too


def test_scopes_nest_and_close_on_error():
    with scope("outer") as outer:
        with scope("inner") as inner:
            y = Value(1.0) * 2
        z = y + 1
    assert inner.parent is outer and find_groups([y, z])[y] is inner and find_groups([y, z])[z] is outer
    with pytest.raises(ZeroDivisionError):
        with scope("fails"):
            Value(1.0) / 0.0
    w = Value(1.0) * 5  # the failed block's hook is gone
    assert find_groups([w])[w] is None
    for bad in ("", None, 3):
        with pytest.raises(ValueError, match="scope: the name must be a non-empty string"):
            with scope(bad):
                pass


def test_a_neuron_call_is_a_group_without_its_inputs():
    n = Neuron(3, seed=1)
    x = [Value(1.0, label="x0"), Value(-2.0, label="x1"), 0.5]
    y = n(x)
    order = topological_order(y)
    groups = find_groups(order)
    g = groups[y]
    assert g.kind == "neuron" and g.output is y
    made = [v for v in order if v.op]
    assert len(made) == 3 + 3 + 1 and all(groups[v] is g for v in made)  # 3 products, 3 sums, tanh
    assert all(groups[p] is g for p in n.parameters())
    assert groups[x[0]] is None and groups[x[1]] is None


def test_a_neuron_used_twice_makes_two_groups_and_its_parameters_sit_outside():
    n = Neuron(1, activation="tanh", seed=0)
    y = n([n([Value(0.3, label="x")])])
    groups = find_groups(topological_order(y))
    inner_out = y.parents[0].parents[1].parents[1]  # tanh(b + w0*inner_out): the first call's output
    first, second = groups[inner_out], groups[y]
    assert first is not second and first.kind == second.kind == "neuron"
    assert groups[n.w[0]] is None and groups[n.b] is None  # used by both calls


def test_a_neuron_inside_a_scope_nests():
    model = MLP(2, [2, 1], seed=0)
    with scope("sample") as sample:
        out = model([1.0, 2.0])
    groups = find_groups(topological_order(out))
    assert groups[out].parent is sample and groups[out].name == "layers.1.neurons.0"


def _mlp_step(seed):
    model = MLP(2, [8, 8, 1], seed=seed)
    data = [([0.5, -1.0], 1.0), ([-0.3, 0.8], -1.0), ([1.2, 0.1], 1.0)]
    loss = sum(((model(x) - y) ** 2 for x, y in data), Value(0.0))
    loss.backward()
    return [v.data.hex() for v in topological_order(loss)] + [p.grad.hex() for p in model.parameters()]


def test_grouping_changes_no_number_and_a_call_records_nothing(monkeypatch):
    grouped = _mlp_step(3)
    monkeypatch.setattr(nn, "note_neuron", lambda neuron: None)  # neurons not noted: no groups at all
    assert _mlp_step(3) == grouped
    calls = []
    monkeypatch.setattr(nn, "note_neuron", calls.append)
    model = MLP(2, [3, 1], seed=0)
    assert len(calls) == 4  # one note per neuron, made once
    model([1.0, 2.0])
    model([3.0, 4.0])
    assert len(calls) == 4  # and none per call


def test_the_compiler_traces_a_grouped_model_to_the_same_numbers():
    model = MLP(2, [4, 1], seed=2)
    cf = ag.compile(lambda x0, x1: model([x0, x1]))
    value = cf(0.5, -1.0)
    grads = [p.grad for p in model.parameters()]
    model.zero_grad()
    y = model([0.5, -1.0])
    y.backward()
    assert value == pytest.approx(y.data, rel=1e-12)
    assert grads == pytest.approx([p.grad for p in model.parameters()], rel=1e-12)


def test_a_neuron_is_held_weakly():
    gc.collect()
    before = len(_neurons)
    model = MLP(2, [4, 1], seed=0)
    assert len(_neurons) == before + 5
    del model
    gc.collect()
    assert len(_neurons) == before


def test_only_a_whole_call_is_a_group():
    n = Neuron(2, activation="tanh", seed=0)
    x0, x1 = Value(1.0, label="x0"), Value(2.0, label="x1")
    partial = n.b + n.w[0] * x0  # the start of a call, by hand, without the rest
    y = (partial + n.w[1] * x1) * 2  # the whole sum, but not its activation
    groups = find_groups(topological_order(y))
    assert all(g is None for g in groups.values())
    z = n([x0, x1])
    groups = find_groups(topological_order(z + y))
    assert groups[z] is not None and groups[y] is None and groups[partial] is None


def test_viz_draws_the_same_groups_as_clusters(tmp_path):
    from conftest import require_executable

    from autograd_scalar.viz import render, to_dot

    model = MLP(2, [2, 1], seed=0)
    with scope('batch <b>&"'):
        y = model([Value(0.5, label="x0"), Value(-1.0, label="x1")])
    dot = to_dot(y)
    clusters = re.findall(r"subgraph cluster_\d+ \{\n\s+label=<([^>]*)>", dot)
    assert clusters[0] == "batch &lt;b&gt;&amp;&quot;"  # the scope, escaped, around the neurons
    assert sorted(clusters[1:]) == ["layers.0.neurons.0", "layers.0.neurons.1", "layers.1.neurons.0"]
    outer = dot.index("subgraph cluster_")
    assert dot.count("{", outer) == dot.count("}", outer) - 1  # nested in the scope: all close before the graph does
    order = topological_order(y)
    inner = re.search(r"label=<layers\.1\.neurons\.0>;[^\n]*\n((?:\s+v\d+;(?: op\d+;)?\n)+)", dot).group(1)
    shown = {int(i) for i in re.findall(r"v(\d+);", inner)}
    groups = find_groups(order)
    assert shown == {i for i, node in enumerate(order) if groups[node] is groups[y]}
    require_executable("dot", "apt-get install graphviz")
    assert render(y, tmp_path / "grouped.png").read_bytes()[:4] == b"\x89PNG"


def _inside(point, polygon) -> bool:
    x, y = point
    inside = False
    for (x0, y0), (x1, y1) in zip(polygon, polygon[1:] + polygon[:1]):
        if (y0 > y) != (y1 > y) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
            inside = not inside
    return inside


@pytest.mark.parametrize("nouts", [[3, 2, 1], [2, 2, 1]])  # the second, laid out without groups, puts a box astray
def test_the_built_in_drawing_frames_each_group_and_no_other_box(nouts):
    """to_svg (no graphviz) draws the groups too: one frame per group, outer first, its name escaped,
    traced layer by layer around its own boxes, so no box of another group (nor an input) is inside."""
    from autograd_scalar.viz import to_svg

    model = MLP(2, nouts, seed=0)
    x = [Value(0.5, label="x0"), Value(-1.0, label="x1")]
    with scope('batch <b>&"'):
        y = model(x)
    loss = (y - 1.0) ** 2
    loss.backward()
    svg = to_svg(loss)
    order = topological_order(loss)
    groups = find_groups(order)
    frames = re.findall(r'<g class="group" data-group="([^"]*)"><path d="M([^"]*) Z"', svg)
    names = [name for name, _ in frames]
    assert names[0] == "batch &lt;b&gt;&amp;&quot;" and len(names) == 1 + sum(nouts)
    assert sorted(names[1:]) == sorted(f"layers.{k}.neurons.{j}" for k, n in enumerate(nouts) for j in range(n))
    centers = {}
    for i, x0, y0, w, h in re.findall(
        r'<g class="[^"]*" id="v(\d+)" data-index="\d+">\n(?:<rect[^>]*rx="9"[^>]*/>\n)?<rect x="([\d.-]+)" '
        r'y="([\d.-]+)" width="([\d.]+)" height="([\d.]+)"', svg
    ):
        centers[int(i)] = (float(x0) + float(w) / 2, float(y0) + float(h) / 2)
    assert len(centers) == len(order)
    by_name = {g.name: g for g in set(groups.values()) if g is not None}
    for name, path in frames[1:]:  # the neurons: each frame holds exactly its own boxes
        polygon = [tuple(map(float, p.split(","))) for p in path.split(" L")]
        group = by_name[name]
        for i, node in enumerate(order):
            assert _inside(centers[i], polygon) == (groups[node] is group), (name, i, node)
