"""Check gradients against central finite differences: ``gradcheck`` (first order) and
``gradgradcheck`` (second order).

Both take a function of ``Value``\\ s that returns one ``Value``, and the point to check at. They
compare what the engine computes with what the function's own values say, input by input::

    numeric d f / d x_i  =  (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)

and raise :class:`GradcheckError`, an ``AssertionError`` (so pytest shows it as a failed
assertion), whose message is a small table: input, analytic, numeric, difference.

>>> from autograd_scalar import gradcheck
>>> gradcheck(lambda x, y: (x * y).tanh() + x.log(), [0.7, -1.3])
True
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Callable

from .engine import Value, _as_float, _shown, grad

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(AssertionError):
    """A gradient check failed; the message lists every checked entry, wrong ones marked ``*``."""


def gradcheck(
    f: Callable[..., Value],
    inputs: Sequence[float | Value] | float | Value,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """Whether ``backward`` through ``f`` agrees with central differences of ``f``, for every input.

    ``f`` takes one ``Value`` per input and returns a ``Value``. ``inputs`` are numbers (or
    ``Value``\\ s, of which only ``.data`` is used: the check builds its own leaves, so no ``.grad``
    of yours changes). An entry passes when ``|analytic - numeric| <= atol + rtol * |numeric|``.
    Returns True; on a mismatch raises :class:`GradcheckError` with a table of every input, or
    returns False if ``raise_exception=False``.

    The defaults (``eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True``) and the comparison
    are those of ``torch.autograd.gradcheck``. Where it differs:

    - ``f`` returns one scalar, so the Jacobian is one row: each input is checked on its own,
      and the error is a per-input table rather than two Jacobian matrices.
    - Every input is checked (there is no ``requires_grad`` to opt out), and inputs are plain
      floats, always double precision, which is what the defaults assume.
    - A point where ``f`` cannot be evaluated at ``x ± eps`` (``log`` near 0) raises that error,
      saying which input and which side; torch would propagate nan.
    - No ``nondet_tol``, ``fast_mode`` or batched checks: the engine is deterministic and scalar.

    >>> gradcheck(lambda x: x ** 3, [2.0])
    True
    >>> gradcheck(lambda x: x.relu(), [0.0])     # relu has no derivative at 0; the engine says 0
    Traceback (most recent call last):
    ...
    autograd_scalar.gradcheck.GradcheckError: gradcheck: 1 of 1 derivatives differ (eps=1e-06, atol=1e-05, rtol=0.001)
        derivative   at x         analytic     numeric      difference
      * d/dx0        0            0            0.5          -0.5
    """
    point, names = _check_arguments("gradcheck", f, inputs, eps, atol, rtol)
    xs = _leaves(point, names)
    analytic = [g.data for g in grad(_call("gradcheck", f, xs, names), xs)]
    rows = []
    for i in range(len(point)):
        numeric = _central_difference("gradcheck", lambda p: _call("gradcheck", f, p, names).data, point, i, eps)
        rows.append((f"d/d{names[i]}", point[i], analytic[i], numeric))
    return _report("gradcheck", rows, eps, atol, rtol, raise_exception)


def gradgradcheck(
    f: Callable[..., Value],
    inputs: Sequence[float | Value] | float | Value,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """Whether second derivatives through ``grad(..., create_graph=True)`` agree with differences.

    For every pair of inputs ``(i, j)`` it compares the analytic ``d/dx_j (d f/d x_i)`` (the
    gradient of the differentiable first derivative) with the central difference in ``x_j`` of
    that first derivative. So it catches a derivative rule that gives the right number but cannot
    be differentiated again (a rule that drops to floats, or uses a value that is only equal to
    the right one, not the same function of the inputs). Same arguments and result as
    :func:`gradcheck`.

    Where it differs from ``torch.autograd.gradgradcheck``: torch checks one vector-Jacobian
    product with random ``grad_outputs``; here ``f`` is scalar, so every entry of the Hessian is
    checked and listed, in a table of ``d2/dx_i dx_j`` rows. Defaults are torch's.

    >>> from autograd_scalar import gradgradcheck
    >>> gradgradcheck(lambda x, y: (x * y).tanh() + x.log(), [0.7, -1.3])
    True
    """
    point, names = _check_arguments("gradgradcheck", f, inputs, eps, atol, rtol)

    def first_derivatives(p: list[float]) -> tuple[list[Value], tuple[Value, ...]]:
        xs = _leaves(p, names)
        return xs, grad(_call("gradgradcheck", f, xs, names), xs, create_graph=True)

    xs, firsts = first_derivatives(point)
    rows = []
    for i, first in enumerate(firsts):
        analytic = [g.data for g in grad(first, xs)]
        for j in range(len(point)):
            numeric = _central_difference(
                "gradgradcheck", lambda p, i=i: first_derivatives(p)[1][i].data, point, j, eps
            )
            rows.append((f"d2/d{names[i]}d{names[j]}", point[j], analytic[j], numeric))
    return _report("gradgradcheck", rows, eps, atol, rtol, raise_exception)


# ---- helpers -------------------------------------------------------------------------------


def _check_arguments(
    name: str, f: Any, inputs: Any, eps: Any, atol: Any, rtol: Any
) -> tuple[list[float], list[str]]:
    """The point as floats and a name per input; TypeError/ValueError for anything unusable."""
    if not callable(f):
        raise TypeError(f"{name}: f must be callable (a function of Values), got {f!r}")
    if isinstance(inputs, (Value, numbers.Real, Decimal)):
        inputs = [inputs]
    if isinstance(inputs, (str, bytes)) or not isinstance(inputs, Sequence):
        raise TypeError(f"{name}: inputs must be a sequence of numbers or Values, got {inputs!r}")
    if not inputs:
        raise ValueError(f"{name}: inputs is empty; give the point to check at, e.g. [0.5]")
    point, names = [], []
    for i, x in enumerate(inputs):
        number = x.data if isinstance(x, Value) else x
        if isinstance(number, bool) or not isinstance(number, (numbers.Real, Decimal)):
            raise TypeError(f"{name}: input {i} must be a number or a Value, got {x!r}")
        try:  # the engine's one rule for numbers: Fraction, Decimal, NumPy's, rounded to a float
            point.append(_as_float(name, number))
        except TypeError:  # numpy.timedelta64
            raise TypeError(f"{name}: input {i} must be a number or a Value, got {_shown(x)}") from None
        except ValueError:  # inf, nan, 10**400
            raise ValueError(f"{name}: input {i} must be a finite number within float range, got {_shown(x)}") from None
        names.append(x.label if isinstance(x, Value) and x.label else f"x{i}")
    for option, value in (("eps", eps), ("atol", atol), ("rtol", rtol)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0:
            raise ValueError(f"{name}: {option} must be a number >= 0, got {value!r}")
    if eps == 0:
        raise ValueError(f"{name}: eps must be > 0, got {eps!r}")
    return point, names


def _leaves(point: Sequence[float], names: Sequence[str]) -> list[Value]:
    return [Value(p, label=n) for p, n in zip(point, names)]


def _call(name: str, f: Callable[..., Any], point: Sequence[Any], names: Sequence[str]) -> Value:
    """``f`` at ``point`` (floats, made into fresh leaves, or leaves); its result must be a Value."""
    xs = point if point and isinstance(point[0], Value) else _leaves(point, names)
    out = f(*xs)
    if not isinstance(out, Value):
        raise TypeError(
            f"{name}: f must return a Value (one scalar output), got {out!r} ({type(out).__name__})"
        )
    return out


def _central_difference(
    name: str, value_at: Callable[[list[float]], float], point: list[float], i: int, eps: float
) -> float:
    """``(value(x + eps e_i) - value(x - eps e_i)) / (2 eps)``, naming the side that fails."""
    sides = []
    for sign in (1.0, -1.0):
        shifted = list(point)
        shifted[i] += sign * eps
        try:
            sides.append(value_at(shifted))
        except (ArithmeticError, ValueError) as error:
            side = "+" if sign > 0 else "-"
            raise type(error)(
                f"{name}: f cannot be evaluated at input {i} {side} eps = {shifted[i]!r} "
                f"(too close to the edge of its domain? try a smaller eps): {error}"
            ) from error
    return (sides[0] - sides[1]) / (2 * eps)


def _report(
    name: str,
    rows: list[tuple[str, float, float, float]],
    eps: float,
    atol: float,
    rtol: float,
    raise_exception: bool,
) -> bool:
    bad = [abs(a - n) > atol + rtol * abs(n) for _, _, a, n in rows]
    if not any(bad):
        return True
    if not raise_exception:
        return False
    raise GradcheckError(
        f"{name}: {sum(bad)} of {len(rows)} derivatives differ (eps={eps!r}, atol={atol!r}, rtol={rtol!r})\n"
        + format_table(rows, bad)
    )


def format_table(rows: list[tuple[str, float, float, float]], bad: list[bool]) -> str:
    """The rows as aligned columns, a ``*`` before each wrong one.

    >>> print(format_table([("d/dx0", 2.0, 12.0, 12.5)], [True]))
        derivative   at x         analytic     numeric      difference
      * d/dx0        2            12           12.5         -0.5
    """
    header = ("derivative", "at x", "analytic", "numeric", "difference")
    cells = [header] + [(d, _num(x), _num(a), _num(n), _num(a - n)) for d, x, a, n in rows]
    widths = [max(len(c[k]) for c in cells) for k in range(len(header))]
    lines = []
    for index, cell in enumerate(cells):
        mark = "  * " if index and bad[index - 1] else "    "
        lines.append(mark + "   ".join(c.ljust(max(w, 10)) for c, w in zip(cell, widths)).rstrip())
    return "\n".join(lines)


def _num(x: float) -> str:
    return f"{x:.8g}"
