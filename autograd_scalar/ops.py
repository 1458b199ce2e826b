"""Your own operations: a name, the forward on floats, and the local derivatives as one rule.

``define_op`` adds a row to :data:`autograd_scalar.rules.RULES`, the table every built-in
operation lives in, and returns the function that applies it. Nothing else changes: the one
backward walk, ``grad(..., create_graph=True)``, ``gradcheck``, the step-through, the drawings and
``compile`` read that table, so they all work on the new operation.

>>> import math
>>> from autograd_scalar import Value, define_op, gradcheck, gradgradcheck
>>> from autograd_scalar.rules import exp
>>> softplus = define_op("my_softplus", lambda x: math.log1p(math.exp(x)),
...                      lambda out, x: (1 - exp(-out),), words=("1 - exp(-out)",))
>>> x = Value(0.5, label="x")
>>> y = softplus(x * 2)
>>> y.op, round(y.data, 6)
('my_softplus', 1.313262)
>>> y.backward(); round(x.grad, 6)          # 2 * sigmoid(1)
1.462117
>>> gradcheck(lambda x: softplus(x * 2), [0.5]), gradgradcheck(lambda x: softplus(x * 2), [0.5])
(True, True)
>>> softplus(1.0) == math.log1p(math.e)     # on plain numbers it is a plain function, so rules may call it
True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from .engine import Value, _as_float, _make, _shown
from .rules import RULES, Rule

__all__ = ["define_op"]


def define_op(
    name: str,
    forward: Callable[..., float],
    local: Callable[..., tuple],
    *,
    words: Sequence[str] | None = None,
    symbol: str | None = None,
) -> Callable[..., Any]:
    """Define the operation ``name`` and return the function that applies it.

    - ``forward(*inputs) -> float``: the operation on plain floats (one or two inputs).
    - ``local(out, *inputs) -> tuple``: the local derivative of the output with respect to each
      input, in the table's style (``lambda out, x: (cos(x),)``). As in every rule, write it with
      the helpers of :mod:`autograd_scalar.rules` (``exp``, ``log``, ``sin``, ``cos``, ...) or
      ``Value`` methods, not ``math``: the same line then receives floats in ``backward()`` and
      ``Value`` nodes in ``grad(..., create_graph=True)``, so second derivatives work too
      (``gradgradcheck`` says whether they do). Its parameter names name the inputs in the
      step-through (``x``; ``a, b``).
    - ``words``: each derivative as a formula, for the step-through and the drawings (default
      ``d<name>/d<input>``); ``symbol``: what a drawing shows on the node (default ``name``).

    The returned function takes ``Value``\\ s or numbers; with no ``Value`` among its inputs it
    returns a plain float, so other rules can call it like ``exp``. A forward that raises
    (``math.log(-1)``) or returns inf or nan raises the standard error, naming ``name`` and the
    inputs. Defining a name again replaces your earlier definition (re-running a notebook cell);
    the built-ins' names are refused.

    >>> import math
    >>> from autograd_scalar.rules import cos
    >>> sine = define_op("my_sine", math.sin, lambda out, x: (cos(x),), words=("cos(x)",))
    >>> y = sine(Value(0.0))
    >>> y.backward(); y.data, y.parents[0].grad
    (0.0, 1.0)
    """
    if not isinstance(name, str) or not name.isidentifier() or not name.isascii():
        raise ValueError(f"define_op: the name must be an ASCII identifier, got {name!r}")
    if name in RULES and RULES[name].forward is None:
        raise ValueError(f"define_op: {name!r} is a built-in operation; pick another name")
    if not callable(forward):
        raise TypeError(f"define_op: forward must be a function of floats, got {forward!r}")
    code = getattr(local, "__code__", None)
    if code is None or code.co_flags & 0x0C:  # not a def/lambda, or one taking *args / **kwargs
        raise TypeError(f"define_op: local must be a def or lambda (out, *inputs) -> tuple, got {local!r}")
    arity = code.co_argcount - 1
    if arity not in (1, 2):
        raise ValueError(
            f"define_op: {name!r} takes {arity} inputs; an operation takes one or two (a node has two argument "
            "slots): write a longer one as a composition"
        )
    inputs = code.co_varnames[1 : code.co_argcount]
    words = tuple(f"d{name}/d{x}" for x in inputs) if words is None else tuple(words)
    if len(words) != arity or not all(isinstance(w, str) for w in words):
        raise ValueError(f"define_op: words must be {arity} string(s), one per input {inputs}, got {words!r}")
    symbol = name if symbol is None else symbol
    if not isinstance(symbol, str) or not symbol:
        raise TypeError(f"define_op: symbol must be a non-empty str, got {symbol!r}")

    checked = _checked_forward(name, forward)
    RULES[name] = Rule(symbol, local, words, checked)

    def apply(*args: Any) -> Any:
        if len(args) != arity:
            raise TypeError(f"{name}: takes {arity} input(s), got {len(args)}")
        operands = [a if isinstance(a, Value) else _as_float(name, a) for a in args]
        datas = [a.data if isinstance(a, Value) else a for a in operands]
        if len(operands) == 1:
            if not isinstance(operands[0], Value):
                return checked(*datas)
            return _make(checked(*datas), name, operands[0])
        if not isinstance(operands[0], Value) and not isinstance(operands[1], Value):
            return checked(*datas)
        return _make(checked(*datas), name, operands[0], operands[1])

    apply.__name__ = apply.__qualname__ = name
    apply.__doc__ = f"The operation {name!r} (defined with define_op): d/d{', d/d'.join(inputs)} = {', '.join(words)}."
    return apply


def _checked_forward(name: str, forward: Callable[..., float]) -> Callable[..., float]:
    """``forward`` on floats, its result a finite float, its errors naming ``name`` and the inputs.

    The interpreter calls it to make each node and the compiler calls it for each node it
    computes (``Rule.forward``), so the two agree bit for bit.
    """

    def checked(*floats: float) -> float:
        shown = ", ".join(repr(x) for x in floats)
        try:
            out = forward(*floats)
        except (ZeroDivisionError, OverflowError, ValueError) as error:
            kind = next(k for k in (ZeroDivisionError, OverflowError, ValueError) if isinstance(error, k))
            raise kind(f"{name}: {error} (for input {shown})") from error
        if out.__class__ is not float:
            if isinstance(out, Value) or isinstance(out, bool) or not hasattr(out, "__float__"):
                raise TypeError(f"{name}: forward must return a float, got {_shown(out)} for input {shown}")
            try:
                out = float(out)
            except OverflowError:
                raise OverflowError(f"{name}: result {_shown(out)} overflows a float for input {shown}") from None
        if math.isnan(out):
            raise ValueError(f"{name}: forward returned nan for input {shown}")
        if math.isinf(out):
            raise OverflowError(f"{name}: result overflows to {out!r} for input {shown}")
        return out

    checked.__name__ = checked.__qualname__ = f"{name}_forward"
    return checked
