"""The engine: ``Value``, the topological order, and the one backward walk.

A ``Value`` holds a float, the operation that made it (``op``, ``""`` for a leaf) and that
operation's arguments, in order. It stores no closure: the derivative of every operation lives in
one table, :data:`autograd_scalar.rules.RULES`, and the backward walk applies it with one line::

    grads[parent] += local * upstream

Nothing here recurses, so a graph may be a million nodes deep, and nothing holds a reference
cycle, so a dropped graph is freed by reference counting alone.
"""

from __future__ import annotations

import _thread
import math
import numbers
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Union

from .rules import RULES

Number = Union[int, float]
_INF = math.inf
_new = object.__new__

# ``with detect_anomaly():`` turns on the per-contribution finiteness check; see detect_anomaly.
_anomaly_depth = 0

# Context managers that change or record what operations make (``no_grad``, ``scope``, the compiler's
# tracer) install functions here with ``_hooked``. With none installed the hot paths pay one check.
_make_hooks: tuple[Callable[[Value], Value], ...] = ()
"""Each receives every node ``_make`` creates and returns the node to hand back (itself, or a leaf)."""
_compare_hooks: tuple[Callable[[str, Value, Any, bool], None], ...] = ()
"""Each is told ``(op, value, other, outcome)`` for every ordering ``< <= > >=`` a Value takes part in."""


@contextmanager
def _hooked(*, make: Callable[[Value], Value] | None = None,
            compare: Callable[[str, Value, Any, bool], None] | None = None) -> Iterator[None]:
    """Install a make hook and/or a compare hook for the duration of a ``with`` block (they nest)."""
    global _make_hooks, _compare_hooks
    saved = _make_hooks, _compare_hooks
    if make is not None:
        _make_hooks = (*_make_hooks, make)
    if compare is not None:
        _compare_hooks = (*_compare_hooks, compare)
    try:
        yield
    finally:
        _make_hooks, _compare_hooks = saved


def _where(node: Value) -> str:
    """`` (node 'x')`` for a labelled node, else nothing: appended to error messages."""
    return f" (node {node.label!r})" if node.label else ""


def describe(node: Value) -> str:
    """A short name for a node in messages: its label, else ``op(inputs)`` one level deep.

    >>> x = Value(0.0, label="x")
    >>> describe(x), describe(x.sqrt()), describe(x * 3)
    ("'x'", 'sqrt(x)', 'mul(x, 3.0)')
    """
    if node.label:
        return repr(node.label)
    if not node.op:
        return f"leaf {node.data!r}"
    shown = (a.label or ("…" if a.op else repr(a.data)) if isinstance(a, Value) else repr(a) for a in node.args)
    return f"{node.op}({', '.join(shown)})"


def _as_float(op: str, x: Any) -> float:
    """``x`` as a finite float, or a TypeError / ValueError that names ``op`` and ``x``."""
    if x.__class__ is float:
        number = x
    elif isinstance(x, bool) or type(x).__name__ == "bool_" or not isinstance(x, numbers.Real):
        raise TypeError(f"{op}: expected a real number or a Value, got {x!r} ({type(x).__name__})")
    else:
        number = float(x)
    if number != number or number in (_INF, -_INF):
        raise ValueError(f"{op}: expected a finite number, got {x!r}")
    return number


def _operand(op: str, x: Any) -> Any:
    """A binary operator's other argument: a ``Value``, a float, or ``NotImplemented``.

    Arrays (anything with ``__array_ufunc__``) get ``NotImplemented``, so that NumPy broadcasts
    ``value * array`` elementwise instead of our refusing it.
    """
    if x.__class__ is float:
        return x if -_INF < x < _INF else _as_float(op, x)  # _as_float raises for nan and inf
    if isinstance(x, Value):
        return x
    if hasattr(type(x), "__array_ufunc__"):
        return NotImplemented
    return _as_float(op, x)


def _make(data: float, op: str, a: Value | float, b: Value | float | None = None) -> Value:
    """A new interior node ``op(a)`` or ``op(a, b)`` holding ``data``, which must be finite.

    It skips ``Value.__init__``'s checks: ``data`` is already a float.
    """
    if not -_INF < data < _INF:
        _overflow(data, op, a, b)
    node = _new(Value)
    node.data = data
    node.grad = 0.0
    node.label = ""
    node.op = op
    node._a = a
    node._b = b
    node._mark = None
    if _make_hooks:
        for hook in _make_hooks:
            node = hook(node)
    return node


def _overflow(data: float, op: str, a: Value | float, b: Value | float | None) -> None:
    """Raise the OverflowError for ``op(a, b) == data``, an infinity or nan, naming ``op`` and its inputs."""
    shown = ", ".join(f"{x.data!r}{_where(x)}" if isinstance(x, Value) else repr(x) for x in (a, b) if x is not None)
    raise OverflowError(f"{op}: result overflows to {data!r} for input {shown}")


class Value:
    """A scalar in a computation graph: its value, its gradient, and how it was made.

    >>> w0, x0, w1, x1, w2 = Value(2.0), Value(-1.0), Value(-3.0), Value(-2.0), Value(-3.0)
    >>> f = (w0 * x0 + w1 * x1 + w2).sigmoid()
    >>> f.backward()
    >>> round(f.data, 4), round(w0.grad, 4), round(x0.grad, 4), w2.grad == f.data * (1 - f.data)
    (0.7311, -0.1966, 0.3932, True)

    ``data`` and ``grad`` are floats; ``op`` names the operation that made the node (``""`` for a
    leaf); ``parents`` are the ``Value`` arguments of that operation, in argument order. Plain
    numbers in an expression (``x * 3``) are kept as constants, not as nodes (see ``args``).
    Values hash by identity, so they can key dicts and sets; ``==`` is identity too. The orderings
    ``< <= > >=`` compare ``data`` (with a Value or a number), so ``max(values)`` and NumPy's
    ``np.maximum(x, 0)`` on arrays of Values work; a comparison makes no node.
    """

    # The arguments live in two slots rather than a tuple: a node is then one object for the
    # garbage collector to track instead of two (leaf: both None; unary op: _b is None).
    # _mark is where topological_order records that it has visited the node.
    __slots__ = ("data", "grad", "label", "op", "_a", "_b", "_mark", "__weakref__")

    data: float
    grad: float
    label: str
    op: str
    _a: Value | float | None
    _b: Value | float | None

    def __init__(self, data: Number, label: str = "") -> None:
        if isinstance(data, Value):
            raise TypeError(f"Value: expected a real number, got a Value {data!r}; use it directly")
        if not isinstance(label, str):
            raise TypeError(f"Value: label must be a str, got {label!r}")
        self.data = _as_float("Value", data)
        self.grad = 0.0
        self.label = label
        self.op = ""
        self._a = self._b = self._mark = None

    # ---- structure -----------------------------------------------------------------------

    @property
    def args(self) -> tuple:
        """The operation's arguments in order: ``Value`` nodes and constant floats."""
        if self._a is None:
            return ()
        return (self._a,) if self._b is None else (self._a, self._b)

    @property
    def parents(self) -> tuple[Value, ...]:
        """The ``Value`` arguments of the operation that made this node, in argument order."""
        return tuple(a for a in self.args if a.__class__ is not float)

    def __repr__(self) -> str:
        extra = (f", label={self.label!r}" if self.label else "") + (f", op={self.op!r}" if self.op else "")
        return f"Value(data={self.data!r}, grad={self.grad!r}{extra})"

    # ---- arithmetic: + - * / and unary - ---------------------------------------------------
    # + - * try the two common cases first (another Value, a finite float) without calling
    # _operand, which handles the rest: ints, subclasses, arrays, and the errors.

    def __add__(self, other: Value | Number) -> Value:
        if other.__class__ is Value:
            return _make(self.data + other.data, "add", self, other)
        if other.__class__ is float and -_INF < other < _INF:
            return _make(self.data + other, "add", self, other)
        other = _operand("add", other)
        if other is NotImplemented:
            return other
        b = other if other.__class__ is float else other.data
        return _make(self.data + b, "add", self, other)

    def __radd__(self, other: Number) -> Value:
        other = _operand("add", other)
        if other is NotImplemented:
            return other
        return _make(other + self.data, "add", other, self)

    def __sub__(self, other: Value | Number) -> Value:
        if other.__class__ is Value:
            return _make(self.data - other.data, "sub", self, other)
        if other.__class__ is float and -_INF < other < _INF:
            return _make(self.data - other, "sub", self, other)
        other = _operand("sub", other)
        if other is NotImplemented:
            return other
        b = other if other.__class__ is float else other.data
        return _make(self.data - b, "sub", self, other)

    def __rsub__(self, other: Number) -> Value:
        other = _operand("sub", other)
        if other is NotImplemented:
            return other
        return _make(other - self.data, "sub", other, self)

    def __mul__(self, other: Value | Number) -> Value:
        if other.__class__ is Value:
            return _make(self.data * other.data, "mul", self, other)
        if other.__class__ is float and -_INF < other < _INF:
            return _make(self.data * other, "mul", self, other)
        other = _operand("mul", other)
        if other is NotImplemented:
            return other
        b = other if other.__class__ is float else other.data
        return _make(self.data * b, "mul", self, other)

    def __rmul__(self, other: Number) -> Value:
        other = _operand("mul", other)
        if other is NotImplemented:
            return other
        return _make(other * self.data, "mul", other, self)

    def __truediv__(self, other: Value | Number) -> Value:
        other = _operand("div", other)
        if other is NotImplemented:
            return other
        return _divide(self, other)

    def __rtruediv__(self, other: Number) -> Value:
        other = _operand("div", other)
        if other is NotImplemented:
            return other
        return _divide(other, self)

    def __neg__(self) -> Value:
        return _make(-self.data, "neg", self)

    def __pos__(self) -> Value:
        return self

    # ---- orderings (on data; == stays identity, so Values can key dicts) -------------------------

    def __lt__(self, other: Value | Number) -> bool:
        outcome = self.data < _compared("<", other)
        if _compare_hooks:
            _told("<", self, other, outcome)
        return outcome

    def __le__(self, other: Value | Number) -> bool:
        outcome = self.data <= _compared("<=", other)
        if _compare_hooks:
            _told("<=", self, other, outcome)
        return outcome

    def __gt__(self, other: Value | Number) -> bool:
        outcome = self.data > _compared(">", other)
        if _compare_hooks:
            _told(">", self, other, outcome)
        return outcome

    def __ge__(self, other: Value | Number) -> bool:
        outcome = self.data >= _compared(">=", other)
        if _compare_hooks:
            _told(">=", self, other, outcome)
        return outcome

    # ---- powers ------------------------------------------------------------------------------

    def __pow__(self, other: Value | Number) -> Value:
        other = _operand("pow", other)
        if other is NotImplemented:
            return other
        op = "pow" if other.__class__ is float else "vpow"
        return _power(op, self, other)

    def __rpow__(self, other: Number) -> Value:
        other = _operand("pow", other)
        if other is NotImplemented:
            return other
        return _power("rpow", other, self)

    def sqrt(self) -> Value:
        """``sqrt(x)``, for ``x >= 0``; its derivative ``0.5 / sqrt(x)`` is infinite at 0."""
        if self.data < 0.0:
            raise ValueError(f"sqrt: input must be >= 0, got {self.data!r}{_where(self)}")
        return _make(math.sqrt(self.data), "sqrt", self)

    # ---- functions ---------------------------------------------------------------------------

    def exp(self) -> Value:
        """``e**x``; an OverflowError past ``x ≈ 709.78``, where the result leaves float range."""
        try:
            return _make(math.exp(self.data), "exp", self)
        except OverflowError:
            raise OverflowError(f"exp: result overflows for input {self.data!r}{_where(self)}") from None

    def log(self) -> Value:
        """Natural logarithm, for ``x > 0``."""
        if self.data <= 0.0:
            raise ValueError(f"log: input must be > 0, got {self.data!r}{_where(self)}")
        return _make(math.log(self.data), "log", self)

    def tanh(self) -> Value:
        """``tanh(x)``; finite everywhere (``tanh(±1000) == ±1`` with gradient 0)."""
        return _make(math.tanh(self.data), "tanh", self)

    def sigmoid(self) -> Value:
        """``1 / (1 + e**-x)``, computed without overflow for any finite ``x``."""
        x = self.data
        if x >= 0.0:
            out = 1.0 / (1.0 + math.exp(-x))
        else:
            e = math.exp(x)
            out = e / (1.0 + e)
        return _make(out, "sigmoid", self)

    def relu(self) -> Value:
        """``max(0, x)``; its derivative at 0 is taken as 0, as in PyTorch."""
        return _make(self.data if self.data > 0.0 else 0.0, "relu", self)

    def __abs__(self) -> Value:
        return _make(abs(self.data), "abs", self)

    # ---- gradients -----------------------------------------------------------------------------

    def backward(self, *, check_finite: bool | None = None) -> None:
        """Add ``d self / d node`` to ``node.grad`` for every node of the graph below ``self``.

        ``self`` is seeded with 1.0. Gradients *accumulate*: a node that feeds several others
        receives the sum of their contributions, and calling ``backward()`` twice leaves every
        ``.grad`` at twice one call's value (reset with ``zero_grad()`` in between, as in PyTorch).

        With ``check_finite=True`` (or inside ``detect_anomaly()``) every contribution is checked
        and the first non-finite one raises, naming the node and the operation that produced it.

        >>> a = Value(3.0, label="a")
        >>> y = a * a + a
        >>> y.backward(); a.grad
        7.0
        >>> y.backward(); a.grad
        14.0
        """
        _backpropagate(self, accumulate=True, wanted=(), create_graph=False, check_finite=check_finite)


def _told(op: str, value: Value, other: Any, outcome: bool) -> None:
    for hook in _compare_hooks:
        hook(op, value, other, outcome)


def _compared(op: str, other: Any) -> float:
    """The number an ordering compares ``data`` with: ``other.data`` or ``other`` as a float."""
    return other.data if isinstance(other, Value) else _as_float(op, other)


def _divide(a: Value | float, b: Value | float) -> Value:
    bd = b if b.__class__ is float else b.data
    if bd == 0.0:
        where = "" if b.__class__ is float else _where(b)
        raise ZeroDivisionError(f"div: division by zero, denominator {bd!r}{where}")
    ad = a if a.__class__ is float else a.data
    return _make(ad / bd, "div", a, b)


def _power(op: str, base: Value | float, exponent: Value | float) -> Value:
    """``base ** exponent`` for the three ops ``pow`` (number exponent), ``rpow`` (number base)
    and ``vpow`` (both Values), with the same domain checks."""
    bd = base if base.__class__ is float else base.data
    ed = exponent if exponent.__class__ is float else exponent.data
    node = base if base.__class__ is not float else exponent
    if bd < 0.0 and ed != int(ed):
        raise ValueError(
            f"{op}: negative base {bd!r} with non-integer exponent {ed!r}{_where(node)} "
            "has no real result"
        )
    if bd == 0.0 and ed < 0.0:
        raise ZeroDivisionError(f"{op}: zero base {bd!r} with negative exponent {ed!r}{_where(node)}")
    try:
        out = bd**ed
    except OverflowError:
        raise OverflowError(f"{op}: result overflows for {bd!r} ** {ed!r}{_where(node)}") from None
    return _make(out, op, base, exponent)


# ---- the topological order and the backward walk --------------------------------------------


_sorting = _thread.allocate_lock()  # sorts in two threads at once would overwrite each other's marks
_sorting_thread: int | None = None  # the thread holding _sorting, to refuse a sort inside a sort


def topological_order(root: Value) -> list[Value]:
    """Every node that ``root`` depends on, each after all of its parents, ``root`` last.

    An iterative depth-first search (no recursion limit), visiting parents in argument order, so
    the same graph always gives the same order.

    >>> x = Value(2.0, label="x")
    >>> [describe(n) for n in topological_order((x * 3).exp() + x)]
    ["'x'", 'mul(x, 3.0)', 'exp(…)', 'add(…, x)']
    """
    with _marks("topological_order"):
        return _sort(root)[0]


@contextmanager
def _marks(who: str) -> Iterator[None]:
    """Hold the nodes' ``_mark`` slots for one sort (and walk): one thread at a time.

    A second thread waits its turn. The same thread asking again (a rule that calls backward
    from inside a backward pass) would wait for itself forever, so it gets an error instead.
    """
    global _sorting_thread
    if _sorting_thread == _thread.get_ident():
        raise RuntimeError(f"{who}: called from inside a backward pass (from a derivative rule?)")
    with _sorting:
        _sorting_thread = _thread.get_ident()
        try:
            yield
        finally:
            _sorting_thread = None


def _sort(root: Value) -> tuple[list[Value], object]:
    """``(order, done)``: the topological order, and the mark it has left on every node in it.

    The caller holds ``_marks``.
    """
    # A node's _mark says how far this sort has got with it: a dict of states would cost ~50
    # bytes a node, the slot 8; the marks are objects made for this sort, so old marks mean nothing.
    entered, done = object(), object()
    order: list[Value] = []
    stack = [root]
    while stack:
        node = stack.pop()
        mark = node._mark
        if mark is entered:  # back again: all its parents are in the order now
            node._mark = done
            order.append(node)
        elif mark is not done:
            a, b = node._a, node._b
            # None and floats are not nodes; nodes already in the order need no visit.
            visit_a = a is not None and a.__class__ is not float and a._mark is not done
            visit_b = b is not None and b.__class__ is not float and b._mark is not done
            if visit_a or visit_b:
                node._mark = entered
                stack.append(node)
                if visit_b:  # pushed first, so that a is visited first
                    stack.append(b)
                if visit_a:
                    stack.append(a)
            else:  # a leaf, or parents all in the order: it goes next (where a second visit would put it)
                node._mark = done
                order.append(node)
    return order, done


def _backpropagate(
    root: Value,
    *,
    accumulate: bool,
    wanted: Iterable[Value],
    create_graph: bool,
    check_finite: bool | None,
) -> dict[Value, Any]:
    """The one backward walk, behind ``backward()`` and ``grad()``.

    Visits nodes in reverse topological order, so that each node's gradient is complete (every
    consumer has added its part) before it is passed on. ``accumulate`` adds each node's gradient
    to its ``.grad``; the gradients of ``wanted`` nodes are returned. With ``create_graph`` the
    rules receive the nodes themselves and so build differentiable gradients.

    While the walk runs, a node's ``_mark`` holds the sum of the contributions it has received so
    far (its gradient from this pass, apart from ``.grad``, which may hold earlier passes'). A
    slot instead of a dict keyed by node made the walk of an MLP training step 1.3x faster.
    """
    if check_finite is None:
        check_finite = _anomaly_depth > 0
    wanted = set(wanted)
    found: dict[Value, Any] = {}
    with _marks("backward"):
        order, nothing_yet = _sort(root)  # every node's _mark is now nothing_yet
        root._mark = 1.0
        node = root
        try:
            while order:
                node = order.pop()  # from the root back to the leaves; popping frees the list as we go
                upstream = node._mark  # complete: every node that uses this one came earlier
                node._mark = None
                if not create_graph and not -_INF < upstream < _INF:
                    raise FloatingPointError(
                        f"backward: the gradient of {describe(node)} is {upstream!r}; run "
                        "backward(check_finite=True) to find the operation that produced it"
                    )
                if accumulate:
                    node.grad += upstream
                if wanted and node in wanted:
                    found[node] = upstream
                a, b = node._a, node._b
                if a is None:
                    continue  # a leaf
                rule = RULES[node.op].local  # looked up now, so a changed rule takes effect
                if create_graph:
                    local_grads = rule(node, a) if b is None else rule(node, a, b)
                elif b is None:
                    local_grads = rule(node.data, a.data)
                else:
                    local_grads = rule(
                        node.data,
                        a if a.__class__ is float else a.data,
                        b if b.__class__ is float else b.data,
                    )
                # The chain rule, gradient[parent] += local * upstream, for each argument that is a
                # node (a float is a constant and gets no gradient; b is None for a unary op).
                # Written out for a and b rather than looped over: the loop measured 1.3x slower.
                if a.__class__ is not float:
                    contribution = local_grads[0] * upstream
                    if check_finite:
                        _check_contribution(node, a, local_grads[0], upstream, contribution)
                    so_far = a._mark
                    a._mark = contribution if so_far is nothing_yet else so_far + contribution
                if b is not None and b.__class__ is not float:
                    contribution = local_grads[1] * upstream
                    if check_finite:
                        _check_contribution(node, b, local_grads[1], upstream, contribution)
                    so_far = b._mark
                    b._mark = contribution if so_far is nothing_yet else so_far + contribution
        except BaseException as error:
            for n in order:  # the nodes not reached yet: drop their partial sums (with create_graph, graphs)
                n._mark = None
            if not isinstance(error, (ZeroDivisionError, OverflowError, ValueError)):
                raise
            rule_row = RULES[node.op]
            formulas = ", ".join(f"d/d{name} = {w}" for name, w in zip(rule_row.inputs, rule_row.words))
            raise type(error)(
                f"backward through {describe(node)} = {node.data!r}: its local derivative "
                f"({formulas}) cannot be evaluated here: {error}"
            ) from error
    return found


def _check_contribution(node: Value, parent: Value, local: Any, upstream: Any, contribution: Any) -> None:
    value = contribution if contribution.__class__ is float else contribution.data
    if -_INF < value < _INF:
        return
    raise FloatingPointError(
        f"detect_anomaly: {describe(node)} sent the non-finite gradient {value!r} "
        f"to its input {describe(parent)} "
        f"(local derivative {_plain(local)!r} × upstream gradient {_plain(upstream)!r})"
    )


def _plain(x: Any) -> float:
    return x if x.__class__ is float else x.data


def grad(
    output: Value, inputs: Value | Sequence[Value], create_graph: bool = False
) -> tuple[Value, ...]:
    """The gradients of ``output`` with respect to ``inputs``, without touching any ``.grad``.

    Returns one ``Value`` per input (0 for an input that ``output`` does not depend on). With
    ``create_graph=True`` the gradients are themselves nodes of a graph, so they can be
    differentiated again, to any order.

    >>> x = Value(2.0)
    >>> (dy,) = grad(x ** 3, [x], create_graph=True)     # 3 x**2
    >>> (d2y,) = grad(dy, [x], create_graph=True)        # 6 x
    >>> (d3y,) = grad(d2y, [x])                          # 6
    >>> dy.data, d2y.data, d3y.data, x.grad
    (12.0, 12.0, 6.0, 0.0)
    """
    if not isinstance(output, Value):
        raise TypeError(f"grad: output must be a Value, got {output!r}")
    inputs = (inputs,) if isinstance(inputs, Value) else tuple(inputs)
    for x in inputs:
        if not isinstance(x, Value):
            raise TypeError(f"grad: inputs must be Values, got {x!r}")
    found = _backpropagate(output, accumulate=False, wanted=inputs, create_graph=create_graph, check_finite=None)
    results = []
    for x in inputs:
        g = found.get(x, 0.0)
        results.append(g if isinstance(g, Value) else Value(g))
    return tuple(results)


@contextmanager
def detect_anomaly() -> Iterator[None]:
    """Check every gradient contribution in backward and raise at the first non-finite one.

    The error names the operation, the node that produced the bad gradient and the local
    derivative and upstream gradient it came from. Off by default, as in PyTorch, because it
    costs a comparison per edge.

    >>> x = Value(0.0, label="x")
    >>> y = x.sqrt() * 0 + x                      # d sqrt(x)/dx is infinite at 0
    >>> with detect_anomaly():
    ...     y.backward()
    Traceback (most recent call last):
    ...
    ZeroDivisionError: backward through sqrt(x) = 0.0: its local derivative (d/dx = 0.5/out) cannot be ...
    """
    global _anomaly_depth
    _anomaly_depth += 1
    try:
        yield
    finally:
        _anomaly_depth -= 1
