"""PyTorch float64 as an oracle on seeded random expression DAGs with shared sub-expressions:
10,000 first-order cases within 1e-12 relative, 1,000 second-order cases within 1e-10."""

from __future__ import annotations

import random

from autograd_scalar import Value, grad
from autograd_scalar.testing.ops import OPS, random_expression

FIRST_ORDER = 10_000
SECOND_ORDER = 1_000
SMOOTH = [op.name for op in OPS if op.higher_order]


def _close(ours: float, theirs: float, rel: float) -> bool:
    # near zero (paths that cancel) the tolerance is absolute: the sum order differs from torch
    return abs(ours - theirs) <= rel * max(abs(ours), abs(theirs), 1.0)


def _torch_grads(torch, expression, inputs, create_graph=False):
    ts = [torch.tensor(a, requires_grad=True) for a in inputs]
    out = expression(*ts)
    grads = torch.autograd.grad(out, ts, allow_unused=True, create_graph=create_graph)
    return ts, out, grads


def test_first_order_against_torch(torch):
    rng = random.Random(2026)
    shared = 0
    for case in range(FIRST_ORDER):
        expression, inputs = random_expression(rng, max_nodes=12, max_inputs=3)
        shared += expression.shared()
        xs = [Value(a) for a in inputs]
        out = expression(*xs)
        out.backward()
        _, t_out, t_grads = _torch_grads(torch, expression, inputs)
        assert _close(out.data, t_out.item(), 1e-12), (case, str(expression), inputs)
        for x, t in zip(xs, t_grads):
            expected = 0.0 if t is None else t.item()
            assert _close(x.grad, expected, 1e-12), (case, str(expression), inputs, x.grad, expected)
    assert shared > FIRST_ORDER // 4  # the += path is exercised, often


def test_every_op_appears_in_the_oracle_cases():
    rng = random.Random(2026)
    seen = set()
    for _ in range(2_000):
        seen |= random_expression(rng, max_nodes=12, max_inputs=3)[0].ops
    assert seen == {op.name for op in OPS}


def test_second_order_against_torch(torch):
    rng = random.Random(7)
    for case in range(SECOND_ORDER):
        expression, inputs = random_expression(rng, ops=SMOOTH, max_nodes=8, max_inputs=2)
        xs = [Value(a) for a in inputs]
        firsts = grad(expression(*xs), xs, create_graph=True)
        ts, _, t_firsts = _torch_grads(torch, expression, inputs, create_graph=True)
        for i, (g, tg) in enumerate(zip(firsts, t_firsts)):
            seconds = grad(g, xs)
            if tg is None or not tg.requires_grad:
                t_seconds = [None] * len(ts)
            else:
                t_seconds = torch.autograd.grad(tg, ts, allow_unused=True, retain_graph=True)
            for s, t in zip(seconds, t_seconds):
                expected = 0.0 if t is None else t.item()
                assert _close(s.data, expected, 1e-10), (case, str(expression), inputs, i, s.data, expected)
