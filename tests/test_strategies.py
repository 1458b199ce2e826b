"""The hypothesis strategies users import: drawn graphs share nodes, stay inside every op's domain,
run on Values, floats and another engine, shrink to small readable failures (a planted bug in a
toy engine shows it), and ``st.from_type(Value)`` works through the plugin entry point. The drawn
expressions also drive a property test of our own backward against central differences."""

from __future__ import annotations

import importlib.metadata
import math
import re
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd_scalar import Value, gradcheck
from autograd_scalar.engine import topological_order
from autograd_scalar.testing import strategies as ags
from autograd_scalar.testing.ops import OPS_BY_NAME, Expression

ROOT = Path(__file__).resolve().parent.parent


def _replay_floats(expr):
    """Every node's value, step by step, as the strategy computed them."""
    values = list(expr.inputs)
    for name, slots in expr.expression.steps:
        values.append(OPS_BY_NAME[name].call(*(Value(values[s]) for s in slots)).data)
    return values


def _shared_nodes(root):
    """Nodes of the live graph that feed more than one operation (or one operation twice)."""
    uses = {}
    for node in topological_order(root):
        for parent in node.parents:
            uses[parent] = uses.get(parent, 0) + 1
    return [node for node, n in uses.items() if n > 1]


def test_drawn_graphs_stay_in_their_domains_and_often_share_nodes():
    draws, shared, sizes, ops_seen = [], [], [], set()

    @settings(max_examples=1500)
    @given(ags.expressions(max_nodes=12, max_inputs=3))
    def record(expr):
        values = _replay_floats(expr)
        for name, slots in expr.expression.steps:
            op = OPS_BY_NAME[name]
            assert op.ok(*(values[s] for s in slots)), (expr, name, slots)
        assert all(math.isfinite(v) and abs(v) < 1e4 for v in values), expr
        assert expr.expression.n_inputs <= 3 and len(values) <= 12
        out = expr(*expr.leaves())
        draws.append(expr)
        shared.append(bool(_shared_nodes(out)))
        sizes.append(len(expr.expression.steps))
        ops_seen.update(expr.ops)

    record()
    assert len(draws) == 1500
    assert sum(shared) > len(draws) // 4, f"only {sum(shared)} of {len(draws)} graphs share a node"
    assert max(sizes) >= 8  # not only tiny graphs
    assert ops_seen == set(OPS_BY_NAME)  # every op of the table is drawn


def test_only_the_named_ops_are_drawn_and_rule_names_expand():
    seen = set()

    @settings(max_examples=200)
    @given(ags.expressions(ops=["add", "mul", "tanh", "log", "pow"], max_nodes=30))
    def record(expr):
        assert len(expr.expression.steps) + expr.expression.n_inputs <= 30
        seen.update(expr.ops)

    record()
    allowed = {"add", "add_const", "mul", "mul_const", "tanh", "log", "pow3", "pow_frac", "pow_neg"}
    assert seen <= allowed
    assert {"tanh", "log", "pow3"} <= seen


@settings(max_examples=3500)
@given(ags.expressions(max_nodes=12))
def test_backward_matches_central_differences_on_drawn_expressions(expr):
    assert gradcheck(expr, expr.inputs)


@settings(max_examples=300)
@given(ags.expressions(max_nodes=10))
def test_the_same_expression_runs_on_values_and_floats(expr):
    value = expr(*expr.leaves())
    assert isinstance(value, Value)
    assert expr(*expr.inputs) == value.data  # floats in, the same float out
    grads = expr.gradients()
    value.backward()
    assert grads == [x.grad for x in _leaves_of(value, expr)]


def _leaves_of(root, expr):
    leaves = {n.label: n for n in topological_order(root) if not n.op}
    return [leaves[f"x{i}"] if f"x{i}" in leaves else Value(0.0) for i in range(expr.expression.n_inputs)]


def test_str_and_repr_are_readable():
    e = ags.DrawnExpression(Expression(2, [("mul", (0, 1)), ("add", (2, 0)), ("tanh", (3,))]), [0.5, 2.0])
    assert str(e) == "tanh(x0*x1 + x0)"
    assert repr(e) == "tanh(x0*x1 + x0) at x0=0.5, x1=2.0"
    assert str(Expression(2, [("pow3", (1,)), ("sigmoid", (1,)), ("add", (2, 3))])) == "x1**3 + sigmoid(x1)"
    assert str(Expression(1, [("exp", (0,)), ("tanh", (0,)), ("mul", (1, 2)), ("pow3", (3,))])) == (
        "(exp(x0)*tanh(x0))**3"
    )


# ---- a user's own engine, with a planted bug: the strategies must shrink it to a small example ----


class Toy:
    """A micrograd-style engine, as a user writes one; ``mul`` sends ``b`` to both inputs."""

    def __init__(self, data, parents=(), backward=lambda: None):
        self.data, self.grad, self._parents, self._backward = float(data), 0.0, parents, backward

    @staticmethod
    def wrap(x):
        return x if isinstance(x, Toy) else Toy(x)

    def __add__(self, other):
        other = Toy.wrap(other)
        out = Toy(self.data + other.data, (self, other))

        def backward():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = backward
        return out

    __radd__ = __add__

    def __mul__(self, other):
        other = Toy.wrap(other)
        out = Toy(self.data * other.data, (self, other))

        def backward():
            self.grad += other.data * out.grad
            other.grad += other.data * out.grad  # the bug: should be self.data

        out._backward = backward
        return out

    __rmul__ = __mul__

    def _unary(self, value, local):
        out = Toy(value, (self,))

        def backward():
            self.grad += local * out.grad

        out._backward = backward
        return out

    def tanh(self):
        t = math.tanh(self.data)
        return self._unary(t, 1 - t * t)

    def log(self):
        return self._unary(math.log(self.data), 1 / self.data)

    def backward(self):
        order, seen = [], set()

        def visit(node):
            if id(node) not in seen:
                seen.add(id(node))
                for p in node._parents:
                    visit(p)
                order.append(node)

        visit(self)
        self.grad = 1.0
        for node in reversed(order):
            node._backward()


def _toy_agrees(expr):
    mine = [Toy(x) for x in expr.inputs]
    expr(*mine).backward()
    return all(abs(m.grad - o) <= 1e-9 * max(1.0, abs(o)) for m, o in zip(mine, expr.gradients()))


def test_a_planted_bug_shrinks_to_a_small_readable_expression():
    failing = []

    @settings(max_examples=500, derandomize=True, database=None)
    @given(ags.expressions(ops=["add", "mul", "tanh", "log"], max_nodes=30))
    def test_my_engine_matches(expr):
        if not _toy_agrees(expr):
            failing.append(expr)
            raise AssertionError(f"gradients differ on {expr!r}")

    with pytest.raises(AssertionError) as info:
        test_my_engine_matches()
    shrunk = failing[-1]  # hypothesis replays the minimal example last
    assert len(shrunk.expression.steps) <= 3, repr(shrunk)
    assert "*" in str(shrunk) and len(str(shrunk)) <= 20, repr(shrunk)
    assert not _toy_agrees(shrunk)
    report = "\n".join([str(info.value), *getattr(info.value, "__notes__", [])])
    assert f"expr={shrunk!r}" in report  # what the user reads: test_my_engine_matches(expr=x0*x1 at ...)


def test_the_correct_toy_engine_passes():
    @settings(max_examples=200, database=None)
    @given(ags.expressions(ops=["add", "tanh", "log"], max_nodes=20))
    def check(expr):
        assert _toy_agrees(expr), expr

    check()


# ---- values(), from_type, the entry point ----


@given(ags.values(-2.0, 3.0))
def test_values_are_leaves_in_range(v):
    assert isinstance(v, Value) and v.op == "" and -2.0 <= v.data <= 3.0


@given(st.from_type(Value))
def test_from_type_value_draws_values(v):
    assert isinstance(v, Value) and math.isfinite(v.data)


def test_the_hypothesis_entry_point_is_declared_and_installed():
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    block = re.search(r"^\[project\.entry-points\.hypothesis\]\n(.*?)(?:\n\[|\Z)", text, re.S | re.M)
    assert block and '"autograd_scalar.testing.strategies:_hypothesis_setup_hook"' in block.group(1)
    installed = [e.value for e in importlib.metadata.entry_points(group="hypothesis")]
    assert "autograd_scalar.testing.strategies:_hypothesis_setup_hook" in installed, "pip install -e . again"


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"ops": ["add", "matmul"]}, ValueError, ["unknown op 'matmul'", "tanh"]),
        ({"ops": "add"}, TypeError, ["list of names", "'add'"]),
        ({"ops": []}, ValueError, ["ops is empty"]),
        ({"max_nodes": 1}, ValueError, ["max_nodes", "1"]),
        ({"max_inputs": 0}, ValueError, ["max_inputs", "0"]),
    ],
)
def test_bad_arguments_raise_clear_errors(kwargs, error, words):
    with pytest.raises(error) as info:
        ags.expressions(**kwargs)
    for word in words:
        assert word in str(info.value)


def test_values_rejects_an_empty_range():
    with pytest.raises(ValueError, match="min_value <= max_value"):
        ags.values(1.0, -1.0)


def test_without_hypothesis_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "hypothesis", None)
    with pytest.raises(ImportError, match=r"autograd-scalar\[hypothesis\]"):
        ags.expressions()
