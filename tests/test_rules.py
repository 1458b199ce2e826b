"""The rule table, driven by ``testing.ops.OPS``: coverage, finite differences, second order,
bad inputs, and PyTorch float64 at random in-domain points. A new row in OPS gets every test here."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd_scalar import Value, grad
from autograd_scalar.rules import RULES
from autograd_scalar.testing.ops import OPS

IDS = [op.name for op in OPS]
BUILT_IN = {name for name, rule in RULES.items() if rule.forward is None}  # a user's define_op rows carry a forward


def test_every_rule_has_an_op_entry_and_words():
    assert {op.rule for op in OPS} == BUILT_IN
    for name, rule in RULES.items():
        assert len(rule.words) == len(rule.inputs), name
        assert rule.local.__code__.co_argcount == 1 + len(rule.inputs), name


def test_every_public_operation_is_in_the_table():
    methods = {"exp", "log", "tanh", "sigmoid", "relu", "sqrt", "sin", "cos"}
    assert methods <= BUILT_IN
    x = Value(1.5)
    made = {(x + 1).op, (x - 1).op, (x * 2).op, (x / 2).op, (-x).op, (x**2).op, (2**x).op, (x**x).op, abs(x).op}
    made |= {getattr(x, m)().op for m in methods}
    assert made == BUILT_IN


def _point(draw_floats, op):
    return [draw_floats(st.floats(lo, hi, allow_nan=False)) for lo, hi in op.domain]


def _numeric(op, point, i, h):
    def at(t):
        args = list(point)
        args[i] += t
        return op.call(*(Value(a) for a in args)).data

    return (at(h) - at(-h)) / (2 * h)


@pytest.mark.parametrize("op", OPS, ids=IDS)
@settings(max_examples=200)
@given(data=st.data())
def test_first_derivative_matches_central_differences(op, data):
    point = _point(data.draw, op)
    if not op.ok(*point):
        return
    xs = [Value(a) for a in point]
    grads = grad(op.call(*xs), xs)
    for i, g in enumerate(grads):
        h = 1e-6 * max(1.0, abs(point[i]))
        assert g.data == pytest.approx(_numeric(op, point, i, h), abs=1e-7, rel=1e-6)


@pytest.mark.parametrize("op", [op for op in OPS if op.higher_order], ids=[op.name for op in OPS if op.higher_order])
@settings(max_examples=50)
@given(data=st.data())
def test_second_derivative_matches_differences_of_the_first(op, data):
    point = _point(data.draw, op)
    if not op.ok(*point):
        return

    def first(args, i):
        xs = [Value(a) for a in args]
        return grad(op.call(*xs), xs)[i].data

    xs = [Value(a) for a in point]
    firsts = grad(op.call(*xs), xs, create_graph=True)
    for i, g in enumerate(firsts):
        seconds = grad(g, xs)
        for j, s in enumerate(seconds):
            h = 1e-5 * max(1.0, abs(point[j]))
            plus, minus = list(point), list(point)
            plus[j] += h
            minus[j] -= h
            numeric = (first(plus, i) - first(minus, i)) / (2 * h)
            assert s.data == pytest.approx(numeric, abs=1e-5, rel=1e-5)


BAD = [(op, args, error, word) for op in OPS for args, error, word in op.bad]
TYPE_BAD = ["aaa", None, True, 1j, [1.0], (1.0,), {"k": 1.0}]
BINARY = [op for op in OPS if len(op.domain) == 2]


@pytest.mark.parametrize("op, args, error, word", BAD, ids=[f"{b[0].name}{b[1]}" for b in BAD])
def test_bad_domain_inputs_raise_clear_errors(op, args, error, word):
    xs = [Value(a, label=f"in{i}") for i, a in enumerate(args)]
    with pytest.raises(error) as info:
        op.call(*xs)
    message = str(info.value)
    assert message.startswith(word), message
    assert any(re.search(re.escape(repr(a)), message) for a in args), message


@pytest.mark.parametrize("bad", TYPE_BAD, ids=repr)
@pytest.mark.parametrize("op", BINARY, ids=[op.name for op in BINARY])
def test_bad_operand_types_raise_type_errors(op, bad):
    with pytest.raises(TypeError) as info:
        op.call(Value(1.5), bad)
    assert repr(bad) in str(info.value)
    assert str(info.value).startswith(RULES[op.rule].symbol) or str(info.value).split(":")[0] in RULES


def test_at_least_forty_bad_input_cases():
    assert len(BAD) + len(TYPE_BAD) * len(BINARY) >= 40


@pytest.mark.parametrize("op", OPS, ids=IDS)
def test_op_agrees_with_torch_float64(op, torch):
    import random

    rng = random.Random(op.name)
    checked = 0
    while checked < 50:
        point = [rng.uniform(lo, hi) for lo, hi in op.domain]
        if not op.ok(*point):
            continue
        checked += 1
        xs = [Value(a) for a in point]
        ours = op.call(*xs)
        ours_grads = grad(ours, xs)
        ts = [torch.tensor(a, requires_grad=True) for a in point]
        theirs = op.call(*ts)
        theirs_grads = torch.autograd.grad(theirs, ts, allow_unused=True)
        assert ours.data == pytest.approx(theirs.item(), rel=1e-14, abs=1e-300)
        for g, t in zip(ours_grads, theirs_grads):
            expected = 0.0 if t is None else t.item()
            assert g.data == pytest.approx(expected, rel=1e-12, abs=1e-300)
            assert math.isfinite(g.data)
