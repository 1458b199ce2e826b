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
import operator
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, NoReturn, Union

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
"""Each is told ``(op, value, other, outcome)`` for every ordering ``< <= > >=`` a Value takes part in,
and ``("!=", value, 0.0, outcome)`` for every ``bool(value)``: the branches data can take."""


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


def _told(op: str, value: Value, other: Any, outcome: bool) -> None:
    for hook in _compare_hooks:
        hook(op, value, other, outcome)


# ---- numbers in, nodes out --------------------------------------------------------------------


def _as_float(op: str, x: Any) -> float:
    """``x`` as a finite float, or a TypeError / ValueError that names ``op`` and ``x``.

    One rule for every kind of number: a real number (``int``, ``float``, ``Fraction``, ``Decimal``,
    NumPy's) is rounded to the nearest float and must be finite and within float range (a
    ValueError otherwise). Anything else is a TypeError: bools (``Value(x > 0)`` is a comparison's
    outcome, not a number), durations (``numpy.timedelta64``), strings, complex numbers.
    """
    if x.__class__ is float:
        number = x
    elif x.__class__ is int and -2**1023 < x < 2**1023:  # sum()'s 0, 1 - x, x ** 2: a path of their own
        return float(x)
    else:
        kind = type(x).__name__
        if isinstance(x, bool) or kind == "bool_":
            raise TypeError(
                f"{op}: expected a real number or a Value, got {x!r} ({kind}): a bool is usually a comparison's "
                f"outcome (x > 0), which has no gradient; write 1.0 or 0.0 if you mean the number"
            )
        if not isinstance(x, (numbers.Real, Decimal)) or kind == "timedelta64":
            raise TypeError(f"{op}: expected a real number or a Value, got {_shown(x)} ({kind})")
        try:
            number = float(x)
        except OverflowError:  # 10**400, Fraction(10**400, 3)
            number = _INF
        except ValueError:  # Decimal("sNaN")
            number = math.nan
        if number in (_INF, -_INF) and (isinstance(x, numbers.Rational) or isinstance(x, Decimal) and x.is_finite()):
            raise ValueError(f"{op}: expected a number within the float range (|x| < 1.8e308), got {_shown(x)}")
    if number != number or number in (_INF, -_INF):
        raise ValueError(f"{op}: expected a finite number, got {_shown(x)}")
    return number


def _shown(x: Any) -> str:
    """``repr(x)`` for a message, shortened when long (an int of 400 digits)."""
    try:
        text = repr(x)
    except ValueError:  # an int beyond sys.get_int_max_str_digits()
        return f"an int of about {int(x.bit_length() * 0.30103)} digits"
    return text if len(text) <= 80 else f"{text[:60]}… ({len(text)} characters)"


def _operand(op: str, x: Any) -> Any:
    """An operator's other argument: a ``Value``, a finite float, or ``NotImplemented`` for arrays
    (anything with ``__array_ufunc__``), so that NumPy broadcasts ``value * array`` elementwise."""
    if x.__class__ is float and -_INF < x < _INF:
        return x
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
        _failed(op, OverflowError(), a, b, data)
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


def _failed(op: str, error: Exception, a: Value | float, b: Value | float | None = None, result: Any = None
            ) -> NoReturn:
    """Raise ``error`` from computing ``op(a, b)`` again, its message led by ``op`` and followed by the
    inputs' labels; an overflow (or an inf ``result``) shows the inputs' values too."""
    if isinstance(error, OverflowError):
        shown = ", ".join(f"{x.data!r}{_where(x)}" if isinstance(x, Value) else repr(x) for x in (a, b)
                          if x is not None)
        to = "" if result is None else f" to {result!r}"
        raise OverflowError(f"{op}: result overflows{to} for input {shown}") from None
    labels = [repr(x.label) for x in (a, b) if isinstance(x, Value) and x.label]
    where = f" (node {labels[0]})" if len(labels) == 1 else f" (nodes {', '.join(labels)})" if labels else ""
    raise type(error)(f"{op}: {error}{where}") from None


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


# ---- each operator written once: its forward on floats, then the node ---------------------------


def _binary(op: str, forward: Callable[[float, float], float], names: tuple[str, str, str] | None = None) -> tuple:
    """``__op__`` and ``__rop__``. ``names`` are the ops for (Value, Value), (Value, number) and
    (number, Value) where they differ (the powers); a plain number stays a constant argument."""
    both, right, left = names or (op, op, op)

    def method(self: Value, other: Value | Number) -> Value:
        if other.__class__ is Value:
            b, name = other.data, both
        elif other.__class__ is float and -_INF < other < _INF:
            b, name = other, right
        else:
            other = _operand(op, other)  # a float from an int, a Value subclass, NotImplemented, or an error
            if other is NotImplemented:
                return other
            b, name = (other, right) if other.__class__ is float else (other.data, both)
        try:
            data = forward(self.data, b)
        except (ArithmeticError, ValueError) as error:
            _failed(name, error, self, other)
        return _make(data, name, self, other)

    def reflected(self: Value, other: Number) -> Value:
        other = _operand(op, other)
        if other is NotImplemented:
            return other
        a, name = (other, left) if other.__class__ is float else (other.data, both)
        try:
            data = forward(a, self.data)
        except (ArithmeticError, ValueError) as error:
            _failed(name, error, other, self)
        return _make(data, name, other, self)

    return method, reflected


def _unary(op: str, forward: Callable[[float], float], doc: str) -> Callable[[Value], Value]:
    def method(self: Value) -> Value:
        try:
            data = forward(self.data)
        except (ArithmeticError, ValueError) as error:
            _failed(op, error, self)
        return _make(data, op, self)

    method.__name__, method.__doc__ = op, doc
    return method


def _ordering(op: str, compare: Callable[[float, float], bool]) -> Callable[[Value, Any], bool]:
    def method(self: Value, other: Value | Number) -> bool:
        outcome = compare(self.data, other.data if isinstance(other, Value) else _as_float(op, other))
        if _compare_hooks:
            _told(op, self, other, outcome)
        return outcome

    return method


# The forwards with a domain raise with the problem; _failed puts the op's name before it.


def _div(a: float, b: float) -> float:
    if b == 0.0:
        raise ZeroDivisionError(f"division by zero, denominator {b!r}")
    return a / b


def _pow(base: float, exponent: float) -> float:
    if base < 0.0 and exponent != int(exponent):
        raise ValueError(f"negative base {base!r} with non-integer exponent {exponent!r} has no real result")
    if base == 0.0 and exponent < 0.0:
        raise ZeroDivisionError(f"zero base {base!r} with negative exponent {exponent!r}")
    return base**exponent


def _log(x: float) -> float:
    if x <= 0.0:
        raise ValueError(f"input must be > 0, got {x!r}")
    return math.log(x)


def _sqrt(x: float) -> float:
    if x < 0.0:
        raise ValueError(f"input must be >= 0, got {x!r}")
    return math.sqrt(x)


def _sigmoid(x: float) -> float:
    if x >= 0.0:  # e**-x cannot overflow here, nor e**x below
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


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

    def __init__(self, data: Number, label: str = "", _op: None = None) -> None:
        if isinstance(data, Value):
            raise TypeError(f"Value: expected a real number, got a Value {data!r}; use it directly")
        if _op is not None or isinstance(label, (tuple, list, set, frozenset)):  # micrograd's third argument
            raise TypeError(
                "Value(data, label): micrograd's Value(data, _children, _op) has no equivalent here, because a "
                "node's op and parents come from the operation that makes it (write a + b, or define your own "
                f"operation with define_op); got {label!r}, {_op!r}"
            )
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

    # ---- the operations (their derivatives are in rules.RULES) ------------------------------------

    __add__, __radd__ = _binary("add", operator.add)
    __sub__, __rsub__ = _binary("sub", operator.sub)
    __mul__, __rmul__ = _binary("mul", operator.mul)
    __truediv__, __rtruediv__ = _binary("div", _div)
    __pow__, __rpow__ = _binary("pow", _pow, names=("vpow", "pow", "rpow"))
    __neg__ = _unary("neg", operator.neg, "``-x``")
    __abs__ = _unary("abs", abs, "``abs(x)``; its derivative at 0 is taken as 0, as in PyTorch")
    exp = _unary("exp", math.exp, "``e**x``; an OverflowError past ``x ≈ 709.78``, where the result leaves float range")
    log = _unary("log", _log, "Natural logarithm, for ``x > 0``.")
    sqrt = _unary("sqrt", _sqrt, "``sqrt(x)``, for ``x >= 0``; its derivative ``0.5 / sqrt(x)`` is infinite at 0")
    tanh = _unary("tanh", math.tanh, "``tanh(x)``; finite everywhere (``tanh(±1000) == ±1`` with gradient 0)")
    sigmoid = _unary("sigmoid", _sigmoid, "``1 / (1 + e**-x)``, computed without overflow for any finite ``x``")
    relu = _unary("relu", lambda x: x if x > 0.0 else 0.0, "``max(0, x)``; its derivative at 0 is 0, as in PyTorch")
    sin = _unary("sin", math.sin, "``sin(x)``, with ``d/dx sin(x) = cos(x)``")
    cos = _unary("cos", math.cos, "``cos(x)``, with ``d/dx cos(x) = -sin(x)``")

    def __pos__(self) -> Value:
        return self

    # orderings compare data and make no node (== stays identity, so Values can key dicts)
    __lt__, __le__ = _ordering("<", operator.lt), _ordering("<=", operator.le)
    __gt__, __ge__ = _ordering(">", operator.gt), _ordering(">=", operator.ge)

    # ---- the number inside, and copies -----------------------------------------------------------

    def item(self) -> float:
        """The number, ``.data``, as in PyTorch: ``f"{loss.item():.4f}"`` (or ``f"{loss:.4f}"``).

        >>> loss = Value(2.0) / 3
        >>> loss.item(), f"{loss:.4f}", bool(loss), bool(loss - loss)
        (0.6666666666666666, '0.6667', True, False)
        """
        return self.data

    def __format__(self, spec: str) -> str:
        """``format(v, ".4f")`` formats ``.data``; an empty spec (``f"{v}"``) gives the repr."""
        return format(self.data, spec) if spec else repr(self)

    def __bool__(self) -> bool:
        """``self.data != 0``, as ``bool(tensor)`` in PyTorch, so ``if loss:`` means what it says."""
        outcome = self.data != 0.0
        if _compare_hooks:
            _told("!=", self, 0.0, outcome)
        return outcome

    def __float__(self) -> float:
        raise TypeError(
            "float(Value): a Value is not converted implicitly, because math.exp(v) and the like would silently "
            "leave the graph; use v.item() for the number, or the Value's own method (v.exp()) to stay in the graph"
        )

    __int__ = __float__

    def detach(self) -> Value:
        """A new leaf with the same ``data``: what comes from it does not reach this node's graph.

        >>> x = Value(3.0)
        >>> y = x * x
        >>> z = y.detach() * x      # y's value, as a constant
        >>> z.backward(); x.grad
        9.0
        """
        return Value(self.data)

    def __copy__(self) -> Value:
        """``copy.copy(v)``: a new node with the same data, grad, label, op and the *same* parents,
        so gradients through the copy reach the original graph (``detach()`` cuts it instead)."""
        return _restore(self.data, self.grad, self.label, self.op, self._a, self._b)

    def __deepcopy__(self, memo: dict) -> Value:
        """``copy.deepcopy(v)``: every node below ``v`` copied once, parents first, so the depth
        never grows (Python's own recursion stops near 140 deep); nodes already in ``memo`` (copied
        with another object of the same ``deepcopy``) are reused, so shared nodes stay shared.

        >>> import copy, pickle
        >>> y = x = Value(0.5)
        >>> for _ in range(10_000):
        ...     y = y * 1.0001
        >>> twin, again = copy.deepcopy(y), pickle.loads(pickle.dumps(y))
        >>> twin.data == again.data == y.data, twin is not y, twin.parents[0] is not y.parents[0]
        (True, True, True)
        """
        keep = memo.setdefault(id(memo), [])  # copy.deepcopy's convention: the originals stay alive
        for node in topological_order(self):
            if id(node) not in memo:
                twin = memo[id(node)] = node.__copy__()
                a, b = node._a, node._b
                if a is not None and a.__class__ is not float:
                    twin._a = memo[id(a)]
                if b is not None and b.__class__ is not float:
                    twin._b = memo[id(b)]
                keep.append(node)
        return memo[id(self)]

    def __reduce__(self) -> tuple:
        """Pickle, flat: asked for an interior node, we give the pickler the whole graph as a list in
        topological order; asked then for each node of that list, a record whose parents it has
        written already. So it never recurses (a 10**6-node chain pickles) and shared nodes stay
        shared. The package itself never pickles: models are saved as JSON."""
        graph = getattr(_pickling, "graph", None)
        if graph is not None and graph[0]() is not None and id(self) in graph[1]:
            if self is graph[2]:  # the root's record comes last: this graph is written
                _pickling.graph = None
            return _restore, (self.data, self.grad, self.label, self.op, self._a, self._b)
        if self._a is None:
            return _restore, (self.data, self.grad, self.label, "", None, None)
        order = _Flat(topological_order(self))
        _pickling.graph = (weakref.ref(order), {id(n) for n in order}, self)
        return _last, (order,)

    # ---- micrograd's names ---------------------------------------------------------------------

    @property
    def _prev(self) -> tuple[Value, ...]:
        """micrograd's ``_prev`` (a set there): our ``parents``, a tuple in argument order."""
        return self.parents

    @property
    def _op(self) -> str:
        """micrograd's ``_op`` (``"+"``, ``"*"``, ``""`` for a leaf): our ``RULES[v.op].symbol``."""
        return RULES[self.op].symbol if self.op else ""

    @property
    def _backward(self) -> Any:
        """Not here: a property only to say so (a ``__getattr__`` would slow every attribute read)."""
        raise AttributeError(
            "Value has no _backward (micrograd's per-node closure): the derivatives live in one table, "
            "autograd_scalar.rules.RULES[v.op]; call v.backward(), or see each step with "
            "autograd_scalar.stepthrough.trace_backward(v)"
        )

    # ---- gradients -----------------------------------------------------------------------------

    def backward(self, gradient: Number = 1.0, *, check_finite: bool | None = None) -> None:
        """Add ``d self / d node`` to ``node.grad`` for every node of the graph below ``self``.

        ``self`` is seeded with ``gradient`` (1.0 unless given). Gradients *accumulate*: a node
        that feeds several others receives the sum of their contributions, and calling
        ``backward()`` twice leaves every ``.grad`` at twice one call's value (reset with
        ``zero_grad()`` in between, as in PyTorch). A ``.grad`` that the sum would take to inf
        raises FloatingPointError naming the node. A Value that ``self`` does not depend on is not
        in the graph: its ``.grad`` stays as it was (0.0 for a new one; PyTorch leaves None).

        With ``check_finite=True`` (or inside ``detect_anomaly()``) every contribution is checked
        and the first non-finite one raises, naming the node and the operation that produced it.

        >>> a = Value(3.0, label="a")
        >>> y = a * a + a
        >>> y.backward(); a.grad
        7.0
        >>> y.backward(); a.grad
        14.0
        >>> y.backward(gradient=0.5); a.grad      # seeded with 0.5: half of 7 more
        17.5
        """
        seed = _as_float("backward", gradient)
        _backpropagate(self, accumulate=True, wanted=(), create_graph=False, check_finite=check_finite, seed=seed)


_pickling = _thread._local()  # per thread: the graph whose records a pickler is writing


class _Flat(list):
    """A graph's nodes in topological order, weakly referenced: a pickle abandoned half way (a
    full disk) drops it, so what it left behind cannot be taken for a later pickle's."""

    __slots__ = ("__weakref__",)

    def __reduce__(self) -> tuple:
        return list, (list(self),)


def _restore(data: float, grad: float, label: str, op: str, a: Value | float | None, b: Value | float | None) -> Value:
    """One node from its fields: a pickled record (its parents restored already), or ``copy.copy``."""
    node = _new(Value)
    node.data, node.grad, node.label, node.op, node._a, node._b, node._mark = data, grad, label, op, a, b, None
    return node


def _last(nodes: list[Value]) -> Value:
    return nodes[-1]


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

    The caller holds ``_marks``. A node's ``_mark`` says how far this sort has got with it (a dict
    of states would cost ~50 bytes a node, the slot 8); the marks are objects made for this sort,
    so marks left by earlier sorts mean nothing.
    """
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
    seed: float = 1.0,
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
        root._mark = seed
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
                    total = node.grad + upstream  # .grad holds earlier passes too: check the sum, not the part
                    if not -_INF < total < _INF:
                        raise FloatingPointError(
                            f"backward: {describe(node)}'s .grad {node.grad!r} + this pass's {upstream!r} "
                            f"is {total!r}; reset the gradients between passes (zero_grad())"
                        )
                    node.grad = total
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
    plain = [x if x.__class__ is float else x.data for x in (local, upstream)]
    raise FloatingPointError(
        f"detect_anomaly: {describe(node)} sent the non-finite gradient {value!r} to its input {describe(parent)} "
        f"(local derivative {plain[0]!r} × upstream gradient {plain[1]!r})"
    )


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
    return tuple(g if isinstance(g, Value) else Value(g) for g in (found.get(x, 0.0) for x in inputs))


def _leaf(node: Value) -> Value:
    node.op, node._a, node._b = "", None, None
    return node


@contextmanager
def no_grad() -> Iterator[None]:
    """Inside ``with no_grad():`` operations return leaves (no op, no parents): no graph is kept.

    For evaluating or plotting a model, as in PyTorch. It works as a decorator too
    (``@no_grad()``), and it applies to every thread while it is on.

    >>> x = Value(2.0)
    >>> with no_grad():
    ...     y = (x * x).tanh()
    >>> y.op, y.parents, round(y.data, 4)
    ('', (), 0.9993)
    """
    with _hooked(make=_leaf):
        yield


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
