"""Every operation with its input domain, and expressions that can be replayed on any backend.

``OPS`` is the table that drives the operation tests (as PyTorch's OpInfo does): each entry says
how to call the operation, where its inputs may be drawn, whether its derivative is smooth enough
for higher orders, and which bad inputs must raise which error. The same ``call`` works on
``Value``s, on PyTorch tensors (the oracle) and, for most entries, on NumPy object arrays.

An :class:`Expression` is a small program (a list of steps over numbered slots), so the same
graph can be rebuilt from ``Value``s, floats or a user's own engine, and printed readably:

>>> from autograd_scalar import Value
>>> e = Expression(2, [("mul", (0, 1)), ("add", (2, 0)), ("tanh", (3,))])
>>> str(e)
'tanh(x0*x1 + x0)'
>>> round(e(Value(0.5), Value(2.0)).data, 6)
0.905148
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Sequence
from typing import Any, Callable, NamedTuple


class Op(NamedTuple):
    """One way of calling one rule of :data:`autograd_scalar.rules.RULES`."""

    name: str
    """A unique name for this case (``"pow3"``)."""
    rule: str
    """The rule it exercises (``"pow"``)."""
    call: Callable[..., Any]
    """Applies the operation to its inputs: ``Value``s, tensors, ...; numbers are built in."""
    fmt: str
    """How an expression prints it, ``str.format`` style over its inputs (``"({0})**3"``)."""
    domain: tuple[tuple[float, float], ...]
    """For each input, an interval to draw from; the derivative is smooth inside it."""
    ok: Callable[..., bool]
    """Whether the inputs (floats) are safely inside the domain, with margins."""
    higher_order: bool = True
    """Whether second and third derivatives are defined (relu and abs: first order only)."""
    bad: tuple[tuple[tuple, type, str], ...] = ()
    """Bad inputs: (inputs as floats, expected exception, a word its message must contain)."""


def _small(*xs: float) -> bool:
    return all(abs(x) < 1e3 for x in xs)


OPS: tuple[Op, ...] = (
    Op("add", "add", lambda a, b: a + b, "{0} + {1}", ((-3, 3), (-3, 3)), lambda a, b: True),
    Op("add_const", "add", lambda a: a + 1.5, "{0} + 1.5", ((-3, 3),), lambda a: True),
    Op("sub", "sub", lambda a, b: a - b, "{0} - ({1})", ((-3, 3), (-3, 3)), lambda a, b: True),
    Op("rsub_const", "sub", lambda a: 2.0 - a, "2 - ({0})", ((-3, 3),), lambda a: True),
    Op("mul", "mul", lambda a, b: a * b, "{0}*{1}", ((-3, 3), (-3, 3)), _small),
    Op("mul_const", "mul", lambda a: a * -2.5, "{0}*-2.5", ((-3, 3),), lambda a: True),
    Op(
        "div", "div", lambda a, b: a / b, "{0} / ({1})", ((-3, 3), (0.5, 3)),
        lambda a, b: abs(b) > 0.3 and abs(a / b) < 1e3,
        bad=(((1.0, 0.0), ZeroDivisionError, "div"),),
    ),
    Op(
        "rdiv_const", "div", lambda a: 1.0 / a, "1 / ({0})", ((0.5, 3),), lambda a: abs(a) > 0.3,
        bad=(((0.0,), ZeroDivisionError, "div"),),
    ),
    Op("neg", "neg", lambda a: -a, "-({0})", ((-3, 3),), lambda a: True),
    Op(
        "pow3", "pow", lambda a: a**3, "({0})**3", ((-2, 2),), lambda a: abs(a) < 20,
    ),
    Op(
        "pow_frac", "pow", lambda a: a**1.5, "({0})**1.5", ((0.3, 3),), lambda a: 0.3 < a < 50,
        bad=(((-2.0,), ValueError, "pow"),),
    ),
    Op(
        "pow_neg", "pow", lambda a: a**-2.0, "({0})**-2", ((0.5, 3),), lambda a: 0.3 < abs(a) < 1e3,
        bad=(((0.0,), ZeroDivisionError, "pow"),),
    ),
    Op("rpow", "rpow", lambda a: 2.0**a, "2**({0})", ((-3, 3),), lambda a: abs(a) < 20),
    Op(
        "vpow", "vpow", lambda a, b: a**b, "({0})**({1})", ((0.5, 2), (-2, 2)),
        lambda a, b: 0.3 < a < 20 and abs(b) < 4,
        bad=(((-2.0, 0.5), ValueError, "vpow"), ((0.0, -1.0), ZeroDivisionError, "vpow")),
    ),
    Op(
        "exp", "exp", lambda a: a.exp(), "exp({0})", ((-3, 3),), lambda a: a < 5,
        bad=(((710.0,), OverflowError, "exp"), ((1000.0,), OverflowError, "exp")),
    ),
    Op(
        "log", "log", lambda a: a.log(), "log({0})", ((0.3, 5),), lambda a: 0.3 < a < 1e3,
        bad=(((0.0,), ValueError, "log"), ((-1.0,), ValueError, "log"), ((-1e-300,), ValueError, "log")),
    ),
    Op("tanh", "tanh", lambda a: a.tanh(), "tanh({0})", ((-3, 3),), lambda a: True),
    Op("sigmoid", "sigmoid", lambda a: a.sigmoid(), "sigmoid({0})", ((-3, 3),), lambda a: True),
    Op(
        "relu", "relu", lambda a: a.relu(), "relu({0})", ((-3, 3),), lambda a: abs(a) > 1e-3,
        higher_order=False,
    ),
    Op(
        "sqrt", "sqrt", lambda a: a.sqrt(), "sqrt({0})", ((0.3, 5),), lambda a: 0.3 < a < 1e3,
        bad=(((-1.0,), ValueError, "sqrt"), ((-1e-9,), ValueError, "sqrt")),
    ),
    Op("sin", "sin", lambda a: a.sin(), "sin({0})", ((-4, 4),), lambda a: abs(a) < 1e3),
    Op("cos", "cos", lambda a: a.cos(), "cos({0})", ((-4, 4),), lambda a: abs(a) < 1e3),
    Op(
        "abs", "abs", lambda a: abs(a), "abs({0})", ((-3, 3),), lambda a: abs(a) > 1e-3,
        higher_order=False,
    ),
)  # fmt: skip

OPS_BY_NAME: dict[str, Op] = {op.name: op for op in OPS}


class Expression:
    """A graph as a program: ``n_inputs`` slots, then one new slot per step.

    Each step is ``(op name from OPS, input slots)``; the last slot is the output. Calling the
    expression on ``n_inputs`` arguments replays the program on whatever they are.
    """

    def __init__(self, n_inputs: int, steps: Sequence[tuple[str, tuple[int, ...]]]) -> None:
        self.n_inputs = n_inputs
        self.steps = tuple((name, tuple(slots)) for name, slots in steps)
        for i, (name, slots) in enumerate(self.steps):
            if name not in OPS_BY_NAME:
                raise ValueError(f"Expression: unknown op {name!r}")
            if len(slots) != len(OPS_BY_NAME[name].domain) or any(not 0 <= s < n_inputs + i for s in slots):
                raise ValueError(f"Expression: step {i} {name}{slots} refers to a slot not yet computed")

    def __call__(self, *inputs: Any) -> Any:
        if len(inputs) != self.n_inputs:
            raise TypeError(f"Expression takes {self.n_inputs} inputs, got {len(inputs)}")
        slots = list(inputs)
        for name, args in self.steps:
            slots.append(OPS_BY_NAME[name].call(*(slots[s] for s in args)))
        return slots[-1]

    def __str__(self) -> str:
        text = [f"x{i}" for i in range(self.n_inputs)]
        for name, args in self.steps:
            fmt = OPS_BY_NAME[name].fmt
            operands = [text[s] for s in args]
            for k, operand in enumerate(operands):
                if _atomic(operand):  # "(x1)**3" reads better as "x1**3"; "exp(x1)" keeps its call
                    fmt = re.sub(r"(?<![A-Za-z])\(\{" + str(k) + r"\}\)", "{" + str(k) + "}", fmt)
            text.append(fmt.format(*operands))
        return text[-1]

    def __repr__(self) -> str:
        return f"Expression({self.n_inputs}, {list(self.steps)!r})  # {self}"

    @property
    def ops(self) -> set[str]:
        """The op names the program uses."""
        return {name for name, _ in self.steps}

    def shared(self) -> bool:
        """Whether some slot feeds more than one step (so backward must add with ``+=``)."""
        uses = [s for _, args in self.steps for s in args]
        return len(uses) != len(set(uses))


def _atomic(text: str) -> bool:
    """Whether ``text`` needs no parentheses as an operand: a name, or one call like ``exp(x0)``."""
    if re.fullmatch(r"x\d+", text):
        return True
    if not re.match(r"[a-z]+\(", text) or not text.endswith(")"):
        return False
    depth = 0
    for i, char in enumerate(text):
        depth += (char == "(") - (char == ")")
        if depth == 0 and char == ")":
            return i == len(text) - 1
    return False


def random_expression(
    rng: random.Random,
    ops: Sequence[str] | None = None,
    max_nodes: int = 12,
    max_inputs: int = 3,
) -> tuple[Expression, list[float]]:
    """A random expression DAG and inputs that keep every step inside its domain.

    Steps pick their inputs among all earlier slots, preferring recent ones, so slots are often
    shared. Returns ``(expression, inputs)``; the expression's output depends on the inputs.
    """
    names = list(ops) if ops is not None else [op.name for op in OPS]
    n_inputs = rng.randint(1, max_inputs)
    values = [rng.uniform(-2.0, 2.0) for _ in range(n_inputs)]
    inputs = list(values)
    steps: list[tuple[str, tuple[int, ...]]] = []
    n_steps = rng.randint(1, max(1, max_nodes - n_inputs))
    attempts = 0
    while len(steps) < n_steps and attempts < 50 * n_steps:
        attempts += 1
        op = OPS_BY_NAME[rng.choice(names)]
        n = len(values)
        slots = tuple(n - 1 - min(int(rng.expovariate(0.5)), n - 1) for _ in op.domain)
        args = [values[s] for s in slots]
        if not op.ok(*args):
            continue
        try:
            out = _float_call(op, args)
        except (ArithmeticError, ValueError):
            continue
        if not math.isfinite(out) or abs(out) > 1e4:
            continue
        steps.append((op.name, slots))
        values.append(out)
    if not steps:  # every draw fell outside a domain: fall back to a plain sum
        steps.append(("add", (0, 0)))
    return Expression(n_inputs, steps), inputs


def _float_call(op: Op, args: list[float]) -> float:
    from ..engine import Value

    return op.call(*(Value(a) for a in args)).data
