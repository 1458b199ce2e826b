"""The worked examples: one module, published numbers, fresh graphs on every call.

Pins down: each example of ``EXAMPLES`` builds, is new on each call, and carries its published
numbers (CS231n: f = 0.7311, df/dw = [-0.1966, -0.3932, 0.1966]; the lecture's tanh neuron:
o = 0.7071, do/dn = 0.5, x1.grad = -1.5, w1.grad = 1.0; Mazur: E = 0.298371109, w5 = 0.082167041;
branch 7; naive 4); the MLP sample is grouped by neuron; the old import path still works; the CLI,
README and step-through take their examples from here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from autograd_scalar import cli, examples
from autograd_scalar.engine import topological_order
from autograd_scalar.scopes import find_groups

ROOT = Path(__file__).resolve().parent.parent


def test_every_example_builds_fresh():
    for name in examples.EXAMPLES:
        a, b = examples.example(name), examples.example(name)
        assert a is not b and a.data == b.data
        assert set(topological_order(a)).isdisjoint(topological_order(b))


def test_cs231n_neuron():
    f, leaves = examples.sigmoid_neuron()
    f.backward()
    assert f.data == pytest.approx(0.7310585786)
    grads = [leaves[k].grad for k in ("w0", "w1", "w2", "x0", "x1")]
    assert grads == pytest.approx([-0.19661193, -0.39322387, 0.19661193, 0.39322387, -0.58983580])


def test_lecture_tanh_neuron():
    o, leaves = examples.tanh_neuron()
    o.backward()
    n = o.parents[0]
    assert (n.label, n.data) == ("n", pytest.approx(0.8813735870195432))
    assert o.data == pytest.approx(2 ** -0.5) and n.grad == pytest.approx(0.5)
    assert {k: round(v.grad, 6) for k, v in leaves.items()} == {"x1": -1.5, "x2": 0.5, "w1": 1.0, "w2": 0.0, "b": 0.5}


def test_mazur_and_the_small_ones():
    total, leaves = examples.mazur_network()
    total.backward()
    assert total.data == pytest.approx(0.298371109, abs=1e-9)
    assert (leaves["w5"].grad, leaves["w1"].grad) == (pytest.approx(0.082167041, abs=1e-9),
                                                      pytest.approx(0.000438568, abs=1e-9))
    y = examples.branch_example()
    y.backward()
    assert [n for n in topological_order(y) if n.label == "a"][0].grad == 7.0
    c = examples.naive_example()
    c.backward()
    assert topological_order(c)[0].grad == 4.0


def test_mlp_sample_is_grouped_by_neuron():
    loss, model = examples.mlp_sample()
    order = topological_order(loss)
    groups = find_groups(order)
    neurons = {g for g in groups.values() if g is not None}
    assert len(neurons) == 16 + 16 + 1 and all(g.kind == "neuron" for g in neurons)
    assert {g.name for g in neurons} == {f"layers.{i}.neurons.{j}" for i, n in enumerate([16, 16, 1]) for j in range(n)}
    assert all(groups[p] is not None and groups[p].name == p.label.rsplit(".", 2 if ".w." in p.label else 1)[0]
               for p in model.parameters())
    assert len(order) > 500  # more than the old limit on one drawing


def test_unknown_example_and_old_import_path():
    with pytest.raises(ValueError, match=r"example: unknown example 'cs231n'; choose one of sigmoid"):
        examples.example("cs231n")
    assert cli.sigmoid_neuron is examples.sigmoid_neuron


def test_the_cli_and_readme_use_the_examples_module():
    choices = cli.build_parser()._subparsers._group_actions[0].choices["step"]._actions
    positional = next(a for a in choices if a.dest == "example")
    assert list(positional.choices) == list(examples.EXAMPLES)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "autograd_scalar.cli import sigmoid_neuron" not in readme
    assert "from autograd_scalar.examples import sigmoid_neuron" in readme
