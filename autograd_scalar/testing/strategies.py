"""Hypothesis strategies for gradient code: leaf ``Value``\\ s and random expression graphs.

Copy this into your own project's tests to check your engine (or your rules) against ours on
thousands of random graphs, with shared sub-expressions, every operation inside its domain::

    from hypothesis import given
    from autograd_scalar import Value
    from autograd_scalar.testing import strategies as ags

    @given(ags.expressions(ops=["add", "mul", "tanh", "log"], max_nodes=30))
    def test_my_engine_matches(expr):
        mine = [MyValue(x) for x in expr.inputs]          # your engine
        expr(*mine).backward()
        ours = expr.gradients()                            # autograd_scalar's
        for m, o in zip(mine, ours):
            assert abs(m.grad - o) <= 1e-9 * max(1.0, abs(o)), expr

A failure shrinks to a small expression and prints readably, e.g. ``x0*x1 at x0=1.0, x1=0.0``.
``st.from_type(Value)`` draws leaf Values too: the package registers :func:`values` with
hypothesis's plugin entry point.

hypothesis is imported inside the functions here, so this module imports without it; calling a
strategy without hypothesis installed raises an ImportError naming the extra to install.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ..engine import Value, grad
from .ops import OPS, OPS_BY_NAME, Expression, Op

__all__ = ["values", "expressions", "DrawnExpression"]

_LIMIT = 1e4  # drawn graphs keep every node's value below this, so nothing overflows downstream


def _hypothesis_strategies() -> Any:
    try:
        from hypothesis import strategies as st
    except ImportError as error:
        raise ImportError(
            "autograd_scalar.testing.strategies needs hypothesis: pip install 'autograd-scalar[hypothesis]' "
            "(or pip install hypothesis)"
        ) from error
    return st


class DrawnExpression:
    """A drawn graph: its program, its input values, and ways to run it.

    - ``expr.inputs``: the drawn input values (floats), one per variable ``x0, x1, ...``.
    - ``expr(*xs)``: rebuilds the graph from any inputs: ``Value``\\ s, torch tensors, or your own
      engine's scalars (it uses ``+ - * / **``, ``abs`` and ``.exp() .log() .tanh() .sigmoid()
      .relu() .sqrt()``); given plain numbers it returns the expression's value as a float.
    - ``expr.leaves()``: fresh leaf ``Value``\\ s at the inputs, labelled ``x0, x1, ...``.
    - ``expr.gradients()``: our gradients at the inputs, as floats.
    - ``str(expr)``: the formula, ``tanh(x0*x1 + x0)``; ``repr`` adds the inputs.

    >>> e = DrawnExpression(Expression(2, [("mul", (0, 1)), ("add", (2, 0)), ("tanh", (3,))]), [0.5, 2.0])
    >>> e
    tanh(x0*x1 + x0) at x0=0.5, x1=2.0
    >>> round(e(0.5, 2.0), 6)
    0.905148
    >>> [round(g, 6) for g in e.gradients()]
    [0.54212, 0.090353]
    """

    def __init__(self, expression: Expression, inputs: Sequence[float]) -> None:
        if len(inputs) != expression.n_inputs:
            raise ValueError(f"DrawnExpression: {expression.n_inputs} inputs needed, got {list(inputs)!r}")
        self.expression = expression
        self.inputs = tuple(float(x) for x in inputs)

    def __call__(self, *xs: Any) -> Any:
        if xs and all(isinstance(x, (int, float)) for x in xs):  # floats: evaluate, give a float
            return self.expression(*(Value(x) for x in xs)).data
        return self.expression(*xs)

    def leaves(self) -> list[Value]:
        """Fresh leaf Values at the drawn inputs, labelled ``x0, x1, ...``."""
        return [Value(x, label=f"x{i}") for i, x in enumerate(self.inputs)]

    def gradients(self) -> list[float]:
        """``d expr / d x_i`` at the drawn inputs, computed by this engine."""
        xs = self.leaves()
        return [g.data for g in grad(self.expression(*xs), xs)]

    @property
    def ops(self) -> set[str]:
        """The names (from ``OPS``) of the operations it uses."""
        return self.expression.ops

    def __str__(self) -> str:
        return str(self.expression)

    def __repr__(self) -> str:
        at = ", ".join(f"x{i}={x!r}" for i, x in enumerate(self.inputs))
        return f"{self.expression} at {at}"


def values(min_value: float = -10.0, max_value: float = 10.0) -> Any:
    """A strategy for leaf ``Value``\\ s with finite data in ``[min_value, max_value]``.

    This is what ``st.from_type(Value)`` draws.

    >>> from hypothesis import given
    >>> @given(values(-1.0, 1.0))
    ... def test_tanh_is_bounded(x):
    ...     assert -1.0 <= x.tanh().data <= 1.0
    >>> test_tanh_is_bounded()
    """
    st = _hypothesis_strategies()
    if not (math.isfinite(min_value) and math.isfinite(max_value) and min_value <= max_value):
        raise ValueError(f"values: need finite min_value <= max_value, got {min_value!r}, {max_value!r}")
    return st.builds(Value, st.floats(min_value, max_value, allow_nan=False, allow_infinity=False))


def expressions(ops: Sequence[str] | None = None, max_nodes: int = 12, max_inputs: int = 3) -> Any:
    """A strategy for :class:`DrawnExpression`: random graphs that stay inside every op's domain.

    ``ops`` names operations from :data:`autograd_scalar.testing.ops.OPS` (``"pow3"``,
    ``"add_const"``) or rules from the table (``"pow"`` means every way of calling it); default
    all. A graph has at most ``max_inputs`` inputs and ``max_nodes`` nodes (inputs included).

    How it is drawn: inputs first, then each step picks an op and earlier nodes as its inputs, so
    a node often feeds several later ones (shared sub-expressions, where backward must add).
    Values are computed as the graph grows; a choice that would leave an op's domain (``log`` of a
    negative, division by ~0, a result beyond 1e4) is redirected to the next input node or op
    that fits, rather than rejected, so hypothesis rarely has to discard a draw. Shrinking
    removes steps and moves choices towards the first op and the most recent node, so failures
    come out small: ``x0*x1 at x0=1.0, x1=0.0``.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=20)
    ... @given(expressions(ops=["add", "mul", "tanh"], max_nodes=6))
    ... def test_drawn(expr):
    ...     assert len(expr.expression.steps) + expr.expression.n_inputs <= 6
    ...     assert expr.ops <= {"add", "add_const", "mul", "mul_const", "tanh"}
    >>> test_drawn()
    """
    st = _hypothesis_strategies()
    chosen = _resolve_ops(ops)
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 2:
        raise ValueError(f"expressions: max_nodes must be an int >= 2 (one input and one step), got {max_nodes!r}")
    if isinstance(max_inputs, bool) or not isinstance(max_inputs, int) or max_inputs < 1:
        raise ValueError(f"expressions: max_inputs must be an int >= 1, got {max_inputs!r}")
    max_inputs = min(max_inputs, max_nodes - 1)
    low = min(op.domain[0][0] for op in chosen)
    high = max(op.domain[0][1] for op in chosen)

    @st.composite
    def draw_expression(draw: Any) -> DrawnExpression:
        n_inputs = draw(st.integers(1, max_inputs), label="inputs")
        inputs = [draw(st.floats(low, high, allow_nan=False), label="x") for _ in range(n_inputs)]
        n_steps = draw(st.integers(1, max_nodes - n_inputs), label="steps")
        values = list(inputs)
        steps: list[tuple[str, tuple[int, ...]]] = []
        for _ in range(n_steps):
            op_index = draw(st.integers(0, len(chosen) - 1))
            back = [draw(st.integers(0, len(values) - 1)) for _ in range(2)]
            step = _fit(chosen, op_index, back, values)
            if step is not None:
                steps.append(step[0])
                values.append(step[1])
        if not steps:  # nothing fits these inputs (``log`` of only negatives): discard the draw
            from hypothesis import assume

            assume(False)
        return DrawnExpression(Expression(n_inputs, steps), inputs)

    return draw_expression()


def _resolve_ops(ops: Sequence[str] | None) -> list[Op]:
    if ops is None:
        return list(OPS)
    if isinstance(ops, str):
        raise TypeError(f"expressions: ops must be a list of names, got the string {ops!r}; use [{ops!r}]")
    chosen: list[Op] = []
    for name in ops:
        matches = [OPS_BY_NAME[name]] if name in OPS_BY_NAME else [op for op in OPS if op.rule == name]
        if not matches:
            known = sorted(set(OPS_BY_NAME) | {op.rule for op in OPS})
            raise ValueError(f"expressions: unknown op {name!r}; known: {', '.join(known)}")
        chosen.extend(op for op in matches if op not in chosen)
    if not chosen:
        raise ValueError("expressions: ops is empty; name at least one operation")
    return chosen


def _fit(
    ops: list[Op], op_index: int, back: list[int], values: list[float]
) -> tuple[tuple[str, tuple[int, ...]], float] | None:
    """The first (op, input nodes) at or after the drawn choice that stays inside the domain.

    ``back`` counts nodes back from the newest, so a choice of 0 (where shrinking goes) means
    "the node just computed". Tries the drawn op with every choice of input nodes, starting from
    the drawn ones, then the next op, and so on; None if nothing fits.
    """
    n = len(values)
    for k in range(len(ops)):
        op = ops[(op_index + k) % len(ops)]
        arity = len(op.domain)
        for shift in range(min(n**arity, 64)):
            offsets = [(back[a] + shift // n**a) % n for a in range(arity)]
            slots = tuple(n - 1 - o for o in offsets)
            args = [values[s] for s in slots]
            if not op.ok(*args):
                continue
            try:
                out = op.call(*(Value(a) for a in args)).data
            except (ArithmeticError, ValueError):
                continue
            if abs(out) < _LIMIT:
                return (op.name, slots), out
    return None


def _hypothesis_setup_hook() -> None:
    """Called by hypothesis on import (the ``hypothesis`` entry point): ``from_type(Value)``."""
    st = _hypothesis_strategies()
    st.register_type_strategy(Value, lambda _: values())
