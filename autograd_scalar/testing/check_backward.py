"""Check a hand-written backward (your NumPy layer) entry by entry against the engine.

Your ``forward`` runs unchanged on NumPy object arrays of ``Value``\\ s, so ``x @ W + b``,
``.sum(0)``, ``.T``, ``.mean()`` and broadcasting build a graph of scalars. The engine
differentiates it, and every entry of your ``backward``'s output is compared with the engine's.
A wrong entry is reported with both numbers and the sum over the scalar paths that makes the
right one, read off the graph::

    dx[0, 0]: yours -1.6, engine -1.5 (= dout[0,0]*W[0,0] + dout[0,1]*W[0,1] = 1*0.5 + 2*-1)

which says why ``dx = dout @ W.T``: ``x[0,0]`` reaches ``out[0,j]`` through ``W[0,j]``.
"""

from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

from ..engine import Value, grad, topological_order
from ..gradcheck import GradcheckError
from ..rules import RULES

__all__ = ["check_backward"]

RTOL = 1e-6
"""An entry passes when ``|yours - engine| <= RTOL * max(1, |engine|)``."""
SHOW = 5
"""At most this many wrong entries are listed per array; the rest are counted."""
_MAX_TERMS = 32
"""Beyond this many paths into one node, its paths are summed into one number."""


def check_backward(
    forward: Callable[..., Any],
    backward: Callable[..., Any],
    *,
    upstream: Any = None,
    **arrays: Any,
) -> bool:
    """Check ``backward`` against the engine's gradients of ``forward``, every entry of every array.

    ``forward(*arrays)`` and ``backward(*arrays, dout)`` are called positionally, in the order of
    the keyword arguments: ``forward`` receives object arrays of ``Value``\\ s (a ``Value`` for a
    plain number), ``backward`` float copies of the arrays and the upstream gradient ``dout``, and
    returns one gradient per array, in the same order (``None`` for one you do not compute). A
    ``backward`` that takes no ``dout`` (a loss) is checked with ``dout = 1``.

    ``upstream`` is ``dout``, shaped like forward's output. By default it is 1 for a scalar
    output, and otherwise a fixed random array (seed 0, entries ±0.5 to ±2 with two decimals):
    with all ones, some mistakes go unseen (a weighted sum that should be a plain sum, rows and
    columns mixed up in a square layer). Pass ``upstream=np.ones(shape)`` if you want ones.

    Returns True; otherwise raises :class:`~autograd_scalar.gradcheck.GradcheckError` (an
    ``AssertionError``) naming every wrong array and entry, both numbers, the paths that make the
    right value, and wrong shapes and swapped outputs. Needs NumPy for arrays (not for plain
    numbers). An entry passes within ``RTOL = 1e-6`` relative (absolute below 1).

    >>> import numpy as np
    >>> def forward(x, W, b): return x @ W + b
    >>> def backward(x, W, b, dout): return dout @ W, x.T @ dout, dout.sum(0)   # dout @ W.T is right
    >>> X, W, b = np.array([[1.0, 2.0]]), np.array([[0.5, -1.0], [1.5, 0.0]]), np.array([0.1, 0.2])
    >>> check_backward(forward, backward, upstream=np.array([[1.0, 2.0]]), x=X, W=W, b=b)
    Traceback (most recent call last):
    ...
    autograd_scalar.gradcheck.GradcheckError: check_backward: dx is wrong (upstream dout = [[1.0, 2.0]])
    dx: 2 of 2 entries wrong
      dx[0, 0]: yours 3.5, engine -1.5 (= dout[0,0]*W[0,0] + dout[0,1]*W[0,1] = 1*0.5 + 2*-1)
      dx[0, 1]: yours -1, engine 1.5 (= dout[0,0]*W[1,0] + dout[0,1]*W[1,1] = 1*1.5 + 2*0)
    """
    if not callable(forward) or not callable(backward):
        bad = forward if not callable(forward) else backward
        raise TypeError(f"check_backward: forward and backward must be callable, got {bad!r}")
    if not arrays:
        raise TypeError("check_backward: give the arrays as keyword arguments, e.g. x=X, W=W, b=b")
    np = _numpy(arrays)
    inputs = {name: _Input(name, value, np) for name, value in arrays.items()}

    out = forward(*(i.for_forward(np) for i in inputs.values()))
    outputs, out_shape = _outputs(out, np)
    takes_dout = _takes_dout(backward, len(arrays))
    dout = _upstream(upstream, out_shape, takes_dout, np)

    leaves = [leaf for i in inputs.values() for leaf in i.leaves]
    terms = [o * d for o, d in zip(outputs, dout) if isinstance(o, Value)]
    root = terms[0]
    for term in terms[1:]:
        root = root + term
    engine = dict(zip(leaves, (g.data for g in grad(root, leaves))))

    copies = [i.for_backward(np) for i in inputs.values()]
    if takes_dout:
        copies.append(dout[0] if out_shape == () else np.array(dout, dtype=float).reshape(out_shape))
    yours = _results(backward(*copies), list(inputs))

    report = _Report(inputs, outputs, out_shape, dout, takes_dout or upstream is not None, root)
    for item, result in zip(inputs.values(), yours):
        report.compare(item, result, [engine[leaf] for leaf in item.leaves], np)
    report.find_swaps({name: [engine[leaf] for leaf in i.leaves] for name, i in inputs.items()})
    return report.finish()


# ---- inputs and outputs ----------------------------------------------------------------------


def _numpy(arrays: dict[str, Any]) -> Any:
    """NumPy, or None when every argument is a plain number; an ImportError if arrays need it."""
    try:
        import numpy
    except ImportError:
        for name, value in arrays.items():
            if not isinstance(value, numbers.Real):
                raise ImportError(
                    f"check_backward: arrays need NumPy ({name} is a {type(value).__name__}); "
                    "pip install numpy, or pip install 'autograd-scalar[numpy]'"
                ) from None
        return None
    return numpy


class _Input:
    """One keyword argument: its values (flat, C order), shape, and a leaf Value per entry."""

    def __init__(self, name: str, value: Any, np: Any) -> None:
        self.name = name
        if np is None:
            self.shape, flat = (), [value]
        else:
            try:
                array = np.asarray(value, dtype=float)
            except (TypeError, ValueError):
                raise TypeError(f"check_backward: {name} must be an array of numbers, got {value!r}") from None
            self.shape, flat = array.shape, array.ravel().tolist()
        for x in flat:
            if isinstance(x, bool) or not isinstance(x, numbers.Real) or not math.isfinite(x):
                raise ValueError(f"check_backward: {name} must hold finite numbers, got {value!r}")
        self.values = [float(x) for x in flat]
        self.leaves = [Value(x, label=_index(name, self.shape, k)) for k, x in enumerate(self.values)]

    def for_forward(self, np: Any) -> Any:
        if self.shape == ():
            return self.leaves[0]
        array = np.empty(len(self.leaves), dtype=object)
        array[:] = self.leaves
        return array.reshape(self.shape)

    def for_backward(self, np: Any) -> Any:
        return self.values[0] if self.shape == () else np.array(self.values, dtype=float).reshape(self.shape)


def _index(name: str, shape: tuple, k: int, sep: str = ",") -> str:
    """``name[i,j]`` for flat index ``k`` of an array of ``shape``; ``name`` for a scalar."""
    if shape == ():
        return name
    index = []
    for size in reversed(shape):
        index.append(k % size)
        k //= size
    return f"{name}[{sep.join(str(i) for i in reversed(index))}]"


def _outputs(out: Any, np: Any) -> tuple[list[Any], tuple]:
    """Forward's result as a flat list (Values, or numbers for constant entries) and its shape."""
    if isinstance(out, Value):
        return [out], ()
    if np is None:
        raise TypeError(f"check_backward: forward must return a Value, got {out!r}")
    array = np.asarray(out, dtype=object)
    flat = array.ravel().tolist()
    if not any(isinstance(o, Value) for o in flat):
        raise TypeError(
            "check_backward: forward returned no Values, so the engine cannot see its operations: "
            f"compute with the arrays it is given (no float() or np.asarray(..., dtype=float)); got {out!r}"
        )
    for o in flat:
        if not isinstance(o, (Value, numbers.Real)):
            raise TypeError(f"check_backward: forward's output holds {o!r}, not a Value or a number")
    return flat, array.shape


def _takes_dout(backward: Callable[..., Any], n: int) -> bool:
    """Whether ``backward`` accepts an upstream gradient after the ``n`` arrays."""
    try:
        parameters = inspect.signature(backward).parameters.values()
    except (TypeError, ValueError):
        return True
    if any(p.kind is p.VAR_POSITIONAL for p in parameters):
        return True
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) > n


def _upstream(upstream: Any, shape: tuple, takes_dout: bool, np: Any) -> list[float]:
    """``dout`` as a flat list of floats, shaped like forward's output."""
    size = math.prod(shape)
    if upstream is None:
        if shape == () or not takes_dout:
            return [1.0] * size
        rng = np.random.default_rng(0)
        magnitudes = np.round(rng.uniform(0.5, 2.0, size), 2)
        return (magnitudes * rng.choice([-1.0, 1.0], size)).tolist()
    if not takes_dout:
        raise TypeError("check_backward: backward takes no upstream gradient (dout), so leave upstream=None")
    if np is None:
        if not isinstance(upstream, numbers.Real):
            raise TypeError(f"check_backward: upstream must be a number here, got {upstream!r}")
        return [float(upstream)]
    array = np.asarray(upstream, dtype=float)
    if array.shape != shape:
        raise ValueError(
            f"check_backward: upstream has shape {array.shape}, but forward's output has shape {shape}"
        )
    if not np.isfinite(array).all():
        raise ValueError(f"check_backward: upstream must be finite, got {upstream!r}")
    return array.ravel().tolist()


def _results(result: Any, names: Sequence[str]) -> list[Any]:
    """backward's output as one entry per input array."""
    expected = ", ".join(f"d{n}" for n in names)
    if len(names) == 1:
        return [result[0] if isinstance(result, tuple) and len(result) == 1 else result]
    if not isinstance(result, (tuple, list)):
        raise TypeError(
            f"check_backward: backward returned {type(result).__name__}; expected a tuple ({expected}), "
            f"one gradient per keyword argument, in that order"
        )
    if len(result) != len(names):
        raise ValueError(
            f"check_backward: backward returned {len(result)} gradients; expected {len(names)} ({expected})"
        )
    return list(result)


# ---- the report ------------------------------------------------------------------------------


class _Report:
    def __init__(self, inputs: dict[str, _Input], outputs: list[Any], shape: tuple, dout: list[float],
                 show_dout: bool, root: Value) -> None:  # fmt: skip
        self.inputs, self.outputs, self.shape, self.dout = inputs, outputs, shape, dout
        self.root = root
        self.order: list[Value] | None = None
        self.show_dout = show_dout or shape != ()
        self.sections: list[str] = []
        self.wrong: list[str] = []
        self.yours: dict[str, tuple[list[float], tuple]] = {}

    def compare(self, item: _Input, result: Any, engine: list[float], np: Any) -> None:
        name = f"d{item.name}"
        if result is None:
            return
        try:
            array = np.asarray(result, dtype=float) if np is not None else None
            flat = array.ravel().tolist() if array is not None else [float(result)]
            shape = array.shape if array is not None else ()
        except (TypeError, ValueError):
            self.wrong.append(name)
            self.sections.append(f"{name}: not an array of numbers: {result!r}")
            return
        self.yours[item.name] = (flat, shape)
        if shape != item.shape:
            self.wrong.append(name)
            lines = [f"{name}: shape {shape}, but {item.name} has shape {item.shape}: "
                     f"yours {_short(flat, shape)}, engine {_short(engine, item.shape)}"]  # fmt: skip
            for k in range(min(len(engine), 3)):
                lines.append(f"  {_index(name, item.shape, k, ', ')} = {_num(engine[k])} "
                             f"(= {self.paths(item.leaves[k])})")  # fmt: skip
            if len(engine) > 3:
                lines.append(f"  ... and {len(engine) - 3} more entries")
            self.sections.append("\n".join(lines))
            return
        bad = [k for k, (y, e) in enumerate(zip(flat, engine)) if not abs(y - e) <= RTOL * max(1.0, abs(e))]
        if not bad:
            return
        self.wrong.append(name)
        lines = [f"{name}: {len(bad)} of {len(engine)} entries wrong"]
        for k in bad[:SHOW]:
            lines.append(f"  {_index(name, item.shape, k, ', ')}: yours {_num(flat[k])}, engine {_num(engine[k])} "
                         f"(= {self.paths(item.leaves[k])})")  # fmt: skip
        if len(bad) > SHOW:
            lines.append(f"  ... and {len(bad) - SHOW} more wrong entries of {name}")
        self.sections.append("\n".join(lines))

    def find_swaps(self, engine: dict[str, list[float]]) -> None:
        """Name an output that matches another array's gradient: outputs in the wrong order."""
        for name, (flat, shape) in self.yours.items():
            if f"d{name}" not in self.wrong:
                continue
            for other, right in engine.items():
                if other != name and self.inputs[other].shape == shape and all(
                    abs(y - e) <= RTOL * max(1.0, abs(e)) for y, e in zip(flat, right)
                ):
                    self.sections.append(
                        f"d{name} is the gradient of {other} (d{other}): are backward's outputs in the order "
                        f"{', '.join('d' + n for n in self.inputs)}?"
                    )

    def finish(self) -> bool:
        if not self.wrong:
            return True
        where = f" (upstream dout = {_short(self.dout, self.shape)})" if self.show_dout else ""
        verb = "is" if len(self.wrong) == 1 else "are"
        header = f"check_backward: {', '.join(self.wrong)} {verb} wrong{where}"
        raise GradcheckError("\n".join([header, *self.sections]))

    def paths(self, leaf: Value) -> str:
        """The right value of ``leaf``'s gradient as a sum over scalar paths, with its numbers."""
        terms: list[tuple[float, tuple]] = []
        for k, per_output in self._forward_terms(leaf):
            douts = ((_index("dout", self.shape, k), self.dout[k]),) if self.show_dout else ()
            terms.extend((coef, douts + factors) for coef, factors in per_output)
        if not terms:
            return "0: no path from it to the output"
        shown = terms if len(terms) <= 6 else terms[:4]
        symbols = " + ".join(_term(coef, factors, lambda f: f[0]) for coef, factors in shown)
        numbers_ = " + ".join(_term(coef, factors, lambda f: _num(f[1])) for coef, factors in shown)
        if len(terms) > 6:
            return f"{symbols} + ... ({len(terms)} paths in all)".replace("+ -", "- ")
        text = symbols if numbers_ == symbols else f"{symbols} = {numbers_}"
        return text.replace("+ -", "- ")

    def _forward_terms(self, leaf: Value) -> list[tuple[int, list[tuple[float, tuple]]]]:
        """For each output that ``leaf`` reaches: its paths as (coefficient, named factors) terms.

        Forward mode from the leaf over the graph: a path's term is the product of the local
        derivatives along it. A ``mul`` by one of the input entries keeps that entry's name
        (``W[0,1]``); every other local derivative is folded into the coefficient as a number.
        """
        if self.order is None:
            self.order = topological_order(self.root)
        paths: dict[Value, list[tuple[float, tuple]]] = {leaf: [(1.0, ())]}
        for node in self.order:
            found = []
            for position, arg in enumerate(node.args):
                if arg.__class__ is not float and arg in paths:
                    local = _local(node, position)
                    found.extend(_times(term, local) for term in paths[arg])
            if found:
                paths[node] = _merge(found)
        return [(k, paths[out]) for k, out in enumerate(self.outputs) if isinstance(out, Value) and paths.get(out)]


def _local(node: Value, position: int) -> Any:
    """The local derivative of ``node`` by its argument at ``position``: a number or a named leaf."""
    args = node.args
    if node.op == "mul":
        other = args[1 - position]
        if isinstance(other, Value) and not other.op and other.label:
            return (other.label, other.data)
    datas = [a.data if isinstance(a, Value) else a for a in args]
    return float(RULES[node.op].local(node.data, *datas)[position])


def _times(term: tuple[float, tuple], local: Any) -> tuple[float, tuple]:
    coef, factors = term
    return (coef, factors + (local,)) if isinstance(local, tuple) else (coef * local, factors)


def _merge(terms: list[tuple[float, tuple]]) -> list[tuple[float, tuple]]:
    """Add terms with the same factors; drop zero ones; too many become one number."""
    merged: dict[tuple, list] = {}
    for coef, factors in terms:
        key = tuple(sorted(f[0] for f in factors))
        if key in merged:
            merged[key][0] += coef
        else:
            merged[key] = [coef, factors]
    result = [(coef, factors) for coef, factors in merged.values() if coef != 0.0]
    if len(result) > _MAX_TERMS:
        total = sum(coef * math.prod(f[1] for f in factors) for coef, factors in result)
        return [(total, ())]
    return result


def _term(coef: float, factors: tuple, show: Callable[[tuple], str]) -> str:
    parts = [show(f) for f in factors]
    if coef != 1.0 or not parts:
        if coef == -1.0 and parts:
            return "-" + "*".join(parts)
        parts.insert(0, _num(coef))
    return "*".join(parts)


def _num(x: float) -> str:
    return f"{x:.6g}"


def _short(flat: Sequence[float], shape: tuple | None = None, limit: int = 8) -> str:
    """A list of numbers for a message, nested to ``shape`` when it is small, else truncated."""
    if shape is not None and shape != () and len(flat) <= limit:
        text = [repr(float(x)) for x in flat]
        for size in reversed(shape[1:]):
            text = ["[" + ", ".join(text[i : i + size]) + "]" for i in range(0, len(text), size)]
        return "[" + ", ".join(text) + "]"
    if shape == ():
        return _num(flat[0])
    shown = ", ".join(_num(x) for x in flat[:limit])
    return f"[{shown}{', ...' if len(flat) > limit else ''}]"
