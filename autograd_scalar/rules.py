"""The derivative rules: one row per operation, one line of math per row.

Every rule receives the operation's output and its inputs, and returns the local derivative of the
output with respect to each input, in argument order::

    "tanh": Rule("tanh", lambda out, x: (1 - out * out,), ("1 - out**2",))

reads ``d/dx tanh(x) = 1 - tanh(x)**2``.

The same line serves both backward passes. In the ordinary pass ``out`` and the inputs are plain
floats, so the rule returns floats. In ``grad(..., create_graph=True)`` they are the ``Value`` nodes
themselves, so the rule builds new, differentiable nodes, and its result can be differentiated
again. That is why rules call the helpers below (``exp``, ``log``, ``sin``, ``step``, ...), which
work on floats and on ``Value``s alike, and never ``math.log`` directly.

An input that is a plain number (the ``3`` in ``x * 3``) is stored as a float and receives no
gradient; its entry in the returned tuple is simply ignored.

Adding an operation means one row here (``define_op`` adds one from outside the package) and, for
a built-in, one line among ``Value``'s operators; the backward pass never changes.
"""

from __future__ import annotations

import math
from typing import Any, Callable, NamedTuple


def exp(x: Any) -> Any:
    """``e**x`` for a float or a ``Value``."""
    return math.exp(x) if x.__class__ is float else x.exp()


def log(x: Any) -> Any:
    """Natural logarithm of a float or a ``Value``; ``x`` must be > 0."""
    if x.__class__ is float:
        if x <= 0.0:
            raise ValueError(f"log: input must be > 0, got {x!r}")
        return math.log(x)
    return x.log()


def sin(x: Any) -> Any:
    """``sin(x)`` for a float or a ``Value``."""
    return math.sin(x) if x.__class__ is float else x.sin()


def cos(x: Any) -> Any:
    """``cos(x)`` for a float or a ``Value``."""
    return math.cos(x) if x.__class__ is float else x.cos()


def _number(x: Any) -> float:
    return x if x.__class__ is float else x.data


def pow_base(x: Any, c: Any) -> Any:
    """``d/dx x**c = c * x**(c-1)``, and 0 where ``x == c == 0`` (``x**0`` is constant), as in PyTorch."""
    if _number(c) == 0.0 and _number(x) == 0.0:
        return 0.0
    return c * x ** (c - 1)


def pow_exponent(out: Any, base: Any) -> Any:
    """``d/dc base**c = out * log(base)``: 0 where ``base == 0`` (PyTorch's limit, for ``c >= 0``).

    For a negative base the derivative does not exist (``log(base)`` is not real), so this raises
    a ValueError rather than return nan. A constant exponent needs no derivative: ``a ** b.item()``.
    """
    b = _number(base)
    if b == 0.0:
        return 0.0
    if b < 0.0:
        raise ValueError(
            f"the exponent's derivative out * log(base) does not exist for the negative base {b!r}; "
            "if the exponent is a constant, pass it as a number (a ** b.item())"
        )
    return out * log(base)


def step(x: Any) -> float:
    """Heaviside step, ``1.0 if x > 0 else 0.0`` (so ``relu'(0) == 0``, as in PyTorch).

    It is piecewise constant, so its own derivative is 0: it returns a plain float even for a
    ``Value``, which ends the chain there.
    """
    x = x if x.__class__ is float else x.data
    return 1.0 if x > 0.0 else 0.0


def sign(x: Any) -> float:
    """``-1.0``, ``0.0`` or ``1.0``: the derivative of ``abs`` (``abs'(0) == 0``, as in PyTorch)."""
    x = x if x.__class__ is float else x.data
    return 1.0 if x > 0.0 else -1.0 if x < 0.0 else 0.0


class Rule(NamedTuple):
    """One operation: how renderers show it, its local derivatives, and the same in words."""

    symbol: str
    """What a graph drawing shows on the operation node (``+``, ``*``, ``tanh``)."""
    local: Callable[..., tuple]
    """``local(out, *inputs) -> (d out/d input for each input)``."""
    words: tuple[str, ...]
    """Each local derivative as a formula in terms of ``out`` and the inputs' names."""
    forward: Callable[..., float] | None = None
    """``forward(*inputs) -> out`` on floats, for operations defined outside the engine (the compiler
    calls it where it has no code of its own for the operation); ``None`` for the built-ins."""

    @property
    def inputs(self) -> tuple[str, ...]:
        """The inputs' names, as ``words`` uses them: the rule's own parameter names."""
        code = self.local.__code__
        return code.co_varnames[1 : code.co_argcount]


# out is the operation's result; a, b (or x, c) its inputs in argument order.
RULES: dict[str, Rule] = {
    "add":     Rule("+",        lambda out, a, b: (1.0, 1.0),                         ("1", "1")),
    "sub":     Rule("-",        lambda out, a, b: (1.0, -1.0),                        ("1", "-1")),
    "mul":     Rule("*",        lambda out, a, b: (b, a),                             ("b", "a")),
    "div":     Rule("/",        lambda out, a, b: (1 / b, -out / b),                  ("1/b", "-out/b")),
    "neg":     Rule("-",        lambda out, x: (-1.0,),                               ("-1",)),
    "pow":     Rule("**",       lambda out, x, c: (pow_base(x, c), 0.0),              ("c * x**(c-1)", "0")),
    "rpow":    Rule("**",       lambda out, c, x: (0.0, pow_exponent(out, c)),        ("0", "out * log(c)")),
    "vpow":    Rule("**",       lambda out, a, b: (pow_base(a, b), pow_exponent(out, a)),
                                                                                      ("b * a**(b-1)", "out * log(a)")),
    "exp":     Rule("exp",      lambda out, x: (out,),                                ("out",)),
    "log":     Rule("log",      lambda out, x: (1 / x,),                              ("1/x",)),
    "tanh":    Rule("tanh",     lambda out, x: (1 - out * out,),                      ("1 - out**2",)),
    "sigmoid": Rule("sigmoid",  lambda out, x: (out * (1 - out),),                    ("out * (1 - out)",)),
    "relu":    Rule("relu",     lambda out, x: (step(x),),                            ("1 if x > 0 else 0",)),
    "sqrt":    Rule("sqrt",     lambda out, x: (0.5 / out,),                          ("0.5/out",)),
    "abs":     Rule("abs",      lambda out, x: (sign(x),),                            ("sign(x)",)),
    "sin":     Rule("sin",      lambda out, x: (cos(x),),                             ("cos(x)",)),
    "cos":     Rule("cos",      lambda out, x: (-sin(x),),                            ("-sin(x)",)),
}  # fmt: skip
